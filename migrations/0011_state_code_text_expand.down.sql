-- 0011_state_code_text_expand (down): drop the text copy and its machinery.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

DROP PROCEDURE quotedb_backfill_quotes_state_code_text(integer);

DROP TRIGGER quotes_set_updated_at ON quotes;
CREATE TRIGGER quotes_set_updated_at
    BEFORE UPDATE ON quotes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

DROP TRIGGER quotes_state_code_text_sync ON quotes;
DROP FUNCTION quotes_state_code_text_sync_fn();

ALTER TABLE quotes DROP CONSTRAINT quotes_state_code_text_present;
ALTER TABLE quotes DROP COLUMN state_code_text;
