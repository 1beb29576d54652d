-- 0029 the remaining reads as an actor in one round trip each (down): the functions go; the
-- repository of the previous release reads the tables in a transaction; users gets 0026's
-- set_updated_at trigger back.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION app_audit_history(uuid, text, text, timestamptz, timestamptz, bigint, bigint);
DROP FUNCTION app_oauth_clients(uuid);
DROP FUNCTION app_oauth_client(uuid, text);
DROP FUNCTION app_active_sessions(uuid, uuid);
DROP FUNCTION app_session_by_id(uuid, uuid);
DROP FUNCTION app_system_settings(uuid);
DROP FUNCTION app_system_setting(uuid, text);
DROP FUNCTION app_admin_dashboards(uuid);
DROP FUNCTION app_admin_permissions_of(uuid, uuid);
DROP FUNCTION app_admin_user_by_user(uuid, uuid);
DROP FUNCTION app_admin_user_by_id(uuid, uuid);
DROP FUNCTION app_user_vehicles(uuid, uuid);
DROP FUNCTION app_user_drivers(uuid, uuid);
DROP FUNCTION app_user_by_email(uuid, text);
DROP FUNCTION app_user_by_id(uuid, uuid);

DROP TRIGGER users_set_updated_at ON users;
CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE OF id, email, full_name, role, phone, created_at, updated_at
    ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON INDEX users_email_key_idx IS NULL;
