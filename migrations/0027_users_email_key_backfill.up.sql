-- no-transaction
-- 0027 users.email_key (step 2 of 3: backfill): fill users.email_key for the rows written before
-- 0026, walking the primary key 5,000 rows per transaction (row locks only, released at each
-- COMMIT). One statement: a CALL that commits must not share its query with another statement.
CALL quotedb_backfill_users_email_key(5000);
