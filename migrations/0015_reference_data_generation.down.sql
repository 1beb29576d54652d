-- 0015 down: reference data without a generation (the cache of quotedb_repository::reference
-- then has nothing to check against; the repository of this release needs 0015).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION public_settings();
DROP FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                               coverage_type[], numeric[], numeric[], numeric[], bigint);
DROP TRIGGER quote_versions_reference_data_current ON quote_versions;
DROP FUNCTION quote_versions_reference_data_current_fn();
ALTER TABLE quote_versions DROP COLUMN reference_generation;

DO $triggers$
DECLARE
    t text;
    op text;
BEGIN
    FOREACH t IN ARRAY ARRAY['base_rates', 'territory_factors', 'discount_rules', 'surcharge_rules', 'system_settings'] LOOP
        FOREACH op IN ARRAY ARRAY['ins', 'upd', 'del', 'trunc'] LOOP
            EXECUTE format('DROP TRIGGER %I ON %I', t || '_maintain_reference_generation_' || op, t);
        END LOOP;
    END LOOP;
END
$triggers$;
DROP FUNCTION reference_data_generation_bump_fn();
DROP TABLE reference_data_generation;
