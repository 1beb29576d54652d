-- 0029 the remaining reads as an actor in one round trip each: users, drivers, vehicles, admin
-- accounts and their permissions, dashboards, settings, sessions, OAuth clients, audit history.
--
-- These ran BEGIN (role, acting user) / query / COMMIT: three round trips for one indexed read.
-- Like app_quote_by_id (0024), each function switches to the acting user's role and sets the actor
-- itself, so one statement does it and the tables' RLS policies still decide (a row the actor
-- cannot see is no row). Invoker functions: they run nothing the caller's login could not, and a
-- NULL acting user is the system actor, which only a login holding quotedb_system can switch to.
--
-- The switch and its undo are written out in each function, as in 0008, 0017 and 0024: the undo
-- restores what the function found, so a caller inside its own transaction keeps its role and
-- actor. (Two helper functions for them cost 10 us of a 47 us session check: pgbench.)
--
-- Also the end of the users.email_key expansion (0026-0028): the index gets its comment, and
-- set_updated_at fires on every update of users again (the backfill is done).
--
-- Online: new functions, a comment, and a trigger swapped in one transaction (a brief lock on
-- users). Reversible: the down migration drops the functions and puts 0026's trigger back.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

COMMENT ON INDEX users_email_key_idx IS
    'A user by e-mail address for every role: WHERE email_key = lower($1) (app_user_by_email).';

DROP TRIGGER users_set_updated_at ON users;
CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- users, drivers, vehicles ---------------------------------------------------------------------

CREATE FUNCTION app_user_by_id(p_user_id uuid, p_id uuid) RETURNS SETOF users
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.users u WHERE u.id = p_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_user_by_id(uuid, uuid) IS
    'The user p_id as the acting user p_user_id (NULL: the system actor) may see it under users'' RLS policies; one round trip (users_pkey).';
