-- 0003 rating engine: effective-dated base rates and territory factors (at most one ACTIVE row
-- per key and day), discount and surcharge rules.
--
-- Premium = base x territory x (1 + sum surcharges) x (1 - min(sum stackable discounts, cap)),
-- computed in Rust (rust_decimal); the breakdown is stored in quote_versions.
--
-- Rate lifecycle (rate_status): proposed -> active -> retired, or proposed -> retired (withdrawn).
-- Becoming active is gated by an approved rate change request: that trigger is added by 0006.
-- This migration enforces the lifecycle itself and that an active/retired row's priced terms do
-- not change in place (a filed rate is changed by retiring it / closing its period and
-- activating a new row).

-- ---------------------------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------------------------
CREATE TYPE rate_status AS ENUM ('proposed', 'active', 'retired');
COMMENT ON TYPE rate_status IS
    'Lifecycle of a rate row: proposed (being prepared), active (used for rating; only through an approved rate change request), retired (history). proposed -> active -> retired, or proposed -> retired.';

CREATE TYPE discount_code AS ENUM (
    'multi_policy', 'good_driver', 'good_student', 'safe_vehicle', 'anti_theft', 'paperless', 'loyalty'
);
COMMENT ON TYPE discount_code IS 'The discounts the rating engine knows how to apply.';

CREATE TYPE surcharge_code AS ENUM (
    'at_fault_accident', 'speeding_violation', 'dui', 'young_driver', 'coverage_lapse'
);
COMMENT ON TYPE surcharge_code IS 'The surcharges the rating engine knows how to apply.';

-- ---------------------------------------------------------------------------------------------
-- Shared lifecycle triggers for base_rates and territory_factors
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION rate_status_transition_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.status = OLD.status
       OR (OLD.status = 'proposed' AND NEW.status IN ('active', 'retired'))
       OR (OLD.status = 'active' AND NEW.status = 'retired') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = TG_NAME,
        MESSAGE = format('%s %s cannot move from %s to %s', TG_TABLE_NAME, OLD.id, OLD.status, NEW.status),
        DETAIL = 'allowed: proposed -> active, proposed -> retired, active -> retired; retired is terminal';
END
$fn$;

COMMENT ON FUNCTION rate_status_transition_fn() IS
    'Trigger function of base_rates_status_transition and territory_factors_status_transition (constraint name = TG_NAME).';

-- Terms of an active or retired row: the key, the priced value and the period start are frozen;
-- the period end may only move earlier (closing the period when a successor takes over).
CREATE FUNCTION rate_terms_frozen_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_key_old text;
    v_key_new text;
BEGIN
    IF OLD.status = 'proposed' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'base_rates' THEN
        v_key_old := concat_ws('|', OLD.state_code, OLD.coverage_type, OLD.base_amount);
        v_key_new := concat_ws('|', NEW.state_code, NEW.coverage_type, NEW.base_amount);
    ELSE
        v_key_old := concat_ws('|', OLD.state_code, OLD.zip, OLD.factor);
        v_key_new := concat_ws('|', NEW.state_code, NEW.zip, NEW.factor);
    END IF;
    IF v_key_new IS DISTINCT FROM v_key_old
       OR lower(NEW.effective) IS DISTINCT FROM lower(OLD.effective)
       OR (NOT upper_inf(OLD.effective)
           AND (upper_inf(NEW.effective) OR upper(NEW.effective) > upper(OLD.effective))) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = TG_NAME,
            MESSAGE = format('%s %s is %s: its terms cannot change', TG_TABLE_NAME, OLD.id, OLD.status),
            DETAIL = format('old (%s, %s) new (%s, %s); only the end of the period may move earlier',
                            v_key_old, OLD.effective, v_key_new, NEW.effective),
            HINT = 'propose a new row and activate it through a rate change request';
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION rate_terms_frozen_fn() IS
    'Trigger function of base_rates_terms_frozen and territory_factors_terms_frozen (constraint name = TG_NAME).';

-- ---------------------------------------------------------------------------------------------
-- base_rates
-- ---------------------------------------------------------------------------------------------
CREATE TABLE base_rates (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    state_code    char(2)       NOT NULL,
    coverage_type coverage_type NOT NULL,
    base_amount   numeric(12,2) NOT NULL,
    effective     daterange     NOT NULL,
    status        rate_status   NOT NULL DEFAULT 'proposed',
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT base_rates_pkey PRIMARY KEY (id),
    CONSTRAINT base_rates_state_fk FOREIGN KEY (state_code)
        REFERENCES states (code) ON DELETE RESTRICT,
    CONSTRAINT base_rates_base_amount_positive CHECK (base_amount > 0),
    CONSTRAINT base_rates_effective_not_empty CHECK (NOT isempty(effective)),
    CONSTRAINT base_rates_effective_has_start CHECK (NOT lower_inf(effective)),
    CONSTRAINT base_rates_no_overlap EXCLUDE USING gist (
        state_code WITH =, coverage_type WITH =, effective WITH &&
    ) WHERE (status = 'active')
);

