-- 0007 least privilege: the database holds against its own application login.
--
-- Released 0001-0006 trusted whoever connected as a member of quotedb_app. This migration fixes
-- that forward, on tables full of data (it only changes catalog entries: no rewrite, no scan):
--
-- 1. Roles. quotedb_owner (NOLOGIN, not a superuser) owns every object; migrations run as a login
--    that is a member of it. quotedb_system (NOLOGIN) is system work (expiry sweeps, notification
--    delivery, partition maintenance, seeds): a login must be GRANTed it, a setting no longer makes
--    anyone "system" (app_is_system() now asks for membership of quotedb_system; app.system is
--    ignored). quotedb_app stays the actor role of the application login.
-- 2. Definer functions are owned by quotedb_owner (not the superuser that ran 0001-0006), their
--    search_path ends with pg_temp (or they qualify every name), EXECUTE only where needed.
-- 3. Every function that reads a table pins search_path = pg_catalog, public, pg_temp: a temp table
--    or temp type can no longer shadow what a rule trigger reads.
-- 4. Row level security, enabled and forced, on every table quotedb_app may write, with a policy
--    per command and actor kind; admin, rating and identity data need the matching admin
--    permission; writes the application never makes are not granted at all.
-- 5. Frozen and one-way columns: a quote's priced terms, session and OAuth client revocations.
-- 6. Append-only audit: TRUNCATE refused, occurred_at set by the database, detaching is the
--    system role's and never below audit.retention_months, detached months stay append-only.
--
-- Convention from here on: a migration runs as a login that is a member of quotedb_owner and
-- ends with SELECT hand_objects_to_owner(), so what it created is owned by quotedb_owner
-- (crates/schema/tests/security_catalog.rs fails otherwise).

