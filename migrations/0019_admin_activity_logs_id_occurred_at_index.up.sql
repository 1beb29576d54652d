-- no-transaction
-- 0019 (up): the unique index (id, occurred_at) admin_activity_logs' monthly partitioning needs,
-- built without blocking writes (see 0018). One statement: CREATE INDEX CONCURRENTLY cannot run in
-- a transaction.
CREATE UNIQUE INDEX CONCURRENTLY admin_activity_logs_id_occurred_at_key ON admin_activity_logs (id, occurred_at);
