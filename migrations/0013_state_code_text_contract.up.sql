-- 0013_state_code_text_contract (up): state codes become text (step 3 of 4: swap).
--
-- Every quote has state_code_text since 0012 (and the sync trigger keeps new ones in step), so
-- the columns swap; the reference tables (tens to thousands of rows) are retyped in place. The
-- ACCESS EXCLUSIVE locks this takes are held for milliseconds at the bench scale (see
-- docs/migrations.md); the foreign keys come back NOT VALID and are validated by 0014 without
-- blocking writes.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

-- Scans quotes under SHARE UPDATE EXCLUSIVE (writes go on); SET NOT NULL below then needs no scan.
ALTER TABLE quotes VALIDATE CONSTRAINT quotes_state_code_text_present;

-- Every table this migration changes, locked at once, quotes last: no ACCESS EXCLUSIVE on quotes
-- is held while waiting for another table, and a busy table makes the migration give up within
-- the timeout (retry it) instead of stalling quotes behind it.
SET LOCAL lock_timeout = '2s';
LOCK TABLE states, base_rates, territory_factors, discount_rules, surcharge_rules, quotes IN ACCESS EXCLUSIVE MODE;

-- A foreign key needs the same type on both sides: drop them, retype, re-create (below, in this
-- transaction: no client ever sees a state code without its foreign key).
-- squawk-ignore ban-drop-constraint
ALTER TABLE quotes DROP CONSTRAINT quotes_state_fk;
-- squawk-ignore ban-drop-constraint
ALTER TABLE base_rates DROP CONSTRAINT base_rates_state_fk;
-- squawk-ignore ban-drop-constraint
ALTER TABLE territory_factors DROP CONSTRAINT territory_factors_state_fk;
-- squawk-ignore ban-drop-constraint
ALTER TABLE discount_rules DROP CONSTRAINT discount_rules_state_fk;
-- squawk-ignore ban-drop-constraint
ALTER TABLE surcharge_rules DROP CONSTRAINT surcharge_rules_state_fk;

-- The reference tables: small, retyped in place (a rewrite of a few hundred rows, milliseconds
-- under ACCESS EXCLUSIVE: docs/migrations.md). Readers get text where they got char(2); every
-- query of the previous release still prepares (`cargo xtask compat`).
-- squawk-ignore changing-column-type
ALTER TABLE states ALTER COLUMN code TYPE text;
-- squawk-ignore changing-column-type
ALTER TABLE base_rates ALTER COLUMN state_code TYPE text;
-- squawk-ignore changing-column-type
ALTER TABLE territory_factors ALTER COLUMN state_code TYPE text;
-- squawk-ignore changing-column-type
ALTER TABLE discount_rules ALTER COLUMN state_code TYPE text;
-- squawk-ignore changing-column-type
ALTER TABLE surcharge_rules ALTER COLUMN state_code TYPE text;

-- quotes: the text copy takes the name (catalog changes only). The triggers naming state_code
-- go first: a column cannot be dropped under a trigger that lists it.
DROP TRIGGER quotes_set_updated_at ON quotes;
DROP TRIGGER quotes_state_code_text_sync ON quotes;
-- The transitional objects of 0011: no client ever called them.
-- squawk-ignore ban-drop-function
DROP FUNCTION quotes_state_code_text_sync_fn();
-- squawk-ignore ban-drop-function
DROP PROCEDURE quotedb_backfill_quotes_state_code_text(integer);
-- The char(2) column goes and its text copy takes its name in the same transaction: a client
-- naming state_code reads the same values, as text.
-- squawk-ignore ban-drop-column
ALTER TABLE quotes DROP COLUMN state_code;
-- squawk-ignore renaming-column
ALTER TABLE quotes RENAME COLUMN state_code_text TO state_code;
ALTER TABLE quotes ALTER COLUMN state_code SET NOT NULL;
-- NOT NULL now holds the guarantee of this transitional check.
-- squawk-ignore ban-drop-constraint
ALTER TABLE quotes DROP CONSTRAINT quotes_state_code_text_present;
COMMENT ON COLUMN quotes.state_code IS 'State whose rates apply (garaging state).';

CREATE TRIGGER quotes_set_updated_at
    BEFORE UPDATE ON quotes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The foreign keys, as they were, NOT VALID (validated by 0014).
ALTER TABLE quotes ADD CONSTRAINT quotes_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT NOT VALID;
COMMENT ON CONSTRAINT quotes_state_fk ON quotes IS
    'A quote is for a known state; RESTRICT because a state with quotes cannot disappear from the reference data.';
ALTER TABLE base_rates ADD CONSTRAINT base_rates_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT NOT VALID;
COMMENT ON CONSTRAINT base_rates_state_fk ON base_rates IS
    'A base rate is filed for a known state; RESTRICT because a state with rates cannot disappear from the reference data.';
ALTER TABLE territory_factors ADD CONSTRAINT territory_factors_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT NOT VALID;
COMMENT ON CONSTRAINT territory_factors_state_fk ON territory_factors IS
    'A territory factor is filed for a known state; RESTRICT because a state with factors cannot disappear from the reference data.';
ALTER TABLE discount_rules ADD CONSTRAINT discount_rules_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT NOT VALID;
COMMENT ON CONSTRAINT discount_rules_state_fk ON discount_rules IS
    'A state-specific discount names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';
ALTER TABLE surcharge_rules ADD CONSTRAINT surcharge_rules_state_fk
    FOREIGN KEY (state_code) REFERENCES states (code) ON DELETE RESTRICT NOT VALID;
COMMENT ON CONSTRAINT surcharge_rules_state_fk ON surcharge_rules IS
    'A state-specific surcharge names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';

SELECT hand_objects_to_owner();
