-- 0011_state_code_text_expand (up): state codes become text (step 1 of 4: expand).
--
-- Why: the state codes were char(2) (bpchar). A text parameter compared with a bpchar column
-- casts the column, not the parameter, so the index on it is not used unless every query casts
-- its parameter (`$1::bpchar`, the trap of rate resolution); squawk's ban-char-field. The rule
-- itself (two upper-case letters) is a CHECK already (states_code_format), so text loses nothing.
--
-- How, with quotes full of data and the previous release running (docs/migrations.md):
--   0011 (this) adds quotes.state_code_text, kept equal to state_code by a trigger on every
--        insert and update from now on (so an update by the previous release passes the new
--        check), and the procedure that fills the existing rows in batches;
--   0012 runs that procedure outside a transaction (a COMMIT per batch: short row locks only);
--   0013 swaps the columns and retypes the small reference tables (brief ACCESS EXCLUSIVE);
--   0014 validates the foreign keys 0013 re-created NOT VALID (no write-blocking lock).
-- Old code keeps working throughout: it never names state_code_text, and reads state_code as text.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE quotes ADD COLUMN state_code_text text;
COMMENT ON COLUMN quotes.state_code_text IS
    'Transitional (0011-0013): state_code as text, kept equal by quotes_state_code_text_sync and filled for older rows by quotedb_backfill_quotes_state_code_text(); becomes state_code in 0013.';

-- NOT VALID now (no scan); validated in 0013, where SET NOT NULL then needs no scan either.
ALTER TABLE quotes ADD CONSTRAINT quotes_state_code_text_present CHECK (state_code_text IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT quotes_state_code_text_present ON quotes IS
    'Transitional (0011-0013): every quote has its text state code before the columns are swapped.';

CREATE FUNCTION quotes_state_code_text_sync_fn() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    NEW.state_code_text := NEW.state_code;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION quotes_state_code_text_sync_fn() IS
    'Transitional (0011-0013): copies quotes.state_code into state_code_text on every insert and update (an update by a release that predates 0011 must pass quotes_state_code_text_present).';
REVOKE ALL ON FUNCTION quotes_state_code_text_sync_fn() FROM PUBLIC;

CREATE TRIGGER quotes_state_code_text_sync
    BEFORE INSERT OR UPDATE ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_state_code_text_sync_fn();

-- The backfill must not touch updated_at (a quote's last change is the customer's data): until
-- 0013, set_updated_at fires only for updates of the real columns.
DROP TRIGGER quotes_set_updated_at ON quotes;
CREATE TRIGGER quotes_set_updated_at
    BEFORE UPDATE OF id, quote_number, customer_id, agent_id, state_code, zip, status, premium, current_version,
        effective_date, expires_at, bound_at, metadata, created_at, updated_at
    ON quotes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A procedure (it commits per batch), so no SET search_path (that would forbid COMMIT): every
-- name is qualified. Invoker rights; EXECUTE only for the owner, who runs migrations.
CREATE PROCEDURE quotedb_backfill_quotes_state_code_text(batch integer DEFAULT 5000)
    LANGUAGE plpgsql
AS $$
DECLARE
    done_to uuid := '00000000-0000-0000-0000-000000000000';
    upto uuid;
BEGIN
    -- Walk the primary key in slices of `batch` rows (each an index range, never a rescan of
    -- what is done), filling the rows still without their copy; rows written meanwhile get
    -- theirs from quotes_state_code_text_sync. Row locks only (no key update: inserts of
    -- versions and coverage lines referencing a quote are not blocked), released at each COMMIT.
    LOOP
        SELECT s.id INTO upto
        FROM (SELECT id FROM public.quotes WHERE id > done_to ORDER BY id LIMIT batch) s
        ORDER BY s.id DESC LIMIT 1;
        EXIT WHEN upto IS NULL;
        UPDATE public.quotes q
        SET state_code_text = q.state_code
        WHERE q.id > done_to AND q.id <= upto AND q.state_code_text IS NULL;
        done_to := upto;
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE quotedb_backfill_quotes_state_code_text(integer) IS
    'Transitional (0011-0013): fills quotes.state_code_text walking the primary key in slices of `batch` rows, committing after each (run outside a transaction: migration 0012).';
REVOKE ALL ON PROCEDURE quotedb_backfill_quotes_state_code_text(integer) FROM PUBLIC;

SELECT hand_objects_to_owner();