-- ---------------------------------------------------------------------------------------------
-- 1. Roles (cluster-wide, idempotent, never dropped by down: other databases share them)
-- ---------------------------------------------------------------------------------------------
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['quotedb_owner', 'quotedb_system'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    -- The owner acts as the system for its own definer functions and for the seeds: the
    -- *_system policies below apply to it through membership.
    IF NOT pg_catalog.pg_has_role('quotedb_owner', 'quotedb_system', 'MEMBER') THEN
        GRANT quotedb_system TO quotedb_owner;
    END IF;
    -- The login running the migrations must be able to hand objects to the owner role.
    IF NOT pg_catalog.pg_has_role(current_user, 'quotedb_owner', 'MEMBER') THEN
        EXECUTE format('GRANT quotedb_owner TO %I', current_user);
    END IF;
END
$roles$;

-- (What the roles are for is in docs/security.md: COMMENT ON ROLE needs ADMIN on the role, which
-- a migration login that is only a member of quotedb_owner does not have.)
GRANT USAGE, CREATE ON SCHEMA public TO quotedb_owner;
GRANT USAGE ON SCHEMA public TO quotedb_system;

-- ---------------------------------------------------------------------------------------------
-- 2. Ownership: every relation, function and type of the schema to quotedb_owner
-- ---------------------------------------------------------------------------------------------
-- One function hands every relation, routine and type of the schema that the owner role does not
-- own yet to it. Invoker: it runs as the migration login, which owns what it just created. This
-- migration calls it last, and so does every later migration (see the header).
CREATE FUNCTION hand_objects_to_owner() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $fn$
DECLARE
    o record;
    n integer := 0;
BEGIN
    FOR o IN
        SELECT format('ALTER %s %s OWNER TO quotedb_owner',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                      c.oid::regclass) AS ddl
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relname <> '_sqlx_migrations' AND c.relowner <> 'quotedb_owner'::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO quotedb_owner', p.oid::regprocedure)
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'quotedb_owner'::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('ALTER TYPE %s OWNER TO quotedb_owner', t.oid::regtype)
        FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
          AND t.typowner <> 'quotedb_owner'::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE o.ddl;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION hand_objects_to_owner() IS
    'Migration helper: gives every table, view, routine and type of schema public to quotedb_owner; returns how many changed owner. Every migration from 0007 on ends by calling it.';
REVOKE ALL ON FUNCTION hand_objects_to_owner() FROM PUBLIC;


-- ---------------------------------------------------------------------------------------------
-- 3. "System" is a role, not a setting
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app_is_system() RETURNS boolean
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $fn$
    SELECT pg_catalog.pg_has_role('quotedb_system', 'USAGE')
$fn$;
COMMENT ON FUNCTION app_is_system() IS
    'True when the current role has the privileges of quotedb_system (worker and maintenance logins, the owner). The app.system setting of releases up to 0006 means nothing any more: a session cannot make itself the system.';

-- The system actor's policies now name the system role itself.
ALTER POLICY quotes_system_all ON quotes TO quotedb_system USING (true) WITH CHECK (true);
ALTER POLICY user_sessions_system_all ON user_sessions TO quotedb_system USING (true) WITH CHECK (true);
ALTER POLICY oauth2_clients_system_all ON oauth2_clients TO quotedb_system USING (true) WITH CHECK (true);
ALTER POLICY admin_users_system_all ON admin_users TO quotedb_system USING (true) WITH CHECK (true);
ALTER POLICY system_settings_system_all ON system_settings TO quotedb_system USING (true) WITH CHECK (true);
ALTER POLICY admin_activity_logs_system_insert ON admin_activity_logs TO quotedb_system WITH CHECK (true);
ALTER POLICY admin_activity_logs_system_select ON admin_activity_logs TO quotedb_system USING (true);
ALTER POLICY quote_versions_via_quote_select ON quote_versions TO quotedb_app, quotedb_system;
ALTER POLICY quote_versions_via_quote_insert ON quote_versions TO quotedb_app, quotedb_system;
ALTER POLICY quote_coverages_via_quote_select ON quote_coverages TO quotedb_app, quotedb_system;
ALTER POLICY quote_coverages_via_quote_insert ON quote_coverages TO quotedb_app, quotedb_system;
ALTER POLICY quote_coverages_via_quote_update ON quote_coverages TO quotedb_app, quotedb_system;
ALTER POLICY quote_coverages_via_quote_delete ON quote_coverages TO quotedb_app, quotedb_system;
ALTER POLICY admin_users_definer_select ON admin_users TO quotedb_owner;
ALTER POLICY system_settings_owner_public_select ON system_settings TO quotedb_owner;
COMMENT ON POLICY quotes_system_all ON quotes IS 'The system role (workers, maintenance) sees and changes every quote.';

-- ---------------------------------------------------------------------------------------------
-- 4. Definer functions: pg_temp last, owner-run, EXECUTE only where needed
-- ---------------------------------------------------------------------------------------------
-- The owner holds quotedb_system, so these lookups see the rows they need without switching
-- any setting on.
CREATE OR REPLACE FUNCTION session_by_token_hash(p_token_hash bytea)
    RETURNS TABLE (id uuid, user_id uuid, ip inet, user_agent text, created_at timestamptz,
                   last_seen_at timestamptz, expires_at timestamptz, email text, full_name text, role user_role)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT s.id, s.user_id, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
               u.email::text, u.full_name, u.role
        FROM public.user_sessions s
        JOIN public.users u ON u.id = s.user_id
        WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now();
END
$$;

CREATE OR REPLACE FUNCTION setting_is_sensitive(p_key text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RETURN (SELECT s.is_sensitive FROM public.system_settings s WHERE s.key = p_key);
END
$$;

ALTER FUNCTION admin_role_held_permissions_rebuild() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION audit_log_default_partition_rows() SET search_path = pg_catalog, public, pg_temp;

-- The rule triggers on the quote write path (create, re-rate, transition) read tables on every row
-- of every quote write: they name every relation and type schema-qualified instead of pinning
-- search_path (a SET clause costs a GUC save / set / restore per call: measured about +55 % on
-- quote creation and +70 % on re-rating with all of them pinned). A temporary table or type in
-- pg_temp cannot stand in for a qualified name, and pg_temp is never searched for functions or
-- operators. quotes_party_role_fn checks a quote's parties against users, which is now under row
-- level security: as the invoker the check would not see an agent the customer may not read, and
-- skip itself, so it runs as the owner (it only reads users.role; PostgreSQL calls a trigger
-- function only as a trigger). quotes_current_version_in_step_fn and quote_coverages_editable_fn
-- run as the owner for the same reason: read under the caller's row level security, a quote the
-- caller hides from them (by clearing app.user_id before COMMIT, say) would pass unchecked.
CREATE OR REPLACE FUNCTION quotes_party_role_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_expected public.user_role;
    v_user     pg_catalog.uuid;
    v_role     public.user_role;
BEGIN
    IF TG_NAME = 'quotes_customer_is_customer' THEN
        v_expected := 'customer';
        v_user := NEW.customer_id;
    ELSE
        v_expected := 'agent';
        v_user := NEW.agent_id;
    END IF;
    IF v_user IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT u.role INTO v_role FROM public.users u WHERE u.id = v_user;
    -- Unknown user: let the foreign key report it.
    IF FOUND AND v_role <> v_expected THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = TG_NAME,
            MESSAGE = format('user %s has role %s, not %s', v_user, v_role, v_expected),
            DETAIL = format('quote %s: %s must reference a user with role %s',
                            NEW.id, CASE v_expected WHEN 'customer' THEN 'customer_id' ELSE 'agent_id' END,
                            v_expected);
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION quotes_status_transition_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.status = OLD.status AND NEW.current_version = OLD.current_version THEN
        RETURN NEW;
    END IF;
    IF NEW.current_version <> OLD.current_version
       AND (NEW.current_version <> OLD.current_version + 1 OR NEW.status <> 'rated') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_status_transition',
            MESSAGE = format('quote %s: a rating adds exactly one version and leaves the quote rated',
                             NEW.id),
            DETAIL = format('%s -> %s with current_version %s -> %s',
                            OLD.status, NEW.status, OLD.current_version, NEW.current_version);
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM public.quote_status_transitions t
        WHERE t.from_status = OLD.status AND t.to_status = NEW.status
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_status_transition',
            MESSAGE = format('quote %s cannot move from %s to %s', NEW.id, OLD.status, NEW.status),
            DETAIL = 'allowed moves are listed in quote_status_transitions',
            HINT = CASE WHEN OLD.status IN ('bound', 'expired', 'declined', 'cancelled')
                        THEN format('%s is a terminal status', OLD.status)
                        ELSE format('allowed from %s: %s', OLD.status,
                                    (SELECT string_agg(t.to_status::text, ', ' ORDER BY t.to_status)
                                     FROM public.quote_status_transitions t WHERE t.from_status = OLD.status))
                   END;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION quote_versions_contiguous_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_max     integer;
BEGIN
    SELECT q.current_version INTO v_current
    FROM public.quotes q WHERE q.id = NEW.quote_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s not found: cannot add version %s', NEW.quote_id, NEW.version);
    END IF;
    -- The latest version by one backward probe of quote_versions_quote_version_unique, not max():
    -- under row level security every version row passes the policy check, and max() would check
    -- all of a quote's versions on every rating (ORDER BY ... LIMIT 1 checks one).
    SELECT coalesce((SELECT v.version FROM public.quote_versions v WHERE v.quote_id = NEW.quote_id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF NEW.version <> v_max + 1 OR NEW.version <> v_current THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s: version %s is not the next version', NEW.quote_id, NEW.version),
            DETAIL = format('latest version is %s and quotes.current_version is %s; expected %s = current_version',
                            v_max, v_current, v_max + 1),
            HINT = 'bump quotes.current_version (WHERE current_version = expected) before inserting the version';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION quotes_current_version_in_step_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_current integer;
    v_premium numeric(12,2);
    v_max     integer;
    v_vprem   numeric(12,2);
BEGIN
    SELECT q.current_version, q.premium INTO v_current, v_premium
    FROM public.quotes q WHERE q.id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted later in the same transaction
    END IF;
    -- One backward index probe, not max() (see quote_versions_contiguous_fn).
    SELECT coalesce((SELECT v.version FROM public.quote_versions v WHERE v.quote_id = NEW.id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF v_current <> v_max THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_current_version_in_step',
            MESSAGE = format('quote %s: current_version %s but latest version is %s', NEW.id, v_current, v_max),
            HINT = 'insert the quote_versions row for the bumped version in the same transaction';
    END IF;
    IF v_current > 0 THEN
        SELECT v.premium INTO v_vprem FROM public.quote_versions v
        WHERE v.quote_id = NEW.id AND v.version = v_current;
    END IF;
    IF v_premium IS DISTINCT FROM v_vprem THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_current_version_in_step',
            MESSAGE = format('quote %s: premium %s differs from the premium %s of its current version %s',
                             NEW.id, coalesce(v_premium::text, 'NULL'), coalesce(v_vprem::text, 'NULL'), v_current),
            HINT = 'a premium changes only by rating: bump current_version and insert a version';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION quote_coverages_editable_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_status  public.quote_status;
    v_problem pg_catalog.text;
BEGIN
    -- Closed quotes: nothing changes. Rated quotes: a line is added only by the transaction that
    -- created the quote (the create path), never removed, and only its premium changes (re-rating);
    -- its cover (type, limit, deductible) was priced and stays. Read as the owner: a caller's row
    -- level security must not hide the quote from the rule.
    SELECT q.id, q.status,
           CASE
               WHEN q.status NOT IN ('draft', 'rated') THEN pg_catalog.format('quote is %s', q.status)
               WHEN q.status = 'draft' THEN NULL
               WHEN TG_OP = 'DELETE' THEN 'a rated quote keeps its lines'
               WHEN TG_OP = 'INSERT' AND q.xmin OPERATOR(pg_catalog.<>) pg_catalog.xid(pg_catalog.pg_current_xact_id())
                   THEN 'lines are added to a rated quote only when it is created'
               WHEN TG_OP = 'UPDATE' AND (NEW.quote_id, NEW.coverage_type, NEW.limit_amount, NEW.deductible)
                        IS DISTINCT FROM (OLD.quote_id, OLD.coverage_type, OLD.limit_amount, OLD.deductible)
                   THEN 'the cover of a rated quote was priced: only the premium changes, by re-rating'
           END
      INTO v_quote, v_status, v_problem
    FROM public.quotes q
    WHERE q.id = ANY (ARRAY[OLD.quote_id, NEW.quote_id])
    ORDER BY q.status = 'draft'
    LIMIT 1;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = pg_catalog.format('coverages of quote %s cannot change: %s', v_quote, v_problem),
            DETAIL = 'coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$fn$;

-- Every other function that reads a table, on colder paths, pins its search_path with pg_temp
-- last: temporary tables and types can no longer stand in for the ones a rule reads. (Functions
-- that read no table - set_updated_at, generate_quote_number, text_array_all_match,
-- metric_bucket_interval, the append-only and frozen-terms checks of OLD/NEW - need neither.)
DO $pin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proconfig IS NULL AND NOT p.prosecdef
          AND (p.prorettype = 'trigger'::regtype OR p.proname = 'apply_rate_change_request')
          AND p.proname NOT IN ('set_updated_at', 'quotes_status_transition_fn', 'quote_versions_contiguous_fn',
                                'quotes_current_version_in_step_fn', 'quote_coverages_editable_fn')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
    END LOOP;
END
$pin$;

-- Audit partitions: create and detach are maintenance (the system role), not the application's.
-- Detaching never goes below audit.retention_months, and a detached month keeps its append-only
-- triggers (DETACH drops the ones cloned from audit_logs).
CREATE FUNCTION audit_logs_no_truncate_fn() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = TG_NAME,
        MESSAGE = format('%s is append-only: TRUNCATE refused', TG_TABLE_NAME),
        HINT = 'Old months leave audit_logs by detach_audit_log_partitions(), never by TRUNCATE.';
END
$$;
COMMENT ON FUNCTION audit_logs_no_truncate_fn() IS
    'Trigger function of audit_logs_no_truncate and admin-free append-only tables: refuses TRUNCATE.';
REVOKE ALL ON FUNCTION audit_logs_no_truncate_fn() FROM PUBLIC;

CREATE FUNCTION audit_logs_protect_partition(p_table regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_logs_no_truncate_fn()', p_table);
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = p_table AND t.tgname = 'audit_logs_append_only') THEN
        EXECUTE format('CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON %s
                        FOR EACH ROW EXECUTE FUNCTION public.audit_logs_append_only_fn()', p_table);
    END IF;
END
$$;
COMMENT ON FUNCTION audit_logs_protect_partition(regclass) IS
    'Gives an audit_logs partition (attached or detached) the append-only triggers of its own: audit_logs_no_truncate, and audit_logs_append_only when it has no cloned one.';
REVOKE ALL ON FUNCTION audit_logs_protect_partition(regclass) FROM PUBLIC;

CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_no_truncate_fn();
COMMENT ON TRIGGER audit_logs_no_truncate ON audit_logs IS
    'Audit rows are append-only: TRUNCATE is refused, for the owner too (also on every partition).';
DO $parts$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i WHERE i.inhparent = 'public.audit_logs'::regclass LOOP
        PERFORM audit_logs_protect_partition(p);
    END LOOP;
END
$parts$;

CREATE OR REPLACE FUNCTION create_audit_log_partitions(months_ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    this_month constant timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    lo         timestamptz;
    hi         timestamptz;
    part       text;
    created    integer := 0;
BEGIN
    IF months_ahead IS NULL OR months_ahead NOT BETWEEN 0 AND 36 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 36, got %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Concurrent callers would race to create the same partition.
    PERFORM pg_advisory_xact_lock(hashtext('create_audit_log_partitions'));

    FOR i IN 0 .. months_ahead LOOP
        lo := this_month + make_interval(months => i);
        hi := lo + interval '1 month';
        part := format('audit_logs_y%sm%s', to_char(lo AT TIME ZONE 'UTC', 'YYYY'), to_char(lo AT TIME ZONE 'UTC', 'MM'));
        CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;

        IF EXISTS (SELECT FROM public.audit_logs_default WHERE occurred_at >= lo AND occurred_at < hi) THEN
            -- The DEFAULT partition holds rows of this month: attaching the month would violate
            -- the default's new constraint. Move them into the new table first, then attach.
            EXECUTE format('CREATE TABLE public.%I (LIKE public.audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            ALTER TABLE public.audit_logs_default DISABLE TRIGGER audit_logs_append_only;
            EXECUTE format(
                'WITH moved AS (DELETE FROM public.audit_logs_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                 INSERT INTO public.%I SELECT * FROM moved', part) USING lo, hi;
            ALTER TABLE public.audit_logs_default ENABLE TRIGGER audit_logs_append_only;
            EXECUTE format('ALTER TABLE public.audit_logs ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        ELSE
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.audit_logs FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        END IF;
        PERFORM public.audit_logs_protect_partition(format('public.%I', part)::regclass);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION detach_audit_log_partitions(retention_months integer) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_floor integer := (SELECT (s.value #>> '{}')::integer FROM public.system_settings s
                        WHERE s.key = 'audit.retention_months' AND jsonb_typeof(s.value) = 'number');
    v_keep  integer;
    cutoff  timestamptz;
    part    text;
BEGIN
    IF retention_months IS NULL OR retention_months < 1 THEN
        RAISE EXCEPTION 'retention_months must be at least 1, got %', retention_months
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The retention setting is a floor: a caller may keep more months, never fewer.
    v_keep := greatest(retention_months, coalesce(v_floor, retention_months));
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - make_interval(months => v_keep);
    FOR part IN
        SELECT c.relname
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.audit_logs'::regclass
          AND c.relname ~ '^audit_logs_y[0-9]{4}m[0-9]{2}$'
          AND make_timestamptz(substr(c.relname, 13, 4)::int, substr(c.relname, 18, 2)::int, 1, 0, 0, 0, 'UTC') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE public.audit_logs DETACH PARTITION public.%I', part);
        PERFORM public.audit_logs_protect_partition(format('public.%I', part)::regclass);
        RETURN NEXT part;
    END LOOP;
END
$$;
COMMENT ON FUNCTION detach_audit_log_partitions(integer) IS
    'Retention step (system role): detaches (does not drop) the monthly audit_logs partitions older than the current UTC month minus max(retention_months, setting audit.retention_months), keeps them append-only, and returns their names for archiving. Takes an ACCESS EXCLUSIVE lock on audit_logs briefly.';

REVOKE EXECUTE ON FUNCTION create_audit_log_partitions(integer), detach_audit_log_partitions(integer) FROM quotedb_app;
GRANT EXECUTE ON FUNCTION create_audit_log_partitions(integer), detach_audit_log_partitions(integer),
    audit_log_default_partition_rows() TO quotedb_system;

-- Audit rows are written through one definer function: the database sets occurred_at (now()),
-- and the application needs no INSERT privilege (nor a SELECT policy for the row it wrote).
CREATE FUNCTION append_audit_log(
    p_actor_user_id uuid, p_action text, p_entity_type text, p_entity_id text,
    p_old_values jsonb, p_new_values jsonb, p_ip inet, p_request_id text
) RETURNS SETOF audit_logs
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
    INSERT INTO public.audit_logs (actor_user_id, action, entity_type, entity_id, old_values, new_values, ip, request_id)
    VALUES (p_actor_user_id, p_action, p_entity_type, p_entity_id, p_old_values, p_new_values, p_ip, p_request_id)
    RETURNING *
$$;
COMMENT ON FUNCTION append_audit_log(uuid, text, text, text, jsonb, jsonb, inet, text) IS
    'Appends one audit row stamped with the database time (occurred_at = now()) and returns it; the only way the application writes audit_logs.';
REVOKE ALL ON FUNCTION append_audit_log(uuid, text, text, text, jsonb, jsonb, inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_audit_log(uuid, text, text, text, jsonb, jsonb, inet, text)
    TO quotedb_app, quotedb_system;

-- ---------------------------------------------------------------------------------------------
-- 5. Grants: only the writes the application makes
-- ---------------------------------------------------------------------------------------------
-- Never written by the application: identities are linked by the identity service's system
-- work; users, drivers and vehicles are created, never edited or deleted through quotedb;
-- websocket rows, notifications and metrics are closed / settled, not deleted; sessions are
-- swept by the system role; OAuth clients are revoked, not deleted.
REVOKE INSERT, UPDATE, DELETE ON user_identities FROM quotedb_app;
REVOKE UPDATE, DELETE ON users, drivers, vehicles FROM quotedb_app;
REVOKE DELETE ON websocket_connections, notification_queue, realtime_metrics, user_sessions, oauth2_clients FROM quotedb_app;
REVOKE INSERT ON audit_logs FROM quotedb_app;
REVOKE DELETE ON base_rates, territory_factors, discount_rules, surcharge_rules FROM quotedb_app;
-- Quotes are never deleted by the application: they expire, are declined or cancelled.
REVOKE DELETE ON quotes FROM quotedb_app;
-- Columns the application may change (a quote's priced terms, a session's token and lifetime, an
-- OAuth client's secret and redirect URIs are written once, at creation).
REVOKE UPDATE ON quotes, user_sessions, oauth2_clients FROM quotedb_app;
GRANT UPDATE (status, premium, current_version, bound_at) ON quotes TO quotedb_app;
GRANT UPDATE (last_seen_at, revoked_at, revoke_reason) ON user_sessions TO quotedb_app;
GRANT UPDATE (revoked_at) ON oauth2_clients TO quotedb_app;
-- occurred_at of admin activity is the database's time, like audit_logs.
REVOKE INSERT ON admin_activity_logs FROM quotedb_app;
GRANT INSERT (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
    ON admin_activity_logs TO quotedb_app;

-- The system role: what the application may do, plus the sweeps.
GRANT SELECT ON states, quote_status_transitions, rate_change_request_transitions,
    admin_role_ancestry, admin_role_effective_permissions TO quotedb_system;
GRANT SELECT, INSERT ON users, drivers, vehicles, quote_versions, analytics_events, user_identities TO quotedb_system;
GRANT SELECT, INSERT, UPDATE (status, premium, current_version, bound_at) ON quotes TO quotedb_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON quote_coverages, user_sessions, websocket_connections,
    notification_queue, realtime_metrics, sso_providers, admin_roles, admin_permissions,
    system_settings, admin_dashboards TO quotedb_system;
GRANT SELECT, INSERT, UPDATE ON oauth2_clients, admin_users, rate_change_requests, base_rates,
    territory_factors, discount_rules, surcharge_rules TO quotedb_system;
GRANT SELECT, INSERT, DELETE ON admin_role_permissions TO quotedb_system;
GRANT SELECT ON audit_logs TO quotedb_system;
GRANT SELECT, INSERT (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
    ON admin_activity_logs TO quotedb_system;
GRANT USAGE ON SEQUENCE analytics_events_id_seq, realtime_metrics_id_seq, admin_activity_logs_id_seq TO quotedb_system;
GRANT EXECUTE ON FUNCTION generate_quote_number(), quote_is_visible(uuid), admin_has_permission(uuid, text),
    app_admin_user_id(), public_setting(text), setting_is_sensitive(text), session_by_token_hash(bytea),
    apply_rate_change_request(uuid, uuid) TO quotedb_system;

-- ---------------------------------------------------------------------------------------------
-- 6. Row level security on every table the application may write
-- ---------------------------------------------------------------------------------------------
-- Shorthands used below: an admin permission check is (SELECT admin_has_permission(app_user_id(),
-- 'code')) - once per statement; the system role's policy is FOR ALL USING (true); reporting
-- (quotedb_readonly) reads what it was granted.

-- users: a customer signs up as themself (the repository acts as the new user id); admins with
-- users:write create agents; a user sees their own account, admins with users:read every account.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own_select ON users FOR SELECT TO quotedb_app USING (id = (SELECT app_user_id()));
CREATE POLICY users_reader_select ON users FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'users:read')));
CREATE POLICY users_self_signup_insert ON users FOR INSERT TO quotedb_app
    WITH CHECK (id = (SELECT app_user_id()) AND role = 'customer');
CREATE POLICY users_writer_insert ON users FOR INSERT TO quotedb_app
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'users:write')));
CREATE POLICY users_system_all ON users FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY users_readonly_select ON users FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY users_own_select ON users IS 'A user sees their own account.';
COMMENT ON POLICY users_reader_select ON users IS 'Admins holding users:read see every account.';
COMMENT ON POLICY users_self_signup_insert ON users IS 'A customer signs up only as themself (the acting user id) and only as a customer.';
COMMENT ON POLICY users_writer_insert ON users IS 'Admins holding users:write create accounts (agents).';
COMMENT ON POLICY users_system_all ON users IS 'The system role sees and writes every account.';
COMMENT ON POLICY users_readonly_select ON users IS 'Reporting reads every account.';

-- drivers and vehicles: a user's own; driver licence data (PII) to admins with drivers:read_pii,
-- vehicles to admins with users:read.
ALTER TABLE drivers ENABLE ROW LEVEL SECURITY;
ALTER TABLE drivers FORCE ROW LEVEL SECURITY;
CREATE POLICY drivers_own_select ON drivers FOR SELECT TO quotedb_app USING (user_id = (SELECT app_user_id()));
CREATE POLICY drivers_own_insert ON drivers FOR INSERT TO quotedb_app WITH CHECK (user_id = (SELECT app_user_id()));
CREATE POLICY drivers_pii_reader_select ON drivers FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'drivers:read_pii')));
CREATE POLICY drivers_system_all ON drivers FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY drivers_readonly_select ON drivers FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY drivers_own_select ON drivers IS 'A user sees their own drivers.';
COMMENT ON POLICY drivers_own_insert ON drivers IS 'A user adds drivers only to their own account.';
COMMENT ON POLICY drivers_pii_reader_select ON drivers IS 'Admins holding drivers:read_pii see every driver (licence data).';
COMMENT ON POLICY drivers_system_all ON drivers IS 'The system role sees and writes every driver.';
COMMENT ON POLICY drivers_readonly_select ON drivers IS 'Reporting reads every driver (licence numbers stay ciphertext).';

ALTER TABLE vehicles ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles FORCE ROW LEVEL SECURITY;
CREATE POLICY vehicles_own_select ON vehicles FOR SELECT TO quotedb_app USING (user_id = (SELECT app_user_id()));
CREATE POLICY vehicles_own_insert ON vehicles FOR INSERT TO quotedb_app WITH CHECK (user_id = (SELECT app_user_id()));
CREATE POLICY vehicles_reader_select ON vehicles FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'users:read')));
CREATE POLICY vehicles_system_all ON vehicles FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY vehicles_readonly_select ON vehicles FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY vehicles_own_select ON vehicles IS 'A user sees their own vehicles.';
COMMENT ON POLICY vehicles_own_insert ON vehicles IS 'A user adds vehicles only to their own account.';
COMMENT ON POLICY vehicles_reader_select ON vehicles IS 'Admins holding users:read see every vehicle.';
COMMENT ON POLICY vehicles_system_all ON vehicles IS 'The system role sees and writes every vehicle.';
COMMENT ON POLICY vehicles_readonly_select ON vehicles IS 'Reporting reads every vehicle.';

-- quotes: a customer inserts only drafts or freshly rated quotes (the create path) for themself;
-- a quote never starts presented, bound or closed.
ALTER POLICY quotes_customer_insert ON quotes
    WITH CHECK (customer_id = (SELECT app_user_id()) AND status IN ('draft', 'rated') AND bound_at IS NULL);
COMMENT ON POLICY quotes_customer_insert ON quotes IS
    'A customer creates quotes only for themselves, only as a draft or freshly rated (the create path), never presented, bound or closed.';

-- user_sessions and oauth2_clients: owners no longer delete (evidence of a revocation stays);
-- the column grants above leave only touch and revoke; revocations are final (triggers below).
DROP POLICY user_sessions_own_all ON user_sessions;
CREATE POLICY user_sessions_own_select ON user_sessions FOR SELECT TO quotedb_app USING (user_id = (SELECT app_user_id()));
CREATE POLICY user_sessions_own_insert ON user_sessions FOR INSERT TO quotedb_app WITH CHECK (user_id = (SELECT app_user_id()));
CREATE POLICY user_sessions_own_update ON user_sessions FOR UPDATE TO quotedb_app
    USING (user_id = (SELECT app_user_id())) WITH CHECK (user_id = (SELECT app_user_id()));
COMMENT ON POLICY user_sessions_own_select ON user_sessions IS 'A user sees their own sessions.';
COMMENT ON POLICY user_sessions_own_insert ON user_sessions IS 'A user opens sessions only for themself.';
COMMENT ON POLICY user_sessions_own_update ON user_sessions IS 'A user touches and revokes only their own sessions.';
COMMENT ON POLICY user_sessions_system_all ON user_sessions IS 'The system role (session sweeps) sees and changes every session.';

DROP POLICY oauth2_clients_owner_all ON oauth2_clients;
CREATE POLICY oauth2_clients_owner_select ON oauth2_clients FOR SELECT TO quotedb_app USING (owner_user_id = (SELECT app_user_id()));
CREATE POLICY oauth2_clients_owner_insert ON oauth2_clients FOR INSERT TO quotedb_app WITH CHECK (owner_user_id = (SELECT app_user_id()));
CREATE POLICY oauth2_clients_owner_update ON oauth2_clients FOR UPDATE TO quotedb_app
    USING (owner_user_id = (SELECT app_user_id())) WITH CHECK (owner_user_id = (SELECT app_user_id()));
COMMENT ON POLICY oauth2_clients_owner_select ON oauth2_clients IS 'A user sees the OAuth2 clients they own.';
COMMENT ON POLICY oauth2_clients_owner_insert ON oauth2_clients IS 'A user registers OAuth2 clients only for themself.';
COMMENT ON POLICY oauth2_clients_owner_update ON oauth2_clients IS 'A user revokes only the OAuth2 clients they own.';
COMMENT ON POLICY oauth2_clients_system_all ON oauth2_clients IS 'The system role sees and changes every OAuth2 client.';

-- sso_providers: configuration of who can sign in - sso_providers:manage; the application reads
-- providers to sign users in.
ALTER TABLE sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY sso_providers_app_select ON sso_providers FOR SELECT TO quotedb_app USING (true);
CREATE POLICY sso_providers_manager_insert ON sso_providers FOR INSERT TO quotedb_app
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'sso_providers:manage')));
CREATE POLICY sso_providers_manager_update ON sso_providers FOR UPDATE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'sso_providers:manage')))
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'sso_providers:manage')));
CREATE POLICY sso_providers_manager_delete ON sso_providers FOR DELETE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'sso_providers:manage')));
CREATE POLICY sso_providers_system_all ON sso_providers FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY sso_providers_readonly_select ON sso_providers FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY sso_providers_app_select ON sso_providers IS 'The application reads identity providers to sign users in.';
COMMENT ON POLICY sso_providers_manager_insert ON sso_providers IS 'Admins holding sso_providers:manage register providers.';
COMMENT ON POLICY sso_providers_manager_update ON sso_providers IS 'Admins holding sso_providers:manage change providers.';
COMMENT ON POLICY sso_providers_manager_delete ON sso_providers IS 'Admins holding sso_providers:manage remove providers.';
COMMENT ON POLICY sso_providers_system_all ON sso_providers IS 'The system role (key rotation) sees and changes every provider.';
COMMENT ON POLICY sso_providers_readonly_select ON sso_providers IS 'Reporting reads providers (not the secret columns).';