COMMENT ON TABLE base_rates IS
    'Filed annual base premium per state and coverage type, effective-dated; rating uses the active row whose period contains the quote''s effective date.';
COMMENT ON COLUMN base_rates.base_amount IS 'Annual base premium in dollars before territory, surcharges and discounts.';
COMMENT ON COLUMN base_rates.effective IS
    'Days the rate applies: [from, to) with an open end allowed (to = NULL: until further notice).';
COMMENT ON COLUMN base_rates.status IS
    'proposed on creation; active only through an approved rate change request (0006); retired afterwards.';
COMMENT ON CONSTRAINT base_rates_state_fk ON base_rates IS
    'A base rate is filed for a known state; RESTRICT because a state with rates cannot disappear from the reference data.';
COMMENT ON CONSTRAINT base_rates_base_amount_positive ON base_rates IS 'A base rate amount is greater than zero.';
COMMENT ON CONSTRAINT base_rates_effective_not_empty ON base_rates IS 'A base rate''s effective period contains at least one day.';
COMMENT ON CONSTRAINT base_rates_effective_has_start ON base_rates IS 'A base rate''s effective period has a first day.';
COMMENT ON CONSTRAINT base_rates_no_overlap ON base_rates IS
    'Two active base rates for the same state and coverage type never have overlapping effective periods.';

-- Rate resolution: WHERE status = 'active' AND state_code = $1 AND coverage_type = $2
-- AND effective @> $3::date. The btree narrows to the (few) active rows of the key; INCLUDE lets
-- it answer from the index alone. Literal predicate: usable by generic plans.
CREATE INDEX base_rates_state_code_coverage_type_active_idx
    ON base_rates (state_code, coverage_type) INCLUDE (effective, base_amount)
    WHERE status = 'active';

CREATE TRIGGER base_rates_set_updated_at
    BEFORE UPDATE ON base_rates
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER base_rates_status_transition
    BEFORE UPDATE OF status ON base_rates
    FOR EACH ROW EXECUTE FUNCTION rate_status_transition_fn();
COMMENT ON TRIGGER base_rates_status_transition ON base_rates IS
    'A base rate moves proposed -> active -> retired or proposed -> retired; retired is terminal and an active rate never goes back to proposed.';

CREATE TRIGGER base_rates_terms_frozen
    BEFORE UPDATE ON base_rates
    FOR EACH ROW EXECUTE FUNCTION rate_terms_frozen_fn();
COMMENT ON TRIGGER base_rates_terms_frozen ON base_rates IS
    'Once active, a base rate''s state, coverage, amount and start date never change; its period may only be closed earlier.';

-- ---------------------------------------------------------------------------------------------
-- territory_factors
-- ---------------------------------------------------------------------------------------------
CREATE TABLE territory_factors (
    id         uuid         NOT NULL DEFAULT gen_random_uuid(),
    state_code char(2)      NOT NULL,
    zip        text         NOT NULL,
    city       text         NOT NULL,
    factor     numeric(4,3) NOT NULL,
    effective  daterange    NOT NULL,
    status     rate_status  NOT NULL DEFAULT 'proposed',
    created_at timestamptz  NOT NULL DEFAULT now(),
    updated_at timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT territory_factors_pkey PRIMARY KEY (id),
    CONSTRAINT territory_factors_state_fk FOREIGN KEY (state_code)
        REFERENCES states (code) ON DELETE RESTRICT,
    CONSTRAINT territory_factors_zip_format CHECK (zip ~ '^[0-9]{5}$'),
    CONSTRAINT territory_factors_city_not_blank CHECK (btrim(city) <> ''),
    CONSTRAINT territory_factors_factor_range CHECK (factor BETWEEN 0.500 AND 3.000),
    CONSTRAINT territory_factors_effective_not_empty CHECK (NOT isempty(effective)),
    CONSTRAINT territory_factors_effective_has_start CHECK (NOT lower_inf(effective)),
    CONSTRAINT territory_factors_no_overlap EXCLUDE USING gist (
        state_code WITH =, zip WITH =, effective WITH &&
    ) WHERE (status = 'active')
);

COMMENT ON TABLE territory_factors IS
    'Multiplier on the base rate for the garaging ZIP code, per state, effective-dated.';
