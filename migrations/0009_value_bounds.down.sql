-- Reverts 0009: drops the <table>_values_bounded constraints and the Argon2 floor.
ALTER TABLE oauth2_clients DROP CONSTRAINT oauth2_clients_secret_hash_owasp_minimum;
DO $unbound$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT c.conrelid::regclass AS rel, c.conname FROM pg_catalog.pg_constraint c
        WHERE c.connamespace = 'public'::regnamespace AND c.conname LIKE '%\_values\_bounded' AND c.conislocal
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.rel, k.conname);
    END LOOP;
END
$unbound$;