-- user_identities: linked by system work only; a user sees their own links, users:read admins all.
ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY user_identities_own_select ON user_identities FOR SELECT TO quotedb_app USING (user_id = (SELECT app_user_id()));
CREATE POLICY user_identities_reader_select ON user_identities FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'users:read')));
CREATE POLICY user_identities_system_all ON user_identities FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY user_identities_readonly_select ON user_identities FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY user_identities_own_select ON user_identities IS 'A user sees the external identities linked to them.';
COMMENT ON POLICY user_identities_reader_select ON user_identities IS 'Admins holding users:read see every link.';
COMMENT ON POLICY user_identities_system_all ON user_identities IS 'Only system work links and unlinks identities.';
COMMENT ON POLICY user_identities_readonly_select ON user_identities IS 'Reporting reads every link.';

-- admin_roles, admin_permissions, admin_role_permissions: readable by the application (the
-- permission model is not secret), written only by admins holding roles:manage.
DO $admin_tables$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['admin_roles', 'admin_permissions', 'admin_role_permissions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO quotedb_app USING (true)', t || '_app_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO quotedb_app
                            WITH CHECK ((SELECT admin_has_permission(app_user_id(), ''roles:manage'')))', t || '_manager_insert', t);
        IF t <> 'admin_role_permissions' THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO quotedb_app
                                USING ((SELECT admin_has_permission(app_user_id(), ''roles:manage'')))
                                WITH CHECK ((SELECT admin_has_permission(app_user_id(), ''roles:manage'')))', t || '_manager_update', t);
        END IF;
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE TO quotedb_app
                            USING ((SELECT admin_has_permission(app_user_id(), ''roles:manage'')))', t || '_manager_delete', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL TO quotedb_system USING (true) WITH CHECK (true)', t || '_system_all', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO quotedb_readonly USING (true)', t || '_readonly_select', t);
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_app_select', t, 'The application reads the permission model.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_manager_insert', t, 'Only admins holding roles:manage add to the permission model.');
        IF t <> 'admin_role_permissions' THEN
            EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_manager_update', t, 'Only admins holding roles:manage change the permission model.');
        END IF;
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_manager_delete', t, 'Only admins holding roles:manage remove from the permission model.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_system_all', t, 'The system role (seeds) writes the permission model.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_readonly_select', t, 'Reporting reads the permission model.');
    END LOOP;
END
$admin_tables$;

-- Rating reference data: read by everyone quoting; rates and territory factors change only
-- through the four-eyes workflow (rates:apply activates, rates:propose may insert proposals);
-- discount and surcharge rules only by admins holding rating_rules:manage.
DO $rating_tables$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['base_rates', 'territory_factors', 'discount_rules', 'surcharge_rules'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO quotedb_app USING (true)', t || '_app_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL TO quotedb_system USING (true) WITH CHECK (true)', t || '_system_all', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO quotedb_readonly USING (true)', t || '_readonly_select', t);
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_app_select', t, 'Rating reference data: everyone quoting reads it.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_system_all', t, 'The system role (seeds) writes rating reference data.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_readonly_select', t, 'Reporting reads rating reference data.');
        IF t IN ('base_rates', 'territory_factors') THEN
            -- Proposed rows only; activating, retiring and closing rows is apply_rate_change_request()'s,
            -- which runs as the owner for an admin holding rates:apply and an approved request.
            EXECUTE format('REVOKE UPDATE ON %I FROM quotedb_app', t);
            EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO quotedb_app WITH CHECK (
                                status = ''proposed'' AND (SELECT admin_has_permission(app_user_id(), ''rates:propose'')))',
                           t || '_proposer_insert', t);
            EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_proposer_insert', t,
                           'Admins holding rates:propose add proposed rows; only apply_rate_change_request() (an approved request, rates:apply) activates, retires or closes rows.');
        ELSE
            EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO quotedb_app
                                WITH CHECK ((SELECT admin_has_permission(app_user_id(), ''rating_rules:manage'')))', t || '_manager_insert', t);
            EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO quotedb_app
                                USING ((SELECT admin_has_permission(app_user_id(), ''rating_rules:manage'')))
                                WITH CHECK ((SELECT admin_has_permission(app_user_id(), ''rating_rules:manage'')))', t || '_manager_update', t);
            EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_manager_insert', t, 'Only admins holding rating_rules:manage add rules.');
            EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_manager_update', t, 'Only admins holding rating_rules:manage change rules.');
        END IF;
    END LOOP;
