-- no-transaction
-- 0012_state_code_text_backfill (up): fill quotes.state_code_text for the rows written before
-- 0011, walking the primary key 5,000 rows per transaction (row locks only, released at each
-- COMMIT; a row a writer holds is waited for, briefly, not skipped). One statement: a CALL that
-- commits must not share its query with another statement.
CALL quotedb_backfill_quotes_state_code_text(5000);
