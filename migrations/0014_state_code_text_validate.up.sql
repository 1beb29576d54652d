-- 0014_state_code_text_validate (up): state codes become text (step 4 of 4): validate the
-- foreign keys 0013 re-created NOT VALID. VALIDATE scans under SHARE UPDATE EXCLUSIVE on the
-- referencing table (reads and writes go on) and ROW SHARE on states.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE base_rates VALIDATE CONSTRAINT base_rates_state_fk;
ALTER TABLE territory_factors VALIDATE CONSTRAINT territory_factors_state_fk;
ALTER TABLE discount_rules VALIDATE CONSTRAINT discount_rules_state_fk;
ALTER TABLE surcharge_rules VALIDATE CONSTRAINT surcharge_rules_state_fk;
ALTER TABLE quotes VALIDATE CONSTRAINT quotes_state_fk;