END
$rating_tables$;

-- rate_change_requests: the four-eyes workflow. Readable by the application (the review queue is
-- served without an acting user; a proposal is not a secret); drafted as oneself with
-- rates:propose; each later step stamps the acting admin in the column of that step (reviewer,
-- applier) and needs that step's permission.
ALTER TABLE rate_change_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_change_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY rate_change_requests_app_select ON rate_change_requests FOR SELECT TO quotedb_app USING (true);
CREATE POLICY rate_change_requests_proposer_insert ON rate_change_requests FOR INSERT TO quotedb_app
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'rates:propose'))
                AND requested_by = (SELECT app_admin_user_id())
                AND reviewed_by IS NULL AND applied_by IS NULL);
-- USING (true): every request is a candidate (the apply step locks it FOR UPDATE before it checks
-- who acts, and reports a deactivated admin as such); WITH CHECK decides what the step may write.
CREATE POLICY rate_change_requests_workflow_update ON rate_change_requests FOR UPDATE TO quotedb_app
    USING (true)
    WITH CHECK (
        (status IN ('draft', 'pending', 'withdrawn') AND requested_by = (SELECT app_admin_user_id())
             AND (SELECT admin_has_permission(app_user_id(), 'rates:propose')))
        OR (status IN ('approved', 'rejected') AND reviewed_by = (SELECT app_admin_user_id())
             AND (SELECT admin_has_permission(app_user_id(), 'rates:approve'))));
