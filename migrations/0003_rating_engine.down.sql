-- Reverts 0003 (reverse order of creation; triggers, indexes, constraints and grants go with
-- their tables).
DROP TABLE surcharge_rules;
DROP TABLE discount_rules;
DROP TABLE territory_factors;
DROP TABLE base_rates;
DROP FUNCTION rate_terms_frozen_fn();
DROP FUNCTION rate_status_transition_fn();
DROP TYPE surcharge_code;
DROP TYPE discount_code;
DROP TYPE rate_status;