REVOKE ALL ON FUNCTION app_user_by_id(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_by_id(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_user_by_email(p_user_id uuid, p_email text) RETURNS SETOF users
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.users u WHERE u.email_key = pg_catalog.lower(p_email);
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_user_by_email(uuid, text) IS
    'The user with this e-mail address (compared case-insensitively, as citext does) as the acting user p_user_id (NULL: the system actor) may see it; one round trip (users_email_key_idx: email_key = lower(p_email) is leakproof, so the index serves every role).';
REVOKE ALL ON FUNCTION app_user_by_email(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_by_email(uuid, text) TO quotedb_app;

CREATE FUNCTION app_user_drivers(p_user_id uuid, p_of uuid) RETURNS SETOF drivers
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.drivers d WHERE d.user_id = p_of ORDER BY d.created_at, d.id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_user_drivers(uuid, uuid) IS
    'The drivers of user p_of that the acting user p_user_id (NULL: the system actor) may see, oldest entry first; one round trip.';
REVOKE ALL ON FUNCTION app_user_drivers(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_drivers(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_user_vehicles(p_user_id uuid, p_of uuid) RETURNS SETOF vehicles
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.vehicles v WHERE v.user_id = p_of ORDER BY v.created_at, v.id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_user_vehicles(uuid, uuid) IS
    'The vehicles of user p_of that the acting user p_user_id (NULL: the system actor) may see, oldest entry first; one round trip.';
REVOKE ALL ON FUNCTION app_user_vehicles(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_vehicles(uuid, uuid) TO quotedb_app;

-- admin accounts, permissions, dashboards, settings -------------------------------------------

CREATE FUNCTION app_admin_user_by_id(p_user_id uuid, p_id uuid) RETURNS SETOF admin_users
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.admin_users a WHERE a.id = p_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_admin_user_by_id(uuid, uuid) IS
    'The admin account p_id as the acting user p_user_id (NULL: the system actor) may see it under admin_users'' RLS policies; one round trip.';
REVOKE ALL ON FUNCTION app_admin_user_by_id(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_admin_user_by_id(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_admin_user_by_user(p_user_id uuid, p_of uuid) RETURNS SETOF admin_users
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.admin_users a WHERE a.user_id = p_of;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_admin_user_by_user(uuid, uuid) IS
    'The admin account of user p_of as the acting user p_user_id (NULL: the system actor) may see it; one round trip.';
REVOKE ALL ON FUNCTION app_admin_user_by_user(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_admin_user_by_user(uuid, uuid) TO quotedb_app;

-- One row per effective permission code (the nearest grant); one row of NULLs for a visible admin
-- account that holds nothing now (deactivated, locked, or a role without permissions); no row
-- for an account the actor cannot see.
CREATE FUNCTION app_admin_permissions_of(p_user_id uuid, p_of uuid)
    RETURNS TABLE (permission_id uuid, code text, risk_level admin_permission_risk_level,
                   granted_via_role_id uuid, inherited_depth integer)
    LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY
        SELECT ep.permission_id, ep.code, ep.risk_level, ep.granted_via_role_id, ep.inherited_depth
        FROM public.admin_users au
        LEFT JOIN LATERAL (
            SELECT DISTINCT ON (e.code) e.permission_id, e.code, e.risk_level, e.granted_via_role_id,
                   e.inherited_depth
            FROM public.admin_role_effective_permissions e
            WHERE e.role_id = au.role_id
            ORDER BY e.code, e.inherited_depth) ep
          ON au.is_active AND (au.locked_until IS NULL OR au.locked_until <= pg_catalog.now())
        WHERE au.user_id = p_of
        ORDER BY ep.code;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_admin_permissions_of(uuid, uuid) IS
    'Every permission the admin account of user p_of holds through its role (nearest grant per code, by code), as the acting user p_user_id (NULL: the system actor) may see that account; one row of NULLs while it holds nothing, no row when it is not visible; one round trip.';
REVOKE ALL ON FUNCTION app_admin_permissions_of(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_admin_permissions_of(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_admin_dashboards(p_user_id uuid) RETURNS SETOF admin_dashboards
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.admin_dashboards d WHERE d.admin_user_id = public.app_admin_user_id()
                 ORDER BY d.is_default DESC, d.name;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_admin_dashboards(uuid) IS
    'The dashboards of the acting admin p_user_id, the default first, then by name; one round trip.';
REVOKE ALL ON FUNCTION app_admin_dashboards(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_admin_dashboards(uuid) TO quotedb_app;

CREATE FUNCTION app_system_setting(p_user_id uuid, p_key text) RETURNS SETOF system_settings
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.system_settings s WHERE s.key = p_key;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_system_setting(uuid, text) IS
    'The setting p_key as the acting user p_user_id (NULL: the system actor) may read it under system_settings'' RLS policies (sensitive ones need settings:read_sensitive); one round trip.';
REVOKE ALL ON FUNCTION app_system_setting(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_system_setting(uuid, text) TO quotedb_app;

CREATE FUNCTION app_system_settings(p_user_id uuid) RETURNS SETOF system_settings
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.system_settings s ORDER BY s.key;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_system_settings(uuid) IS
    'Every setting the acting user p_user_id (NULL: the system actor) may read, by key; one round trip.';
REVOKE ALL ON FUNCTION app_system_settings(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_system_settings(uuid) TO quotedb_app;

-- sessions, OAuth clients, audit history -------------------------------------------------------

CREATE FUNCTION app_session_by_id(p_user_id uuid, p_id uuid) RETURNS SETOF user_sessions
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.user_sessions s WHERE s.id = p_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_session_by_id(uuid, uuid) IS
    'The session p_id as the acting user p_user_id (NULL: the system actor) may see it under user_sessions'' RLS policies; one round trip.';
REVOKE ALL ON FUNCTION app_session_by_id(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_session_by_id(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_active_sessions(p_user_id uuid, p_of uuid) RETURNS SETOF user_sessions
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.user_sessions s
                 WHERE s.user_id = p_of AND s.revoked_at IS NULL AND s.expires_at > pg_catalog.now()
                 ORDER BY s.created_at DESC, s.id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_active_sessions(uuid, uuid) IS
    'The active (not revoked, not expired) sessions of user p_of that the acting user p_user_id (NULL: the system actor) may see, newest first; one round trip.';
REVOKE ALL ON FUNCTION app_active_sessions(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_active_sessions(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_oauth_client(p_user_id uuid, p_client_id text) RETURNS SETOF oauth2_clients
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.oauth2_clients c WHERE c.client_id = p_client_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_oauth_client(uuid, text) IS
    'The OAuth client p_client_id as the acting user p_user_id (NULL: the system actor, for verification) may see it under oauth2_clients'' RLS policies; one round trip.';
REVOKE ALL ON FUNCTION app_oauth_client(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_oauth_client(uuid, text) TO quotedb_app;

CREATE FUNCTION app_oauth_clients(p_user_id uuid) RETURNS SETOF oauth2_clients
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.oauth2_clients c ORDER BY c.created_at, c.client_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_oauth_clients(uuid) IS
    'The OAuth clients the acting user p_user_id (NULL: the system actor) may see, oldest first; one round trip.';
REVOKE ALL ON FUNCTION app_oauth_clients(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_oauth_clients(uuid) TO quotedb_app;

-- Keyset page of an entity's history: rows in [p_from, p_upper_time] strictly before
-- (p_upper_time, p_upper_id), newest first (audit_logs_entity_type_entity_id_occurred_at_idx;
-- partitions outside the range are pruned at execution).
CREATE FUNCTION app_audit_history(p_user_id uuid, p_entity_type text, p_entity_id text, p_from timestamptz,
                                  p_upper_time timestamptz, p_upper_id bigint, p_limit bigint)
    RETURNS SETOF audit_logs
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.audit_logs a
                 WHERE a.entity_type = p_entity_type AND a.entity_id = p_entity_id
                   AND a.occurred_at >= p_from AND a.occurred_at <= p_upper_time
                   AND (a.occurred_at, a.id) < (p_upper_time, p_upper_id)
                 ORDER BY a.occurred_at DESC, a.id DESC
                 LIMIT p_limit;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_audit_history(uuid, text, text, timestamptz, timestamptz, bigint, bigint) IS
    'One page (p_limit rows) of an entity''s audit history in [p_from, p_upper_time] before (p_upper_time, p_upper_id), newest first, as the acting user p_user_id (NULL: the system actor) may read it (audit:read); one round trip.';
REVOKE ALL ON FUNCTION app_audit_history(uuid, text, text, timestamptz, timestamptz, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_audit_history(uuid, text, text, timestamptz, timestamptz, bigint, bigint) TO quotedb_app;

SELECT hand_objects_to_owner();