CREATE POLICY rate_change_requests_system_all ON rate_change_requests FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY rate_change_requests_readonly_select ON rate_change_requests FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY rate_change_requests_app_select ON rate_change_requests IS
    'The application reads rate change requests (the review queue); writes are what the workflow guards.';
COMMENT ON POLICY rate_change_requests_proposer_insert ON rate_change_requests IS
    'An admin holding rates:propose drafts requests only in their own name, unreviewed and unapplied.';
COMMENT ON POLICY rate_change_requests_workflow_update ON rate_change_requests IS
    'Each step is taken as oneself with its permission: the requester (rates:propose) submits or withdraws, the reviewer (rates:approve) approves or rejects; applying is apply_rate_change_request()''s alone.';
COMMENT ON POLICY rate_change_requests_system_all ON rate_change_requests IS 'The system role (seeds) runs the workflow.';
COMMENT ON POLICY rate_change_requests_readonly_select ON rate_change_requests IS 'Reporting reads every request.';


-- Whether the session acts as the schema owner - its login, or the role it SET ROLE to, holds
-- quotedb_owner (migrations, seeds, the volume loader) - as opposed to the application acting as
-- quotedb_app or a worker acting as quotedb_system (neither holds quotedb_owner).
CREATE FUNCTION is_owner_session() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT pg_catalog.pg_has_role(
               CASE pg_catalog.current_setting('role') WHEN 'none' THEN session_user
                    ELSE pg_catalog.current_setting('role')::pg_catalog.name END,
               'quotedb_owner', 'MEMBER')
