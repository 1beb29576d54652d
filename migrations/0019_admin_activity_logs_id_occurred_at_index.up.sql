-- no-transaction
-- 0019 (up): the unique index (id, occurred_at) admin_activity_logs' monthly partitioning needs,
-- built without blocking writes (see 0018). One statement: CREATE INDEX CONCURRENTLY cannot run in
-- a transaction.
-- CREATE INDEX CONCURRENTLY cannot share its query with a SET (no transaction) and blocks no write; a failed build must fail the migration, not be skipped as existing:
-- squawk-ignore prefer-robust-stmts, require-lock-timeout, require-statement-timeout
CREATE UNIQUE INDEX CONCURRENTLY admin_activity_logs_id_occurred_at_key ON admin_activity_logs (id, occurred_at);
