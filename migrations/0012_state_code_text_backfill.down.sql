-- 0012_state_code_text_backfill (down): nothing to undo; 0011's down drops the column.
SELECT 1;
