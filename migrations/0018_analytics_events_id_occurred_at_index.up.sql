-- no-transaction
-- 0018 (up): the unique index (id, occurred_at) analytics_events' monthly partitioning needs (a
-- partitioned table's primary key must contain the partition key). Built without blocking writes;
-- 0021 turns it into the primary key of the table when the table becomes the first partition
-- (analytics_events_legacy). One statement: CREATE INDEX CONCURRENTLY cannot run in a transaction.
-- CREATE INDEX CONCURRENTLY cannot share its query with a SET (no transaction) and blocks no write; a failed build must fail the migration, not be skipped as existing:
-- squawk-ignore prefer-robust-stmts, require-lock-timeout, require-statement-timeout
CREATE UNIQUE INDEX CONCURRENTLY analytics_events_id_occurred_at_key ON analytics_events (id, occurred_at);