$$;
COMMENT ON FUNCTION is_owner_session() IS
    'True when the session''s current role (its login unless it SET ROLE) holds quotedb_owner: migrations, seeds, the volume loader.';

-- Applying a request is the one way rates become active, retire or close: it runs as the owner
-- (the application has no UPDATE on base_rates or territory_factors) after checking that the
-- acting admin holds rates:apply and applies as themself; every rule still applies (the
-- activation trigger requires the request to be approved).
CREATE OR REPLACE FUNCTION apply_rate_change_request(p_request_id uuid, p_admin_user_id uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_req    rate_change_requests%ROWTYPE;
    v_pc     jsonb;
    v_from   date;
    v_period daterange;
    v_id     uuid;
BEGIN
    -- As the owner, so the acting admin is checked here: holds rates:apply and is who applies
    -- (the seeds, run by the owner's own login, apply as the approver they name).
    IF NOT (public.is_owner_session()
            OR (public.admin_has_permission(public.app_user_id(), 'rates:apply')
                AND p_admin_user_id IS NOT DISTINCT FROM public.app_admin_user_id())) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'applying a rate change request needs an active admin holding rates:apply, applying as themself';
    END IF;
    SELECT * INTO v_req FROM rate_change_requests WHERE id = p_request_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found',
            MESSAGE = format('rate change request %s does not exist', p_request_id);
    END IF;
    v_pc := v_req.proposed_change;
    v_from := (v_pc ->> 'effective_from')::date;
    v_period := daterange(v_from, (v_pc ->> 'effective_to')::date);

    IF v_req.kind = 'base_rate' THEN
        -- Superseded entirely (starts on or after the new start): retired.
        UPDATE base_rates SET status = 'retired'
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code'
          AND coverage_type = (v_pc ->> 'coverage_type')::coverage_type
          AND effective && v_period AND lower(effective) >= v_from;
        -- Started before: its period closes where the new one starts.
        UPDATE base_rates SET effective = daterange(lower(effective), v_from)
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code'
          AND coverage_type = (v_pc ->> 'coverage_type')::coverage_type
          AND effective && v_period AND lower(effective) < v_from;
        IF v_req.base_rate_id IS NOT NULL THEN
            UPDATE base_rates SET status = 'active', activated_by_request = v_req.id
            WHERE id = v_req.base_rate_id
            RETURNING id INTO v_id;
        ELSE
            INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status, activated_by_request)
            VALUES (v_pc ->> 'state_code', (v_pc ->> 'coverage_type')::coverage_type,
                    (v_pc ->> 'base_amount')::numeric, v_period, 'active', v_req.id)
            RETURNING id INTO v_id;
        END IF;
    ELSE
        UPDATE territory_factors SET status = 'retired'
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code' AND zip = v_pc ->> 'zip'
          AND effective && v_period AND lower(effective) >= v_from;
        UPDATE territory_factors SET effective = daterange(lower(effective), v_from)
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code' AND zip = v_pc ->> 'zip'
          AND effective && v_period AND lower(effective) < v_from;
        IF v_req.territory_factor_id IS NOT NULL THEN
            UPDATE territory_factors SET status = 'active', activated_by_request = v_req.id
            WHERE id = v_req.territory_factor_id
            RETURNING id INTO v_id;
        ELSE
            INSERT INTO territory_factors (state_code, zip, city, factor, effective, status, activated_by_request)
            VALUES (v_pc ->> 'state_code', v_pc ->> 'zip', v_pc ->> 'city',
                    (v_pc ->> 'factor')::numeric, v_period, 'active', v_req.id)
            RETURNING id INTO v_id;
        END IF;
    END IF;

    UPDATE rate_change_requests
    SET status = 'applied', applied_at = now(), applied_by = p_admin_user_id
    WHERE id = v_req.id;
    RETURN v_id;
END
$$;

-- Workflow times are the database's: whatever the application or a worker sends for created_at,
-- submitted_at, reviewed_at or applied_at, the row holds the time the step was taken.
CREATE FUNCTION rate_change_requests_set_step_times_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    -- The owner's own sessions (seeds, the volume loader) write history as it was.
    IF public.is_owner_session() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := now();
        NEW.submitted_at := CASE WHEN NEW.submitted_at IS NULL THEN NULL ELSE now() END;
        NEW.reviewed_at := CASE WHEN NEW.reviewed_at IS NULL THEN NULL ELSE now() END;
        NEW.applied_at := CASE WHEN NEW.applied_at IS NULL THEN NULL ELSE now() END;
    ELSE
        NEW.created_at := OLD.created_at;
        IF NEW.submitted_at IS DISTINCT FROM OLD.submitted_at THEN
            NEW.submitted_at := CASE WHEN NEW.submitted_at IS NULL THEN NULL ELSE now() END;
        END IF;
        IF NEW.reviewed_at IS DISTINCT FROM OLD.reviewed_at THEN
            NEW.reviewed_at := CASE WHEN NEW.reviewed_at IS NULL THEN NULL ELSE now() END;
        END IF;
        IF NEW.applied_at IS DISTINCT FROM OLD.applied_at THEN
            NEW.applied_at := CASE WHEN NEW.applied_at IS NULL THEN NULL ELSE now() END;
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION rate_change_requests_set_step_times_fn() IS 'Trigger function of rate_change_requests_step_times_by_database.';
CREATE TRIGGER rate_change_requests_step_times_by_database BEFORE INSERT OR UPDATE ON rate_change_requests
    FOR EACH ROW EXECUTE FUNCTION rate_change_requests_set_step_times_fn();
COMMENT ON TRIGGER rate_change_requests_step_times_by_database ON rate_change_requests IS
    'The four-eyes trail carries the database''s times: created_at, submitted_at, reviewed_at and applied_at are now() when set, never a caller''s value.';

-- audit_logs: appended through append_audit_log(); read by admins holding audit:read.
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_logs_reader_select ON audit_logs FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'audit:read')));
CREATE POLICY audit_logs_system_all ON audit_logs FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY audit_logs_readonly_select ON audit_logs FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY audit_logs_reader_select ON audit_logs IS 'Admins holding audit:read read the audit log.';
COMMENT ON POLICY audit_logs_system_all ON audit_logs IS 'The system role and append_audit_log() (the owner) append audit rows; UPDATE and DELETE are refused by audit_logs_append_only.';
COMMENT ON POLICY audit_logs_readonly_select ON audit_logs IS 'Reporting reads the audit log.';

