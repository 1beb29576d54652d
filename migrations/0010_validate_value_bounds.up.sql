-- 0010 validates the constraints 0009 added NOT VALID, in a transaction of its own: VALIDATE
-- CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE, so reads and writes go on meanwhile
-- (0009's ADD ... NOT VALID held ACCESS EXCLUSIVE only for the catalog change). A row that breaks a
-- bound fails this migration with the table and constraint named: fix the row, run it again.
DO $validate$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT c.conrelid::regclass AS rel, c.conname FROM pg_catalog.pg_constraint c
        WHERE c.connamespace = 'public'::regnamespace AND NOT c.convalidated AND c.contype = 'c' AND c.conislocal
          AND (c.conname LIKE '%\_values\_bounded' OR c.conname = 'oauth2_clients_secret_hash_owasp_minimum')
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.rel, k.conname);
    END LOOP;
END
$validate$;
