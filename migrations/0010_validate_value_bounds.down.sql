-- Reverts 0010: the bounds of 0009 NOT VALID again (dropped and re-added from their own
-- definitions, with their comments), as 0009 left them.
DO $invalidate$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT c.conrelid::regclass AS rel, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS def,
               pg_catalog.obj_description(c.oid, 'pg_constraint') AS note
        FROM pg_catalog.pg_constraint c
        WHERE c.connamespace = 'public'::regnamespace AND c.convalidated AND c.contype = 'c' AND c.conislocal
          AND (c.conname LIKE '%\_values\_bounded' OR c.conname = 'oauth2_clients_secret_hash_owasp_minimum')
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.rel, k.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', k.rel, k.conname, k.def);
        EXECUTE format('COMMENT ON CONSTRAINT %I ON %s IS %L', k.conname, k.rel, k.note);
    END LOOP;
END
$invalidate$;