-- Service tables written by the platform's services on behalf of nobody in particular (websocket
-- nodes, the event pipeline, notification workers, metric aggregation): the application login
-- writes them as itself. They hold no money, no permission and no identity.
DO $service_tables$
DECLARE
    t text;
    cmds text[];
    c text;
BEGIN
    FOREACH t IN ARRAY ARRAY['websocket_connections', 'analytics_events', 'realtime_metrics'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        cmds := CASE WHEN t = 'analytics_events' THEN ARRAY['select', 'insert']
                     ELSE ARRAY['select', 'insert', 'update'] END;
        FOREACH c IN ARRAY cmds LOOP
            EXECUTE format('CREATE POLICY %I ON %I FOR %s TO quotedb_app %s',
                           t || '_service_' || c, t, c,
                           CASE c WHEN 'insert' THEN 'WITH CHECK (true)'
                                  WHEN 'update' THEN 'USING (true) WITH CHECK (true)'
                                  ELSE 'USING (true)' END);
            EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_service_' || c, t,
                           'Service data: the application''s services ' || c || ' it as themselves (no acting user).');
        END LOOP;
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL TO quotedb_system USING (true) WITH CHECK (true)', t || '_system_all', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO quotedb_readonly USING (true)', t || '_readonly_select', t);
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_system_all', t, 'The system role sees and changes every row.');
        EXECUTE format('COMMENT ON POLICY %I ON %I IS %L', t || '_readonly_select', t, 'Reporting reads every row.');
    END LOOP;
END
$service_tables$;

