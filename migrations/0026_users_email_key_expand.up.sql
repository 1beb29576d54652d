-- 0026 users.email_key, the e-mail address as a key an index serves under row level security
-- (step 1 of 3: expand).
--
-- Why: users.email is citext, and citext equality (citext_eq) is not leakproof. Under the users
-- policies the planner may not evaluate `email = $1` before them, so for quotedb_app a lookup by
-- e-mail read every row of users (Seq Scan, found by review; users_email_unique served only the
-- system actor). texteq is leakproof: `email_key = lower($1)` is an index condition for every role.
-- email_key is lower(email::text), which is how citext compares (lower() under the column's
-- collation), so the key matches exactly the addresses citext equality matches.
--
-- How, with users full of data and the previous release running (docs/migrations.md):
--   0026 (this) adds the column, kept equal to lower(email) by a trigger on every insert and
--        update from now on, and the procedure that fills the existing rows in batches;
--   0027 runs that procedure outside a transaction (a COMMIT per batch: short row locks only);
--   0028 builds the index without blocking writes;
--   0029 reads by it (app_user_by_email).
-- Old code keeps working throughout: it never names email_key.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE users ADD COLUMN email_key text;
COMMENT ON COLUMN users.email_key IS
    'lower(email): the address as a lookup key an index serves under row level security (citext equality is not leakproof); set by users_maintain_email_key on every insert and update, never by the caller.';

-- No SET search_path (a trigger on every user write): every name is qualified.
CREATE FUNCTION users_maintain_email_key_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.email_key := pg_catalog.lower(NEW.email::pg_catalog.text);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION users_maintain_email_key_fn() IS
    'Sets users.email_key to lower(email) on every insert and update: whatever the caller wrote there is replaced.';
REVOKE ALL ON FUNCTION users_maintain_email_key_fn() FROM PUBLIC;

CREATE TRIGGER users_maintain_email_key
    BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_maintain_email_key_fn();

-- The backfill must not touch updated_at (a user's last change is their data): until 0029,
-- set_updated_at fires only for updates of the release's columns.
DROP TRIGGER users_set_updated_at ON users;
CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE OF id, email, full_name, role, phone, created_at, updated_at
    ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A procedure (it commits per batch), so no SET search_path (that would forbid COMMIT): every
-- name is qualified. Invoker rights; EXECUTE only for the owner, who runs migrations.
CREATE PROCEDURE quotedb_backfill_users_email_key(batch integer DEFAULT 5000)
    LANGUAGE plpgsql
AS $$
DECLARE
    done_to uuid := '00000000-0000-0000-0000-000000000000';
    upto uuid;
BEGIN
    -- Walk the primary key in slices of `batch` rows, filling the rows still without their key;
    -- rows written meanwhile get theirs from users_maintain_email_key. Row locks only, released at
    -- each COMMIT.
    LOOP
        SELECT s.id INTO upto
        FROM (SELECT id FROM public.users WHERE id > done_to ORDER BY id LIMIT batch) s
        ORDER BY s.id DESC LIMIT 1;
        EXIT WHEN upto IS NULL;
        UPDATE public.users u
        SET email_key = pg_catalog.lower(u.email::pg_catalog.text)
        WHERE u.id > done_to AND u.id <= upto AND u.email_key IS NULL;
        done_to := upto;
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE quotedb_backfill_users_email_key(integer) IS
    'Transitional (0026-0027): fills users.email_key for the rows written before 0026, batch rows per transaction.';
REVOKE ALL ON PROCEDURE quotedb_backfill_users_email_key(integer) FROM PUBLIC;

SELECT hand_objects_to_owner();
