-- 0026 users.email_key (down): the column, its trigger and the backfill go; updated_at is set on
-- every update again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

DROP PROCEDURE quotedb_backfill_users_email_key(integer);
DROP TRIGGER users_set_updated_at ON users;
CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
DROP TRIGGER users_maintain_email_key ON users;
DROP FUNCTION users_maintain_email_key_fn();
ALTER TABLE users DROP COLUMN email_key;