-- admin_dashboards: an admin's own layouts, theirs alone.
ALTER TABLE admin_dashboards ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_dashboards FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_dashboards_own_all ON admin_dashboards FOR ALL TO quotedb_app
    USING (admin_user_id = (SELECT app_admin_user_id())) WITH CHECK (admin_user_id = (SELECT app_admin_user_id()));
CREATE POLICY admin_dashboards_system_all ON admin_dashboards FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY admin_dashboards_readonly_select ON admin_dashboards FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY admin_dashboards_own_all ON admin_dashboards IS 'An active admin sees and changes only their own dashboards.';
COMMENT ON POLICY admin_dashboards_system_all ON admin_dashboards IS 'The system role sees and changes every dashboard.';
COMMENT ON POLICY admin_dashboards_readonly_select ON admin_dashboards IS 'Reporting reads every dashboard.';

-- notification_queue holds what is about to be sent - password reset links among it - and where
-- to: the application queues through enqueue_notifications() (no INSERT, UPDATE or DELETE of its
-- own) and reads only notifications addressed to the acting user; claiming, sending and retrying
-- is the workers' (quotedb_system).
CREATE FUNCTION enqueue_notifications(
    p_channels notification_channel[], p_users uuid[], p_addresses text[], p_templates text[],
    p_payloads jsonb[], p_priorities smallint[], p_max_attempts smallint[], p_not_before timestamptz[]
) RETURNS SETOF notification_queue
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH s AS (
        SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN round(v::numeric)::int2 END AS max_attempts
        FROM public.public_setting('notifications.max_attempts') AS v
    )
    INSERT INTO public.notification_queue (channel, recipient_user_id, recipient_address, template, payload,
                                           priority, max_attempts, next_attempt_at)
    SELECT t.channel, t.user_id, t.address, t.template, t.payload, t.priority,
           coalesce(t.max_attempts, s.max_attempts), coalesce(t.not_before, now())
    FROM unnest(p_channels, p_users, p_addresses, p_templates, p_payloads, p_priorities, p_max_attempts, p_not_before)
         WITH ORDINALITY AS t (channel, user_id, address, template, payload, priority, max_attempts, not_before, ord)
    CROSS JOIN s
    WHERE coalesce(t.max_attempts, s.max_attempts) IS NOT NULL
    ORDER BY t.ord
    RETURNING *
$$;
COMMENT ON FUNCTION enqueue_notifications(notification_channel[], uuid[], text[], text[], jsonb[], smallint[], smallint[], timestamptz[]) IS
    'Queues notifications (parallel arrays, in order) and returns them; max_attempts defaults to the setting notifications.max_attempts (rows without either are skipped). The only way the application writes notification_queue.';
REVOKE ALL ON FUNCTION enqueue_notifications(notification_channel[], uuid[], text[], text[], jsonb[], smallint[], smallint[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enqueue_notifications(notification_channel[], uuid[], text[], text[], jsonb[], smallint[], smallint[], timestamptz[])
    TO quotedb_app, quotedb_system;
REVOKE INSERT, UPDATE ON notification_queue FROM quotedb_app;
ALTER TABLE notification_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_queue FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_queue_recipient_select ON notification_queue FOR SELECT TO quotedb_app
    USING (recipient_user_id = (SELECT app_user_id()));
CREATE POLICY notification_queue_system_all ON notification_queue FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY notification_queue_readonly_select ON notification_queue FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY notification_queue_recipient_select ON notification_queue IS 'A user sees the notifications addressed to them.';
COMMENT ON POLICY notification_queue_system_all ON notification_queue IS 'Workers (the system role) claim, send, retry and recover notifications.';
COMMENT ON POLICY notification_queue_readonly_select ON notification_queue IS 'Reporting reads the queue.';

-- websocket_connections: the application's nodes open, beat and close connections; which user and
-- session a connection belongs to is written once, at open.
REVOKE UPDATE ON websocket_connections FROM quotedb_app;
GRANT UPDATE (last_heartbeat_at, subscriptions, disconnected_at) ON websocket_connections TO quotedb_app;

-- ---------------------------------------------------------------------------------------------
-- 7. Frozen and one-way columns
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION quotes_priced_terms_frozen_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    v_changed text;
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    v_changed := CASE
        WHEN NEW.quote_number IS DISTINCT FROM OLD.quote_number THEN 'quote_number'
        WHEN NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN 'customer_id'
        WHEN NEW.state_code IS DISTINCT FROM OLD.state_code THEN 'state_code'
        WHEN NEW.zip IS DISTINCT FROM OLD.zip THEN 'zip'
        WHEN NEW.effective_date IS DISTINCT FROM OLD.effective_date THEN 'effective_date'
        WHEN NEW.expires_at > OLD.expires_at THEN 'expires_at (extended)'
    END;
    IF v_changed IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_priced_terms_frozen',
            MESSAGE = format('quote %s is %s: %s cannot change', OLD.quote_number, OLD.status, v_changed),
            DETAIL = 'Once a quote is rated its priced terms are fixed (its premium follows its current version: quotes_current_version_in_step).';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION quotes_priced_terms_frozen_fn() IS 'Trigger function of quotes_priced_terms_frozen.';
CREATE TRIGGER quotes_priced_terms_frozen BEFORE UPDATE ON quotes
    FOR EACH ROW WHEN (OLD.status <> 'draft')
    EXECUTE FUNCTION quotes_priced_terms_frozen_fn();
COMMENT ON TRIGGER quotes_priced_terms_frozen ON quotes IS
    'Once rated, a quote''s number, customer, state, ZIP and effective date never change and its expiry is never extended (its premium follows its versions: quotes_current_version_in_step).';

CREATE FUNCTION revocation_is_final_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL
       AND (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
            OR (TG_TABLE_NAME = 'user_sessions' AND to_jsonb(NEW) ->> 'revoke_reason' IS DISTINCT FROM to_jsonb(OLD) ->> 'revoke_reason')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = TG_NAME,
            MESSAGE = format('%s %s was revoked at %s: a revocation is final', TG_TABLE_NAME, OLD.id, OLD.revoked_at),
            DETAIL = 'Revoked sessions and OAuth2 clients stay revoked, with their original time and reason.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION revocation_is_final_fn() IS
    'Trigger function of user_sessions_revocation_final and oauth2_clients_revocation_final.';
CREATE TRIGGER user_sessions_revocation_final BEFORE UPDATE ON user_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NOT NULL) EXECUTE FUNCTION revocation_is_final_fn();
COMMENT ON TRIGGER user_sessions_revocation_final ON user_sessions IS
    'A revoked session stays revoked: revoked_at and revoke_reason never change again.';
CREATE TRIGGER oauth2_clients_revocation_final BEFORE UPDATE ON oauth2_clients
    FOR EACH ROW WHEN (OLD.revoked_at IS NOT NULL) EXECUTE FUNCTION revocation_is_final_fn();
COMMENT ON TRIGGER oauth2_clients_revocation_final ON oauth2_clients IS
    'A revoked OAuth2 client stays revoked: revoked_at never changes again.';

-- Last: everything this migration created goes to the owner role too.
SELECT hand_objects_to_owner();
