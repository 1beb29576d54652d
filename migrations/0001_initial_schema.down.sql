-- Reverts 0001. Roles are cluster-wide and shared by other databases: they are NOT dropped,
-- only the privileges 0001 granted in this database are revoked (grants on dropped objects go
-- with the objects).
DROP TABLE states;
DROP FUNCTION app_is_system();
DROP FUNCTION app_user_id();
DROP FUNCTION set_updated_at();
REVOKE USAGE ON SCHEMA public FROM quotedb_app, quotedb_readonly;
DROP EXTENSION btree_gist;
DROP EXTENSION citext;
