-- 0013_state_code_text_contract (down): back to the state after 0012: char(2) state codes, and
-- quotes with its text copy, the sync trigger and the backfill procedure. Rewrites quotes (a
-- down migration is the emergency path, not the rolling one).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE quotes DROP CONSTRAINT quotes_state_fk;
ALTER TABLE base_rates DROP CONSTRAINT base_rates_state_fk;
ALTER TABLE territory_factors DROP CONSTRAINT territory_factors_state_fk;
ALTER TABLE discount_rules DROP CONSTRAINT discount_rules_state_fk;
ALTER TABLE surcharge_rules DROP CONSTRAINT surcharge_rules_state_fk;

ALTER TABLE states ALTER COLUMN code TYPE char(2);
ALTER TABLE base_rates ALTER COLUMN state_code TYPE char(2);
ALTER TABLE territory_factors ALTER COLUMN state_code TYPE char(2);
ALTER TABLE discount_rules ALTER COLUMN state_code TYPE char(2);
ALTER TABLE surcharge_rules ALTER COLUMN state_code TYPE char(2);

-- quotes: the text column becomes the copy again; a char(2) state_code is filled from it
-- without touching updated_at (set_updated_at is dropped while the column is filled).
DROP TRIGGER quotes_set_updated_at ON quotes;
ALTER TABLE quotes RENAME COLUMN state_code TO state_code_text;
ALTER TABLE quotes ALTER COLUMN state_code_text DROP NOT NULL;
COMMENT ON COLUMN quotes.state_code_text IS
    'Transitional (0011-0013): state_code as text, kept equal by quotes_state_code_text_sync and filled for older rows by quotedb_backfill_quotes_state_code_text(); becomes state_code in 0013.';
ALTER TABLE quotes ADD COLUMN state_code char(2);
-- Filling the new column is not a change of a priced term (quotes_priced_terms_frozen would see
-- NULL become the state).
ALTER TABLE quotes DISABLE TRIGGER quotes_priced_terms_frozen;
UPDATE quotes SET state_code = state_code_text;
ALTER TABLE quotes ENABLE TRIGGER quotes_priced_terms_frozen;
ALTER TABLE quotes ALTER COLUMN state_code SET NOT NULL;
COMMENT ON COLUMN quotes.state_code IS 'State whose rates apply (garaging state).';
ALTER TABLE quotes ADD CONSTRAINT quotes_state_code_text_present CHECK (state_code_text IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT quotes_state_code_text_present ON quotes IS
    'Transitional (0011-0013): every quote has its text state code before the columns are swapped.';
CREATE TRIGGER quotes_set_updated_at
    BEFORE UPDATE OF id, quote_number, customer_id, agent_id, state_code, zip, status, premium, current_version,
        effective_date, expires_at, bound_at, metadata, created_at, updated_at
    ON quotes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE FUNCTION quotes_state_code_text_sync_fn() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    NEW.state_code_text := NEW.state_code;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION quotes_state_code_text_sync_fn() IS
    'Transitional (0011-0013): copies quotes.state_code into state_code_text on every insert and update (an update by a release that predates 0011 must pass quotes_state_code_text_present).';
REVOKE ALL ON FUNCTION quotes_state_code_text_sync_fn() FROM PUBLIC;
CREATE TRIGGER quotes_state_code_text_sync
    BEFORE INSERT OR UPDATE ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_state_code_text_sync_fn();

CREATE PROCEDURE quotedb_backfill_quotes_state_code_text(batch integer DEFAULT 5000)
    LANGUAGE plpgsql
AS $$
DECLARE
    done_to uuid := '00000000-0000-0000-0000-000000000000';
    upto uuid;
BEGIN
    -- Walk the primary key in slices of `batch` rows (each an index range, never a rescan of
    -- what is done), filling the rows still without their copy; rows written meanwhile get
    -- theirs from quotes_state_code_text_sync. Row locks only (no key update: inserts of
    -- versions and coverage lines referencing a quote are not blocked), released at each COMMIT.
    LOOP
        SELECT s.id INTO upto
        FROM (SELECT id FROM public.quotes WHERE id > done_to ORDER BY id LIMIT batch) s
        ORDER BY s.id DESC LIMIT 1;
        EXIT WHEN upto IS NULL;
        UPDATE public.quotes q
        SET state_code_text = q.state_code
        WHERE q.id > done_to AND q.id <= upto AND q.state_code_text IS NULL;
        done_to := upto;
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE quotedb_backfill_quotes_state_code_text(integer) IS
    'Transitional (0011-0013): fills quotes.state_code_text walking the primary key in slices of `batch` rows, committing after each (run outside a transaction: migration 0012).';
REVOKE ALL ON PROCEDURE quotedb_backfill_quotes_state_code_text(integer) FROM PUBLIC;

ALTER TABLE quotes ADD CONSTRAINT quotes_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT;
COMMENT ON CONSTRAINT quotes_state_fk ON quotes IS
    'A quote is for a known state; RESTRICT because a state with quotes cannot disappear from the reference data.';
ALTER TABLE base_rates ADD CONSTRAINT base_rates_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT;
COMMENT ON CONSTRAINT base_rates_state_fk ON base_rates IS
    'A base rate is filed for a known state; RESTRICT because a state with rates cannot disappear from the reference data.';
ALTER TABLE territory_factors ADD CONSTRAINT territory_factors_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT;
COMMENT ON CONSTRAINT territory_factors_state_fk ON territory_factors IS
    'A territory factor is filed for a known state; RESTRICT because a state with factors cannot disappear from the reference data.';
ALTER TABLE discount_rules ADD CONSTRAINT discount_rules_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT;
COMMENT ON CONSTRAINT discount_rules_state_fk ON discount_rules IS
    'A state-specific discount names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';
ALTER TABLE surcharge_rules ADD CONSTRAINT surcharge_rules_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT;
COMMENT ON CONSTRAINT surcharge_rules_state_fk ON surcharge_rules IS
    'A state-specific surcharge names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';

SELECT hand_objects_to_owner();
