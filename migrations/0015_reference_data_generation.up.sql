-- 0015 reference data carries a generation, so the application can cache it and the database
-- still refuses a price computed from superseded data.
--
-- Rating reads base rates, territory factors, discount and surcharge rules and settings (the
-- discount cap) on every create and re-rate: a round trip and ~0.2 ms of server time for data
-- that changes a few times a month, through the four-eyes approval workflow. The repository now
-- keeps it in the process (quotedb_repository::reference) and learns of changes by LISTEN on the
-- channel quotedb_reference_data. Correctness does not depend on that notification arriving:
--
--   * reference_data_generation holds one number, bumped by a statement-level trigger on each of
--     the five tables whenever a statement changed at least one row (transition tables: a
--     statement that RLS or a WHERE left without rows bumps nothing), in the same transaction as
--     the change, which also NOTIFYs the new number (delivered at COMMIT);
--   * quote_versions.reference_generation records the generation a version was priced from, and
--     the rule quote_versions_reference_data_current refuses a version whose generation is not
--     the committed one when it is inserted (SQLSTATE 40001: the repository reloads its cache and
--     prices again, once, transparently).
--
-- A version priced from the cache at generation G and inserted while G is current is ordered
-- before any change that commits later: it read nothing that change wrote. The column is
-- nullable: rows written before this migration, the volume loader and the previous release's
-- code (which does not know it, through the 14-argument app_create_quote) write NULL and are not
-- checked. So the check protects cooperating writers from stale caches; it does not make a
-- hostile login price correctly (it supplies the premium anyway). Once no release without 0015
-- runs, a contract migration can drop the 14-argument overload and refuse NULL for new rows.
--
-- Online: a nullable column without default is a catalog change; the new table is empty but for
-- its one row. Reversible: the down migration drops what is created here.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE reference_data_generation (
    singleton boolean NOT NULL DEFAULT true,
    generation bigint NOT NULL DEFAULT 1,
    changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reference_data_generation_pkey PRIMARY KEY (singleton),
    CONSTRAINT reference_data_generation_singleton CHECK (singleton),
    CONSTRAINT reference_data_generation_positive CHECK (generation > 0),
    CONSTRAINT reference_data_generation_values_bounded
        CHECK (changed_at >= '1900-01-01 00:00:00+00' AND changed_at <= '9999-12-31 00:00:00+00')
);
COMMENT ON TABLE reference_data_generation IS
    'One row: the generation of the rating reference data (base_rates, territory_factors, discount_rules, surcharge_rules, system_settings), bumped by every statement that changes one of them; caches compare it (quote_versions_reference_data_current).';
COMMENT ON COLUMN reference_data_generation.generation IS
    'Bumped by one per changing statement, in its transaction; NOTIFY quotedb_reference_data carries the new value.';
COMMENT ON CONSTRAINT reference_data_generation_singleton ON reference_data_generation IS
    'The generation table holds exactly one row.';
COMMENT ON CONSTRAINT reference_data_generation_positive ON reference_data_generation IS
    'A reference data generation is a positive number.';
COMMENT ON CONSTRAINT reference_data_generation_values_bounded ON reference_data_generation IS
    'Every value can be read back: numbers are not NaN or infinite; times and dates lie between 1900-01-01 and 9999-12-31; e-mail addresses are at most 254 characters, names and identifiers 200, other text 2000; arrays hold at most 50 items; JSON documents are at most 64 KiB (binary jsonb).';
INSERT INTO reference_data_generation DEFAULT VALUES;

ALTER TABLE reference_data_generation ENABLE ROW LEVEL SECURITY;
ALTER TABLE reference_data_generation FORCE ROW LEVEL SECURITY;
CREATE POLICY reference_data_generation_read ON reference_data_generation FOR SELECT
    TO quotedb_app, quotedb_system, quotedb_readonly USING (true);
COMMENT ON POLICY reference_data_generation_read ON reference_data_generation IS
    'Every reader of reference data may read its generation (it reveals only how often it changed).';
-- Only the owner writes it: through reference_data_generation_bump_fn(), a trigger function.
CREATE POLICY reference_data_generation_owner_update ON reference_data_generation FOR UPDATE
    TO quotedb_owner USING (true) WITH CHECK (true);
