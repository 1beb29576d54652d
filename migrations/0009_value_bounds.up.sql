-- 0009 values the application can read back, and OWASP's floor for OAuth client secret hashes.
--
-- Releases up to 0008 accepted values no reader expects: 'NaN' passes `premium > 0` (NaN sorts
-- above every number) and then every decode of that row fails; 'infinity' and year-294276 times
-- passed; text and JSON had no size limit (a 5 MB name, 20 MB of metadata went in). Every table
-- gets ONE constraint, <table>_values_bounded, over all its columns of those kinds:
--
--   numeric              not NaN, not +/-Infinity
--   timestamptz, date    between 1900-01-01 and 9999-12-31 (so finite)
--   daterange            a finite lower bound from 1900-01-01; an upper bound by 9999-12-31 or none
--   text, citext         at most 254 characters for e-mail, 200 for names and identifiers
--                        (NAME_COLUMNS below), 2000 for any other text
--   text[]               at most 50 elements
--   jsonb                at most 65536 bytes in jsonb's binary form (pg_column_size of the new
--                        value, measured before TOAST compresses it; no serialization to text,
--                        which cost +24 % on metric upserts and +31 % on notification claims)
--
-- Each bound is a flat AND of comparisons (no BETWEEN): 0010's down re-adds a constraint from its
-- deparsed definition, which must read back identically.
--
-- Online: the constraints are added NOT VALID here (a catalog change under a brief lock, no scan);
-- 0010 validates them in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on).
-- New rows are checked from this migration on. NUL bytes need no constraint: PostgreSQL text
-- cannot hold them (the repository refuses them as InvalidInput before sending).

DO $bounds$
DECLARE
    t record;
    c record;
    clauses text[];
    name_columns constant text[] := ARRAY[
        'full_name', 'first_name', 'last_name', 'make', 'model', 'name', 'city', 'event_type',
        'metric', 'server_node', 'locked_by', 'template', 'action', 'resource_type', 'resource_id',
        'entity_type', 'entity_id', 'code', 'key', 'request_id', 'quote_number', 'zip', 'phone',
        'license_number_key_id',
        'client_secret_key_id', 'secret_hash'];
BEGIN
    FOR t IN
        SELECT cl.oid, cl.relname FROM pg_catalog.pg_class cl
        WHERE cl.relnamespace = 'public'::regnamespace AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition
          AND cl.relname <> '_sqlx_migrations'
        ORDER BY cl.relname
    LOOP
        clauses := ARRAY[]::text[];
        FOR c IN
            SELECT a.attname, a.atttypid::regtype::text AS ty
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
        LOOP
            clauses := clauses || CASE
                WHEN c.ty = 'numeric' THEN
                    format('%1$I <> ''NaN''::numeric AND %1$I < ''Infinity''::numeric AND %1$I > ''-Infinity''::numeric', c.attname)
                WHEN c.ty = 'timestamp with time zone' THEN
                    format('%1$I >= ''1900-01-01 00:00:00+00''::timestamptz AND %1$I <= ''9999-12-31 00:00:00+00''::timestamptz', c.attname)
                WHEN c.ty = 'date' THEN
                    format('%1$I >= ''1900-01-01''::date AND %1$I <= ''9999-12-31''::date', c.attname)
                WHEN c.ty = 'daterange' THEN
                    format('lower(%1$I) >= ''1900-01-01''::date AND (upper_inf(%1$I) OR upper(%1$I) <= ''9999-12-31''::date)', c.attname)
                WHEN c.ty = 'citext' OR c.attname = 'email' THEN
                    format('char_length(%I::text) <= 254', c.attname)
                WHEN c.ty = 'text' AND c.attname = ANY (name_columns) THEN
                    format('char_length(%I) <= 200', c.attname)
                WHEN c.ty = 'text' THEN
                    format('char_length(%I) <= 2000', c.attname)
                WHEN c.ty = 'text[]' THEN
                    format('cardinality(%I) <= 50', c.attname)
                WHEN c.ty = 'jsonb' THEN
                    format('pg_column_size(%I) <= 65536', c.attname)
            END;
        END LOOP;
        clauses := array_remove(clauses, NULL);
        CONTINUE WHEN cardinality(clauses) = 0;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%s) NOT VALID',
                       t.relname, t.relname || '_values_bounded', array_to_string(clauses, ' AND '));
        EXECUTE format('COMMENT ON CONSTRAINT %I ON %I IS %L', t.relname || '_values_bounded', t.relname,
                       'Every value can be read back: numbers are not NaN or infinite; times and dates lie between 1900-01-01 and 9999-12-31; e-mail addresses are at most 254 characters, names and identifiers 200, other text 2000; arrays hold at most 50 items; JSON documents are at most 64 KiB (binary jsonb).');
    END LOOP;
END
$bounds$;

ALTER TABLE oauth2_clients ADD CONSTRAINT oauth2_clients_secret_hash_owasp_minimum CHECK (
    secret_hash IS NULL OR (
        substring(secret_hash FROM '\$m=([0-9]{1,9}),')::integer >= 19456
        AND substring(secret_hash FROM ',t=([0-9]{1,9}),')::integer >= 2
        AND substring(secret_hash FROM ',p=([0-9]{1,9})\$')::integer >= 1)) NOT VALID;
COMMENT ON CONSTRAINT oauth2_clients_secret_hash_owasp_minimum ON oauth2_clients IS
    'A client secret hash uses at least OWASP''s minimum Argon2 cost: m=19456 KiB, t=2, p=1.';

SELECT hand_objects_to_owner();
