-- 0027 users.email_key backfill (down): nothing to undo; 0026's down drops the column.
SELECT 1;