COMMENT ON COLUMN territory_factors.zip IS 'Five-digit ZIP code the factor applies to.';
COMMENT ON COLUMN territory_factors.city IS 'City (or borough) name of the ZIP, for people reading the table.';
COMMENT ON COLUMN territory_factors.factor IS 'Multiplier applied to the base rate (1.000 = neutral).';
COMMENT ON COLUMN territory_factors.effective IS
    'Days the factor applies: [from, to) with an open end allowed.';
COMMENT ON COLUMN territory_factors.status IS
    'proposed on creation; active only through an approved rate change request (0006); retired afterwards.';
COMMENT ON CONSTRAINT territory_factors_state_fk ON territory_factors IS
    'A territory factor is filed for a known state; RESTRICT because a state with factors cannot disappear from the reference data.';
COMMENT ON CONSTRAINT territory_factors_zip_format ON territory_factors IS 'A territory''s ZIP code is exactly 5 digits.';
COMMENT ON CONSTRAINT territory_factors_city_not_blank ON territory_factors IS 'A territory names its city.';
COMMENT ON CONSTRAINT territory_factors_factor_range ON territory_factors IS
    'A territory factor lies between 0.500 and 3.000.';
COMMENT ON CONSTRAINT territory_factors_effective_not_empty ON territory_factors IS
    'A territory factor''s effective period contains at least one day.';
COMMENT ON CONSTRAINT territory_factors_effective_has_start ON territory_factors IS
    'A territory factor''s effective period has a first day.';
COMMENT ON CONSTRAINT territory_factors_no_overlap ON territory_factors IS
    'Two active territory factors for the same state and ZIP never have overlapping effective periods.';

-- Lookup: WHERE status = 'active' AND state_code = $1 AND zip = $2 AND effective @> $3::date.
CREATE INDEX territory_factors_state_code_zip_active_idx
    ON territory_factors (state_code, zip) INCLUDE (effective, factor)
    WHERE status = 'active';

CREATE TRIGGER territory_factors_set_updated_at
    BEFORE UPDATE ON territory_factors
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER territory_factors_status_transition
    BEFORE UPDATE OF status ON territory_factors
    FOR EACH ROW EXECUTE FUNCTION rate_status_transition_fn();
COMMENT ON TRIGGER territory_factors_status_transition ON territory_factors IS
    'A territory factor moves proposed -> active -> retired or proposed -> retired; retired is terminal and an active factor never goes back to proposed.';

CREATE TRIGGER territory_factors_terms_frozen
    BEFORE UPDATE ON territory_factors
    FOR EACH ROW EXECUTE FUNCTION rate_terms_frozen_fn();
COMMENT ON TRIGGER territory_factors_terms_frozen ON territory_factors IS
    'Once active, a territory factor''s state, ZIP, factor and start date never change; its period may only be closed earlier.';

-- ---------------------------------------------------------------------------------------------
-- discount_rules
-- ---------------------------------------------------------------------------------------------
CREATE TABLE discount_rules (
    id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    code        discount_code NOT NULL,
    state_code  char(2)       NULL,
    percent     numeric(5,2)  NOT NULL,
    stackable   boolean       NOT NULL,
    eligibility jsonb         NOT NULL,
    description text          NOT NULL,
    active      boolean       NOT NULL DEFAULT false,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT discount_rules_pkey PRIMARY KEY (id),
    CONSTRAINT discount_rules_state_fk FOREIGN KEY (state_code)
        REFERENCES states (code) ON DELETE RESTRICT,
    CONSTRAINT discount_rules_percent_range CHECK (percent > 0 AND percent <= 50),
    CONSTRAINT discount_rules_eligibility_is_object CHECK (jsonb_typeof(eligibility) = 'object'),
    CONSTRAINT discount_rules_description_not_blank CHECK (btrim(description) <> ''),
    CONSTRAINT discount_rules_code_state_unique UNIQUE NULLS NOT DISTINCT (code, state_code)
);

COMMENT ON TABLE discount_rules IS
    'Discounts: a percentage off the premium when the eligibility conditions hold. A state-specific row overrides the countrywide row (state_code NULL) of the same code.';
COMMENT ON COLUMN discount_rules.state_code IS 'State the rule applies in; NULL = every state without its own row for the code.';
COMMENT ON COLUMN discount_rules.percent IS 'Percentage off, in (0, 50].';
COMMENT ON COLUMN discount_rules.stackable IS
    'True: adds to the other stackable discounts (their sum capped by the discount cap setting). False: applies only on its own.';
COMMENT ON COLUMN discount_rules.eligibility IS
    'JSON object of conditions evaluated by the rating engine (e.g. {"min_years_claim_free": 5}).';
