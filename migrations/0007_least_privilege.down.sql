-- Reverts 0007_least_privilege: the schema of 0006 again, owned by the login running this down
-- migration (as 0001-0006 left it), policies, grants and function settings as 0006 left them.
-- The cluster-wide roles quotedb_owner and quotedb_system stay (other databases may use them).

-- 7. Frozen and one-way columns
DROP TRIGGER rate_change_requests_step_times_by_database ON rate_change_requests;
DROP FUNCTION rate_change_requests_set_step_times_fn();
CREATE OR REPLACE FUNCTION apply_rate_change_request(p_request_id uuid, p_admin_user_id uuid) RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    v_req    rate_change_requests%ROWTYPE;
    v_pc     jsonb;
    v_from   date;
    v_period daterange;
    v_id     uuid;
BEGIN
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
GRANT UPDATE ON base_rates, territory_factors TO quotedb_app;
DROP FUNCTION is_owner_session();
DROP TRIGGER oauth2_clients_revocation_final ON oauth2_clients;
DROP TRIGGER user_sessions_revocation_final ON user_sessions;
DROP FUNCTION revocation_is_final_fn();
DROP TRIGGER quotes_priced_terms_frozen ON quotes;
DROP FUNCTION quotes_priced_terms_frozen_fn();

-- 6. Row level security
DO $undo_rls$
DECLARE
    t text;
    p record;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'drivers', 'vehicles', 'sso_providers', 'user_identities', 'admin_roles',
                             'admin_permissions', 'admin_role_permissions', 'base_rates', 'territory_factors',
                             'discount_rules', 'surcharge_rules', 'rate_change_requests', 'audit_logs',
                             'websocket_connections', 'analytics_events', 'notification_queue', 'realtime_metrics',
                             'admin_dashboards'] LOOP
        FOR p IN SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = format('public.%I', t)::regclass LOOP
            EXECUTE format('DROP POLICY %I ON %I', p.polname, t);
        END LOOP;
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$undo_rls$;

DROP POLICY oauth2_clients_owner_update ON oauth2_clients;
DROP POLICY oauth2_clients_owner_insert ON oauth2_clients;
DROP POLICY oauth2_clients_owner_select ON oauth2_clients;
CREATE POLICY oauth2_clients_owner_all ON oauth2_clients FOR ALL TO quotedb_app
    USING (owner_user_id = (SELECT app_user_id())) WITH CHECK (owner_user_id = (SELECT app_user_id()));
COMMENT ON POLICY oauth2_clients_owner_all ON oauth2_clients IS 'A user manages the OAuth2 clients they own.';
DROP POLICY user_sessions_own_update ON user_sessions;
DROP POLICY user_sessions_own_insert ON user_sessions;
DROP POLICY user_sessions_own_select ON user_sessions;
CREATE POLICY user_sessions_own_all ON user_sessions FOR ALL TO quotedb_app
    USING (user_id = (SELECT app_user_id())) WITH CHECK (user_id = (SELECT app_user_id()));
COMMENT ON POLICY user_sessions_own_all ON user_sessions IS 'A user sees and manages (revokes) only their own sessions.';

ALTER POLICY quotes_customer_insert ON quotes WITH CHECK (customer_id = (SELECT app_user_id()));
COMMENT ON POLICY quotes_customer_insert ON quotes IS 'A customer creates quotes only for themselves.';

-- 5. Grants
DO $undo_system_grants$
DECLARE
    o record;
BEGIN
    -- Only where quotedb_system has an entry: a REVOKE on an object with the default (NULL) ACL
    -- would write that default out and change the schema's ACLs.
    FOR o IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
               AND (EXISTS (SELECT 1 FROM pg_catalog.aclexplode(c.relacl) a WHERE a.grantee = 'quotedb_system'::regrole)
                    OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
                               WHERE att.attrelid = c.oid AND a.grantee = 'quotedb_system'::regrole)) LOOP
        EXECUTE format('REVOKE ALL ON %s %s FROM quotedb_system', CASE WHEN o.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, o.rel);
    END LOOP;
    FOR o IN SELECT p.oid::regprocedure AS fn FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace
               AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) a WHERE a.grantee = 'quotedb_system'::regrole) LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM quotedb_system', o.fn);
    END LOOP;