COMMENT ON POLICY reference_data_generation_owner_update ON reference_data_generation IS
    'The owner (the trigger function reference_data_generation_bump_fn) bumps the generation; nobody else writes it.';
CREATE POLICY reference_data_generation_owner_select ON reference_data_generation FOR SELECT
    TO quotedb_owner USING (true);
COMMENT ON POLICY reference_data_generation_owner_select ON reference_data_generation IS
    'The owner reads the generation it bumps and checks.';
REVOKE ALL ON reference_data_generation FROM PUBLIC;
GRANT SELECT ON reference_data_generation TO quotedb_app, quotedb_system, quotedb_readonly;

-- Owner-run: the application login has no write privilege on the generation. A trigger function
-- cannot be called other than as a trigger. Names are qualified; search_path pinned.
--
-- Only changes that can move a price bump the generation: rows of base_rates and
-- territory_factors that are or were 'active', discount and surcharge rules that are or were
-- active, settings that are or were non-sensitive (what public_setting() and the cache read). A
-- proposal (status 'proposed'), an edit of a sensitive setting, or a statement that row level
-- security left without rows bumps nothing: every bump makes every in-flight price be computed
-- again, so the least trusted write permission must not be able to cause them at will.
--
-- The new generation is at least the current time in microseconds: after a restore or a failover
-- to a replica that missed the last bumps, numbers are not handed out again for other data (a
-- cache holding a number from the lost timeline never matches a new one).
CREATE FUNCTION reference_data_generation_bump_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $fn$
DECLARE
    v_generation bigint;
    v_priced     text := CASE TG_TABLE_NAME
                             WHEN 'base_rates' THEN $$status = 'active'$$
                             WHEN 'territory_factors' THEN $$status = 'active'$$
                             WHEN 'discount_rules' THEN 'active'
                             WHEN 'surcharge_rules' THEN 'active'
                             WHEN 'system_settings' THEN 'NOT is_sensitive'
                         END;
    v_matters    boolean := TG_OP = 'TRUNCATE';
BEGIN
    -- The transition tables exist only for their events: each is read in its own branch (a
    -- plpgsql statement is prepared when it first runs).
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows WHERE %s)', v_priced) INTO v_matters;
    END IF;
    IF NOT v_matters AND TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows WHERE %s)', v_priced) INTO v_matters;
    END IF;
    IF NOT v_matters THEN
        RETURN NULL;
    END IF;
    UPDATE public.reference_data_generation
    SET generation = greatest(generation + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint),
        changed_at = now()
    RETURNING generation INTO v_generation;
    PERFORM pg_notify('quotedb_reference_data', v_generation::text);
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION reference_data_generation_bump_fn() IS
    'Statement-level trigger: when the statement changed rows a price is computed from (active rates and rules, non-sensitive settings), bump reference_data_generation (to at least the time in microseconds) and NOTIFY quotedb_reference_data with it (sent at COMMIT).';

DO $triggers$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['base_rates', 'territory_factors', 'discount_rules', 'surcharge_rules', 'system_settings'] LOOP
        -- A trigger with transition tables takes one event; TRUNCATE has none.
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION reference_data_generation_bump_fn()',
                       t || '_maintain_reference_generation_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION reference_data_generation_bump_fn()',
                       t || '_maintain_reference_generation_upd', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION reference_data_generation_bump_fn()',
                       t || '_maintain_reference_generation_del', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                            FOR EACH STATEMENT EXECUTE FUNCTION reference_data_generation_bump_fn()',
                       t || '_maintain_reference_generation_trunc', t);
    END LOOP;
END
$triggers$;

-- The generation a version was priced from.
ALTER TABLE quote_versions ADD COLUMN reference_generation bigint;
COMMENT ON COLUMN quote_versions.reference_generation IS
    'The reference_data_generation the premium was computed from (NULL: before 0015, or a writer that does not say); checked on insert by quote_versions_reference_data_current.';