COMMENT ON COLUMN discount_rules.active IS 'Whether rating applies the rule; false on creation until switched on.';
COMMENT ON CONSTRAINT discount_rules_state_fk ON discount_rules IS
    'A state-specific discount names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';
COMMENT ON CONSTRAINT discount_rules_percent_range ON discount_rules IS
    'A discount is more than 0 % and at most 50 %.';
COMMENT ON CONSTRAINT discount_rules_eligibility_is_object ON discount_rules IS
    'A discount''s eligibility conditions are a JSON object.';
COMMENT ON CONSTRAINT discount_rules_description_not_blank ON discount_rules IS 'A discount has a description.';
COMMENT ON CONSTRAINT discount_rules_code_state_unique ON discount_rules IS
    'A discount code has at most one countrywide rule and at most one rule per state (NULL state counts as a value).';

CREATE INDEX discount_rules_eligibility_idx ON discount_rules USING gin (eligibility);
-- Rating: WHERE active AND (state_code = $1 OR state_code IS NULL).
CREATE INDEX discount_rules_state_code_active_idx ON discount_rules (state_code) WHERE active;

CREATE TRIGGER discount_rules_set_updated_at
    BEFORE UPDATE ON discount_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- surcharge_rules
-- ---------------------------------------------------------------------------------------------
CREATE TABLE surcharge_rules (
    id          uuid           NOT NULL DEFAULT gen_random_uuid(),
    code        surcharge_code NOT NULL,
    state_code  char(2)        NULL,
    percent     numeric(5,2)   NOT NULL,
    conditions  jsonb          NOT NULL,
    description text           NOT NULL,
    active      boolean        NOT NULL DEFAULT false,
    created_at  timestamptz    NOT NULL DEFAULT now(),
    updated_at  timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT surcharge_rules_pkey PRIMARY KEY (id),
    CONSTRAINT surcharge_rules_state_fk FOREIGN KEY (state_code)
        REFERENCES states (code) ON DELETE RESTRICT,
    CONSTRAINT surcharge_rules_percent_range CHECK (percent > 0 AND percent <= 200),
    CONSTRAINT surcharge_rules_conditions_is_object CHECK (jsonb_typeof(conditions) = 'object'),
    CONSTRAINT surcharge_rules_description_not_blank CHECK (btrim(description) <> ''),
    CONSTRAINT surcharge_rules_code_state_unique UNIQUE NULLS NOT DISTINCT (code, state_code)
);

COMMENT ON TABLE surcharge_rules IS
    'Surcharges: a percentage added to the premium when the conditions hold. A state-specific row overrides the countrywide row (state_code NULL) of the same code.';
COMMENT ON COLUMN surcharge_rules.state_code IS 'State the rule applies in; NULL = every state without its own row for the code.';
COMMENT ON COLUMN surcharge_rules.percent IS 'Percentage added, in (0, 200].';
COMMENT ON COLUMN surcharge_rules.conditions IS
    'JSON object of conditions evaluated by the rating engine (e.g. {"max_driver_age": 24}).';
COMMENT ON COLUMN surcharge_rules.active IS 'Whether rating applies the rule; false on creation until switched on.';
COMMENT ON CONSTRAINT surcharge_rules_state_fk ON surcharge_rules IS
    'A state-specific surcharge names a known state; RESTRICT because a state with rules cannot disappear from the reference data.';
COMMENT ON CONSTRAINT surcharge_rules_percent_range ON surcharge_rules IS
    'A surcharge is more than 0 % and at most 200 %.';
COMMENT ON CONSTRAINT surcharge_rules_conditions_is_object ON surcharge_rules IS
    'A surcharge''s conditions are a JSON object.';
COMMENT ON CONSTRAINT surcharge_rules_description_not_blank ON surcharge_rules IS 'A surcharge has a description.';
COMMENT ON CONSTRAINT surcharge_rules_code_state_unique ON surcharge_rules IS
    'A surcharge code has at most one countrywide rule and at most one rule per state (NULL state counts as a value).';

CREATE INDEX surcharge_rules_conditions_idx ON surcharge_rules USING gin (conditions);
CREATE INDEX surcharge_rules_state_code_active_idx ON surcharge_rules (state_code) WHERE active;

CREATE TRIGGER surcharge_rules_set_updated_at
    BEFORE UPDATE ON surcharge_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Grants. Rates are never deleted by the application (they are retired); the admin side of the
-- application proposes, activates and retires rows, so it inserts and updates.
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON base_rates, territory_factors, discount_rules, surcharge_rules TO quotedb_app;
GRANT SELECT ON base_rates, territory_factors, discount_rules, surcharge_rules TO quotedb_readonly;