END
$undo_system_grants$;
REVOKE INSERT (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
    ON admin_activity_logs FROM quotedb_app;
GRANT INSERT ON admin_activity_logs TO quotedb_app;
REVOKE UPDATE (status, premium, current_version, bound_at) ON quotes FROM quotedb_app;
REVOKE UPDATE (last_seen_at, revoked_at, revoke_reason) ON user_sessions FROM quotedb_app;
REVOKE UPDATE (revoked_at) ON oauth2_clients FROM quotedb_app;
GRANT UPDATE ON quotes, user_sessions, oauth2_clients TO quotedb_app;
GRANT INSERT ON audit_logs TO quotedb_app;
GRANT DELETE ON websocket_connections, notification_queue, realtime_metrics, user_sessions, oauth2_clients TO quotedb_app;
GRANT UPDATE, DELETE ON users, drivers, vehicles TO quotedb_app;
GRANT INSERT, UPDATE, DELETE ON user_identities TO quotedb_app;
GRANT DELETE ON quotes TO quotedb_app;
REVOKE UPDATE (last_heartbeat_at, subscriptions, disconnected_at) ON websocket_connections FROM quotedb_app;
GRANT UPDATE ON websocket_connections TO quotedb_app;
GRANT INSERT, UPDATE ON notification_queue TO quotedb_app;
DROP FUNCTION enqueue_notifications(notification_channel[], uuid[], text[], text[], jsonb[], smallint[], smallint[], timestamptz[]);

-- 4. Definer functions
DROP FUNCTION append_audit_log(uuid, text, text, text, jsonb, jsonb, inet, text);
CREATE OR REPLACE FUNCTION detach_audit_log_partitions(retention_months integer) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    cutoff constant timestamptz :=
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - make_interval(months => retention_months);
    part text;
BEGIN
    IF retention_months IS NULL OR retention_months < 1 THEN
        RAISE EXCEPTION 'retention_months must be at least 1, got %', retention_months
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR part IN
        SELECT c.relname
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_logs'::regclass
          AND c.relname ~ '^audit_logs_y[0-9]{4}m[0-9]{2}$'
          AND make_timestamptz(substr(c.relname, 13, 4)::int, substr(c.relname, 18, 2)::int, 1, 0, 0, 0, 'UTC') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE audit_logs DETACH PARTITION %I', part);
        RETURN NEXT part;
    END LOOP;
END
$$;
COMMENT ON FUNCTION detach_audit_log_partitions(integer) IS
    'Retention step: detaches (does not drop) the monthly audit_logs partitions whose month started before the current UTC month minus retention_months, and returns their names for archiving. The caller passes the retention setting. Takes an ACCESS EXCLUSIVE lock on audit_logs briefly.';
CREATE OR REPLACE FUNCTION create_audit_log_partitions(months_ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
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

        IF EXISTS (SELECT FROM audit_logs_default WHERE occurred_at >= lo AND occurred_at < hi) THEN
            -- The DEFAULT partition holds rows of this month: attaching the month would violate
            -- the default's new constraint. Move them into the new table first, then attach.
            EXECUTE format('CREATE TABLE %I (LIKE audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            ALTER TABLE audit_logs_default DISABLE TRIGGER audit_logs_append_only;
            EXECUTE format(
                'WITH moved AS (DELETE FROM audit_logs_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                 INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
            ALTER TABLE audit_logs_default ENABLE TRIGGER audit_logs_append_only;
            EXECUTE format('ALTER TABLE audit_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        END IF;
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
DO $undo_truncate$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t WHERE t.tgname = 'audit_logs_no_truncate' LOOP
        EXECUTE format('DROP TRIGGER audit_logs_no_truncate ON %s', p);
    END LOOP;
END
$undo_truncate$;
DROP FUNCTION audit_logs_protect_partition(regclass);
DROP FUNCTION audit_logs_no_truncate_fn();
GRANT EXECUTE ON FUNCTION create_audit_log_partitions(integer), detach_audit_log_partitions(integer) TO quotedb_app;

DO $unpin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND NOT p.prosecdef
          AND p.proconfig = ARRAY['search_path=pg_catalog, public, pg_temp']
          AND p.proname NOT IN ('hand_objects_to_owner')
    LOOP
        EXECUTE format('ALTER FUNCTION %s RESET search_path', f);
    END LOOP;
END
$unpin$;
-- The quote write path's rule triggers as 0002 wrote them (invokers, unqualified names).
CREATE OR REPLACE FUNCTION quotes_party_role_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_expected user_role;
    v_user     uuid;
    v_role     user_role;
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
    SELECT u.role INTO v_role FROM users u WHERE u.id = v_user;
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
        SELECT 1 FROM quote_status_transitions t
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
                                     FROM quote_status_transitions t WHERE t.from_status = OLD.status))
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
    FROM quotes q WHERE q.id = NEW.quote_id
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
    SELECT coalesce((SELECT v.version FROM quote_versions v WHERE v.quote_id = NEW.quote_id
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
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_premium numeric(12,2);
    v_max     integer;
    v_vprem   numeric(12,2);
BEGIN
    SELECT q.current_version, q.premium INTO v_current, v_premium
    FROM quotes q WHERE q.id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted later in the same transaction
    END IF;
    -- One backward index probe, not max() (see quote_versions_contiguous_fn).
    SELECT coalesce((SELECT v.version FROM quote_versions v WHERE v.quote_id = NEW.id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF v_current <> v_max THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_current_version_in_step',
            MESSAGE = format('quote %s: current_version %s but latest version is %s', NEW.id, v_current, v_max),
            HINT = 'insert the quote_versions row for the bumped version in the same transaction';
    END IF;
    IF v_current > 0 THEN
        SELECT v.premium INTO v_vprem FROM quote_versions v
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
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_quote  uuid;
    v_status quote_status;
BEGIN
    SELECT q.id, q.status INTO v_quote, v_status
    FROM quotes q
    WHERE q.id = ANY (ARRAY[OLD.quote_id, NEW.quote_id])
      AND q.status NOT IN ('draft', 'rated')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = format('coverages of quote %s cannot change: quote is %s', v_quote, v_status),
            DETAIL = 'coverage lines change only while the quote is draft or rated';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$fn$;

ALTER FUNCTION audit_log_default_partition_rows() SET search_path = public, pg_temp;
ALTER FUNCTION admin_role_held_permissions_rebuild() SET search_path = pg_catalog, public;
CREATE OR REPLACE FUNCTION setting_is_sensitive(p_key text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_previous  text := current_setting('app.system', true);
    v_sensitive boolean;
BEGIN
    PERFORM set_config('app.system', 'on', true);
    SELECT s.is_sensitive INTO v_sensitive FROM public.system_settings s WHERE s.key = p_key;
    PERFORM set_config('app.system', coalesce(v_previous, ''), true);
    RETURN v_sensitive;
END
$$;
CREATE OR REPLACE FUNCTION session_by_token_hash(p_token_hash bytea)
    RETURNS TABLE (id uuid, user_id uuid, ip inet, user_agent text, created_at timestamptz,
                   last_seen_at timestamptz, expires_at timestamptz, email text, full_name text, role user_role)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_previous text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.system', 'on', true);
    RETURN QUERY
        SELECT s.id, s.user_id, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
               u.email::text, u.full_name, u.role
        FROM public.user_sessions s
        JOIN public.users u ON u.id = s.user_id
        WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now();
    PERFORM set_config('app.system', coalesce(v_previous, ''), true);
END
$$;

-- 3. The system actor as a setting again
ALTER POLICY system_settings_owner_public_select ON system_settings TO CURRENT_USER;
ALTER POLICY admin_users_definer_select ON admin_users TO CURRENT_USER;
ALTER POLICY quote_coverages_via_quote_delete ON quote_coverages TO quotedb_app, CURRENT_USER;
ALTER POLICY quote_coverages_via_quote_update ON quote_coverages TO quotedb_app, CURRENT_USER;
ALTER POLICY quote_coverages_via_quote_insert ON quote_coverages TO quotedb_app, CURRENT_USER;
ALTER POLICY quote_coverages_via_quote_select ON quote_coverages TO quotedb_app, CURRENT_USER;
ALTER POLICY quote_versions_via_quote_insert ON quote_versions TO quotedb_app, CURRENT_USER;
ALTER POLICY quote_versions_via_quote_select ON quote_versions TO quotedb_app, CURRENT_USER;
ALTER POLICY admin_activity_logs_system_select ON admin_activity_logs TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system()));
ALTER POLICY admin_activity_logs_system_insert ON admin_activity_logs TO quotedb_app, CURRENT_USER
    WITH CHECK ((SELECT app_is_system()));
ALTER POLICY system_settings_system_all ON system_settings TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
ALTER POLICY admin_users_system_all ON admin_users TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
ALTER POLICY oauth2_clients_system_all ON oauth2_clients TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
COMMENT ON POLICY oauth2_clients_system_all ON oauth2_clients IS 'The system actor (token endpoint) reads and updates every client.';
ALTER POLICY user_sessions_system_all ON user_sessions TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
COMMENT ON POLICY user_sessions_system_all ON user_sessions IS 'The system actor (login flow, cleanup) manages every session.';
ALTER POLICY quotes_system_all ON quotes TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
COMMENT ON POLICY quotes_system_all ON quotes IS 'The system actor (app.system = on: workers, maintenance) sees and changes every quote.';
CREATE OR REPLACE FUNCTION app_is_system() RETURNS boolean
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $fn$
    SELECT coalesce(pg_catalog.current_setting('app.system', true), '') = 'on'
$fn$;

COMMENT ON FUNCTION app_is_system() IS
    'True when the current transaction acts as the system (workers, maintenance): setting app.system = ''on''.';

-- 2. Ownership back to the login running this migration
DO $unown$
DECLARE
    o record;
BEGIN
    FOR o IN
        SELECT format('ALTER %s %s OWNER TO %I',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                      c.oid::regclass, current_user) AS ddl
        FROM pg_catalog.pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relowner = 'quotedb_owner'::regrole
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, current_user)
        FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'quotedb_owner'::regrole
          AND p.proname <> 'hand_objects_to_owner'
        UNION ALL
        SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, current_user)
        FROM pg_catalog.pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
          AND t.typowner = 'quotedb_owner'::regrole
    LOOP
        EXECUTE o.ddl;
    END LOOP;
END
$unown$;
DROP FUNCTION hand_objects_to_owner();

-- 1. Schema privileges of the roles (the roles themselves stay)
REVOKE USAGE ON SCHEMA public FROM quotedb_system;
REVOKE USAGE, CREATE ON SCHEMA public FROM quotedb_owner;
