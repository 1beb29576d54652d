-- no-transaction
-- 0028 users.email_key (step 3 of 3: index): the lookup index of app_user_by_email (0029), built
-- without blocking writes. Not UNIQUE: users_email_unique is the rule (one account per address);
-- this index only serves lookups. One statement: CREATE INDEX CONCURRENTLY cannot run in a
-- transaction.
-- CREATE INDEX CONCURRENTLY cannot share its query with a SET (no transaction) and blocks no write; a failed build must fail the migration, not be skipped as existing:
-- squawk-ignore prefer-robust-stmts, require-lock-timeout, require-statement-timeout
CREATE INDEX CONCURRENTLY users_email_key_idx ON users (email_key);
