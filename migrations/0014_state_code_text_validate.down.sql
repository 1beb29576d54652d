-- 0014_state_code_text_validate (down): the foreign keys NOT VALID again, as 0013 left them (a
-- validated constraint cannot be marked NOT VALID: they are dropped and re-created).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

ALTER TABLE quotes DROP CONSTRAINT quotes_state_fk;
ALTER TABLE base_rates DROP CONSTRAINT base_rates_state_fk;
ALTER TABLE territory_factors DROP CONSTRAINT territory_factors_state_fk;
ALTER TABLE discount_rules DROP CONSTRAINT discount_rules_state_fk;
ALTER TABLE surcharge_rules DROP CONSTRAINT surcharge_rules_state_fk;

-- As 0013 created them.
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

