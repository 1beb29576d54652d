-- 0016 audit rows can be appended in batches: append_audit_logs(), one statement for many rows.
--
-- Audit rows are, with analytics events, the platform's highest-volume writes. The application
-- login has no INSERT on audit_logs (0007): it appends through append_audit_log(), one row and
-- one round trip at a time. append_audit_logs() is its batch form, with every rule kept:
--
--   * it only appends (INSERT into audit_logs, nothing else; UPDATE, DELETE and TRUNCATE stay
--     refused by audit_logs_append_only / audit_logs_no_truncate for every role);
--   * occurred_at is not a parameter: every row is stamped with the database's time (the
--     column default, now(): the whole batch carries the transaction's time);
--   * the actor is one argument for the whole batch, taken as given, exactly as
--     append_audit_log() takes it (a user that exists - audit_logs_actor_user_fk - or NULL for
--     the system); it can name no more than append_audit_log() can;
--   * every row passes the table's checks (audit_logs_action_format, ..._entity_type_format,
--     ..._entity_id_format, ..._request_id_format, ..._values_are_objects); one refused row
--     refuses the statement, so a batch is all or nothing;
--   * the per-entry arrays are one-dimensional, of one length, at most 10000 entries (the
--     repository's audit::MAX_BATCH): anything else is refused (22023) before a row is written,
--     as ROWS FROM would otherwise pad the shorter arrays with NULLs.
--
-- SECURITY DEFINER (the owner appends, as for append_audit_log()), search_path pinned, names
-- qualified; EXECUTE for the roles that append audit rows (quotedb_app, quotedb_system) only.
--
-- And two of audit_logs' format rules are rewritten, same names, same rule, cheaper to check.
-- Measured on the bench database (EXPLAIN ANALYZE of a 1,000-row INSERT into audit_logs): 55 ms
-- in the INSERT node, 47 ms of it with no index and no foreign key at all (an unlogged copy), and
-- `('<uuid>-n' ~ '^\S{1,200}$')` alone 76 ms per 1,000 rows: PostgreSQL's regex engine expands
-- the bounded repetition {1,200} into 200 states, ~50-75 µs a row (request_id's {1,128}: ~8 µs).
-- The same rules without bounded repetition (any whitespace / a character outside the set, and
-- the length) take under 1 µs; the INSERT node drops to ~11 ms, the statement from ~60 to ~15 ms:
--
--   audit_logs_entity_id_format   ^\S{1,200}$            -> no whitespace, 1-200 characters
--   audit_logs_request_id_format  ^[A-Za-z0-9._:-]{1,128}$ -> only those characters, 1-128 of them
--
-- Each is dropped and re-added NOT VALID (recursing to every partition): new rows are checked at
-- once; 0022 validates them in its own transaction (SHARE UPDATE EXCLUSIVE: appends go on during
-- the scan, which the old identical rule guarantees to pass).
--
-- Online: catalog changes under a brief lock, no scan here. Reversible: the down migration drops the function and
-- restores the rules' previous expressions.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- Replaced by the same rule, same name, in the next statement:
-- squawk-ignore ban-drop-constraint
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_entity_id_format;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_entity_id_format
    CHECK (entity_id !~ '\s' AND char_length(entity_id) BETWEEN 1 AND 200) NOT VALID;
COMMENT ON CONSTRAINT audit_logs_entity_id_format ON audit_logs IS 'An audited entity id is 1-200 characters without whitespace.';
-- Replaced by the same rule, same name, in the next statement:
-- squawk-ignore ban-drop-constraint
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_request_id_format;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_request_id_format
    CHECK (request_id ~ '^[A-Za-z0-9._:-]+$' AND char_length(request_id) <= 128) NOT VALID;
COMMENT ON CONSTRAINT audit_logs_request_id_format ON audit_logs IS 'A request id is 1-128 letters, digits, dots, underscores, colons or hyphens.';

CREATE FUNCTION append_audit_logs(
    p_actor_user_id uuid, p_actions text[], p_entity_types text[], p_entity_ids text[],
    p_old_values jsonb[], p_new_values jsonb[], p_ips inet[], p_request_ids text[]
) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    n integer := pg_catalog.cardinality(p_actions);
    appended bigint;
BEGIN
    IF n IS NULL
       OR n > 10000
       OR (n > 0 AND pg_catalog.array_ndims(p_actions) IS DISTINCT FROM 1)
       OR pg_catalog.cardinality(p_entity_types) IS DISTINCT FROM n
       OR pg_catalog.cardinality(p_entity_ids) IS DISTINCT FROM n
       OR pg_catalog.cardinality(p_old_values) IS DISTINCT FROM n
       OR pg_catalog.cardinality(p_new_values) IS DISTINCT FROM n
       OR pg_catalog.cardinality(p_ips) IS DISTINCT FROM n
       OR pg_catalog.cardinality(p_request_ids) IS DISTINCT FROM n
       OR (n > 0 AND (pg_catalog.array_ndims(p_entity_types) <> 1
                      OR pg_catalog.array_ndims(p_entity_ids) <> 1
                      OR pg_catalog.array_ndims(p_old_values) <> 1
                      OR pg_catalog.array_ndims(p_new_values) <> 1
                      OR pg_catalog.array_ndims(p_ips) <> 1
                      OR pg_catalog.array_ndims(p_request_ids) <> 1))
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'append_audit_logs: the entry arrays must be one-dimensional, of one length, at most 10000 entries';
    END IF;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO public.audit_logs (actor_user_id, action, entity_type, entity_id, old_values, new_values, ip, request_id)
    SELECT p_actor_user_id, e.action, e.entity_type, e.entity_id, e.old_values, e.new_values, e.ip, e.request_id
    FROM ROWS FROM (pg_catalog.unnest(p_actions), pg_catalog.unnest(p_entity_types), pg_catalog.unnest(p_entity_ids),
                    pg_catalog.unnest(p_old_values), pg_catalog.unnest(p_new_values), pg_catalog.unnest(p_ips),
                    pg_catalog.unnest(p_request_ids))
         AS e(action, entity_type, entity_id, old_values, new_values, ip, request_id);
    GET DIAGNOSTICS appended = ROW_COUNT;
    RETURN appended;
END
$$;
COMMENT ON FUNCTION append_audit_logs(uuid, text[], text[], text[], jsonb[], jsonb[], inet[], text[]) IS
    'Appends a batch of audit rows (entry i = element i of each array; one-dimensional arrays of one length, at most 10000) acted by one actor, all stamped with the database time (occurred_at = now()), all or none; returns how many. The batch form of append_audit_log(), under the same rules.';
REVOKE ALL ON FUNCTION append_audit_logs(uuid, text[], text[], text[], jsonb[], jsonb[], inet[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_audit_logs(uuid, text[], text[], text[], jsonb[], jsonb[], inet[], text[])
    TO quotedb_app, quotedb_system;

SELECT hand_objects_to_owner();