-- Invoker rights and no SET clause (a hot per-row path, like 0007's rule triggers): every role
-- that inserts versions reads the generation (grant and policy above); names are qualified.
CREATE FUNCTION quote_versions_reference_data_current_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current bigint := (SELECT g.generation FROM public.reference_data_generation g);
BEGIN
    IF NEW.reference_generation OPERATOR(pg_catalog.<>) v_current OR v_current IS NULL THEN
        RAISE EXCEPTION 'quote version priced from reference data generation %, the current one is %',
                        NEW.reference_generation, v_current
            USING ERRCODE = 'serialization_failure',
                  CONSTRAINT = 'quote_versions_reference_data_current',
                  HINT = 'reload the reference data and price again';
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION quote_versions_reference_data_current_fn() IS
    'Rule quote_versions_reference_data_current: a version that names the reference data generation it was priced from is inserted only while that generation is the committed one.';
CREATE TRIGGER quote_versions_reference_data_current BEFORE INSERT ON quote_versions
    FOR EACH ROW WHEN (NEW.reference_generation IS NOT NULL)
    EXECUTE FUNCTION quote_versions_reference_data_current_fn();
COMMENT ON TRIGGER quote_versions_reference_data_current ON quote_versions IS
    'A version priced from cached reference data is stored only while that data is still current (else SQLSTATE 40001).';

-- The one-round-trip create of 0008 with the generation its price was computed from.
CREATE FUNCTION app_create_quote(
    p_user_id uuid,
    p_customer_id uuid,
    p_agent_id uuid,
    p_state_code text,
    p_zip text,
    p_premium numeric,
    p_effective_date date,
    p_metadata jsonb,
    p_rating_inputs jsonb,
    p_breakdown jsonb,
    p_coverage_types coverage_type[],
    p_limits numeric[],
    p_deductibles numeric[],
    p_premiums numeric[],
    p_reference_generation bigint
) RETURNS SETOF quotes
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
    v_days   numeric := (jsonb_path_query_first(public.public_setting('quotes.validity_days'),
                                                '$ ? (@.type() == "number" && @ > 0)') #>> '{}')::numeric;
    v_quote  public.quotes;
BEGIN
    IF v_days IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    INSERT INTO public.quotes (customer_id, agent_id, state_code, zip, status, premium, current_version,
                               effective_date, expires_at, metadata)
    VALUES (p_customer_id, p_agent_id, p_state_code, p_zip, 'rated', p_premium, 1,
            p_effective_date, now() + interval '1 day' * v_days::float8, p_metadata)
    RETURNING * INTO v_quote;
    INSERT INTO public.quote_versions (quote_id, version, premium, rating_inputs, breakdown, reference_generation)
    VALUES (v_quote.id, v_quote.current_version, v_quote.premium, p_rating_inputs, p_breakdown,
            p_reference_generation);
    INSERT INTO public.quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
    SELECT v_quote.id, l.coverage_type, l.limit_amount, l.deductible, l.premium
    FROM unnest(p_coverage_types, p_limits, p_deductibles, p_premiums)
        AS l (coverage_type, limit_amount, deductible, premium);
    SET CONSTRAINTS public.quotes_current_version_in_step IMMEDIATE;
    SET CONSTRAINTS public.quotes_current_version_in_step DEFERRED;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
    RETURN NEXT v_quote;
END
$$;
COMMENT ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                     coverage_type[], numeric[], numeric[], numeric[], bigint) IS
    'Creates a rated quote with its version 1 (priced from reference data generation p_reference_generation, quote_versions_reference_data_current) and coverage lines as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be), under RLS and every rule; one round trip; no row when quotes.validity_days is not a positive number.';
REVOKE ALL ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                        coverage_type[], numeric[], numeric[], numeric[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                           coverage_type[], numeric[], numeric[], numeric[], bigint) TO quotedb_app;

-- Every non-sensitive setting in one read, for the cache (public_setting() reads one key).
CREATE FUNCTION public_settings()
    RETURNS TABLE (key text, value jsonb, value_type system_setting_value_type, description text,
                   updated_by uuid, updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $fn$
BEGIN
    RETURN QUERY
        SELECT s.key, s.value, s.value_type, s.description, s.updated_by, s.updated_at
        FROM public.system_settings s
        WHERE NOT s.is_sensitive
        ORDER BY s.key;
END
$fn$;
COMMENT ON FUNCTION public_settings() IS
    'Every non-sensitive setting (what public_setting() reveals one key at a time), for the reference data cache.';
REVOKE ALL ON FUNCTION public_settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public_settings() TO quotedb_app, quotedb_system;

SELECT hand_objects_to_owner();
