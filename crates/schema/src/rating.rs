//! Migration 0003 (rating engine): effective-dated base rates and territory factors, discount
//! and surcharge rules.
//!
//! Rate resolution for a quote effective on `$3`:
//!
//! ```sql
//! SELECT base_amount FROM base_rates
//!  WHERE status = 'active' AND state_code = $1 AND coverage_type = $2 AND effective @> $3::date;
//! SELECT factor FROM territory_factors
//!  WHERE status = 'active' AND state_code = $1 AND zip = $2 AND effective @> $3::date;
//! ```
//!
//! Keep `status = 'active'` literal in the query text: the partial indexes
//! `base_rates_state_code_coverage_type_active_idx` and
//! `territory_factors_state_code_zip_active_idx` match it (also under generic plans).

db_enum! {
    /// Lifecycle of a rate row (`rate_status`): proposed → active → retired, or proposed → retired.
    pub enum RateStatus as "rate_status" {
        /// Being prepared; not used for rating.
        Proposed = "proposed",
        /// Used for rating (only through an approved rate change request).
        Active = "active",
        /// History (terminal).
        Retired = "retired",
    }
}

db_enum! {
    /// The discounts the rating engine knows (`discount_code`).
    pub enum DiscountCode as "discount_code" {
        /// Customer holds another policy with the carrier.
        MultiPolicy = "multi_policy",
        /// Clean driving record.
        GoodDriver = "good_driver",
        /// Young driver with good grades.
        GoodStudent = "good_student",
        /// Vehicle with high safety ratings.
        SafeVehicle = "safe_vehicle",
        /// Vehicle with an anti-theft device.
        AntiTheft = "anti_theft",
        /// Paperless documents and billing.
        Paperless = "paperless",
        /// Long-standing customer.
        Loyalty = "loyalty",
    }
}

db_enum! {
    /// The surcharges the rating engine knows (`surcharge_code`).
    pub enum SurchargeCode as "surcharge_code" {
        /// At-fault accident in the look-back period.
        AtFaultAccident = "at_fault_accident",
        /// Speeding violation in the look-back period.
        SpeedingViolation = "speeding_violation",
        /// Driving under the influence.
        Dui = "dui",
        /// Driver under the age threshold.
        YoungDriver = "young_driver",
        /// Gap in prior insurance coverage.
        CoverageLapse = "coverage_lapse",
    }
}

/// Business-rule names of migration 0003 (constraint and rule-trigger names).
pub mod rules {
    // base_rates
    /// A base rate is filed for a known state (RESTRICT).
    pub const BASE_RATES_STATE_FK: &str = "base_rates_state_fk";
    /// A base rate amount is greater than zero.
    pub const BASE_RATES_BASE_AMOUNT_POSITIVE: &str = "base_rates_base_amount_positive";
    /// A base rate's effective period contains at least one day.
    pub const BASE_RATES_EFFECTIVE_NOT_EMPTY: &str = "base_rates_effective_not_empty";
    /// A base rate's effective period has a first day.
    pub const BASE_RATES_EFFECTIVE_HAS_START: &str = "base_rates_effective_has_start";
    /// Two active base rates for the same state and coverage type never have overlapping
    /// effective periods (EXCLUDE USING gist).
    pub const BASE_RATES_NO_OVERLAP: &str = "base_rates_no_overlap";
    /// A base rate moves proposed → active → retired or proposed → retired; retired is terminal
    /// and an active rate never goes back to proposed (trigger).
    pub const BASE_RATES_STATUS_TRANSITION: &str = "base_rates_status_transition";
    /// Once active, a base rate's state, coverage, amount and start date never change; its
    /// period may only be closed earlier (trigger).
    pub const BASE_RATES_TERMS_FROZEN: &str = "base_rates_terms_frozen";

    // territory_factors
    /// A territory factor is filed for a known state (RESTRICT).
    pub const TERRITORY_FACTORS_STATE_FK: &str = "territory_factors_state_fk";
    /// A territory's ZIP code is exactly 5 digits.
    pub const TERRITORY_FACTORS_ZIP_FORMAT: &str = "territory_factors_zip_format";
    /// A territory names its city.
    pub const TERRITORY_FACTORS_CITY_NOT_BLANK: &str = "territory_factors_city_not_blank";
    /// A territory factor lies between 0.500 and 3.000.
    pub const TERRITORY_FACTORS_FACTOR_RANGE: &str = "territory_factors_factor_range";
    /// A territory factor's effective period contains at least one day.
    pub const TERRITORY_FACTORS_EFFECTIVE_NOT_EMPTY: &str = "territory_factors_effective_not_empty";
    /// A territory factor's effective period has a first day.
    pub const TERRITORY_FACTORS_EFFECTIVE_HAS_START: &str = "territory_factors_effective_has_start";
    /// Two active territory factors for the same state and ZIP never have overlapping effective
    /// periods (EXCLUDE USING gist).
    pub const TERRITORY_FACTORS_NO_OVERLAP: &str = "territory_factors_no_overlap";
    /// A territory factor moves proposed → active → retired or proposed → retired; retired is
    /// terminal and an active factor never goes back to proposed (trigger).
    pub const TERRITORY_FACTORS_STATUS_TRANSITION: &str = "territory_factors_status_transition";
    /// Once active, a territory factor's state, ZIP, factor and start date never change; its
    /// period may only be closed earlier (trigger).
    pub const TERRITORY_FACTORS_TERMS_FROZEN: &str = "territory_factors_terms_frozen";

    // discount_rules
    /// A state-specific discount names a known state (RESTRICT).
    pub const DISCOUNT_RULES_STATE_FK: &str = "discount_rules_state_fk";
    /// A discount is more than 0 % and at most 50 %.
    pub const DISCOUNT_RULES_PERCENT_RANGE: &str = "discount_rules_percent_range";
    /// A discount's eligibility conditions are a JSON object.
    pub const DISCOUNT_RULES_ELIGIBILITY_IS_OBJECT: &str = "discount_rules_eligibility_is_object";
    /// A discount has a description.
    pub const DISCOUNT_RULES_DESCRIPTION_NOT_BLANK: &str = "discount_rules_description_not_blank";
    /// A discount code has at most one countrywide rule and at most one rule per state
    /// (UNIQUE NULLS NOT DISTINCT).
    pub const DISCOUNT_RULES_CODE_STATE_UNIQUE: &str = "discount_rules_code_state_unique";

    // surcharge_rules
    /// A state-specific surcharge names a known state (RESTRICT).
    pub const SURCHARGE_RULES_STATE_FK: &str = "surcharge_rules_state_fk";
    /// A surcharge is more than 0 % and at most 200 %.
    pub const SURCHARGE_RULES_PERCENT_RANGE: &str = "surcharge_rules_percent_range";
    /// A surcharge's conditions are a JSON object.
    pub const SURCHARGE_RULES_CONDITIONS_IS_OBJECT: &str = "surcharge_rules_conditions_is_object";
    /// A surcharge has a description.
    pub const SURCHARGE_RULES_DESCRIPTION_NOT_BLANK: &str = "surcharge_rules_description_not_blank";
    /// A surcharge code has at most one countrywide rule and at most one rule per state
    /// (UNIQUE NULLS NOT DISTINCT).
    pub const SURCHARGE_RULES_CODE_STATE_UNIQUE: &str = "surcharge_rules_code_state_unique";

    // reference_data_generation (0015)
    /// The generation table holds exactly one row.
    pub const REFERENCE_DATA_GENERATION_SINGLETON: &str = "reference_data_generation_singleton";
    /// A reference data generation is a positive number.
    pub const REFERENCE_DATA_GENERATION_POSITIVE: &str = "reference_data_generation_positive";

    /// Every rule name of this module.
    pub const ALL: &[&str] = &[
        BASE_RATES_STATE_FK,
        BASE_RATES_BASE_AMOUNT_POSITIVE,
        BASE_RATES_EFFECTIVE_NOT_EMPTY,
        BASE_RATES_EFFECTIVE_HAS_START,
        BASE_RATES_NO_OVERLAP,
        BASE_RATES_STATUS_TRANSITION,
        BASE_RATES_TERMS_FROZEN,
        TERRITORY_FACTORS_STATE_FK,
        TERRITORY_FACTORS_ZIP_FORMAT,
        TERRITORY_FACTORS_CITY_NOT_BLANK,
        TERRITORY_FACTORS_FACTOR_RANGE,
        TERRITORY_FACTORS_EFFECTIVE_NOT_EMPTY,
        TERRITORY_FACTORS_EFFECTIVE_HAS_START,
        TERRITORY_FACTORS_NO_OVERLAP,
        TERRITORY_FACTORS_STATUS_TRANSITION,
        TERRITORY_FACTORS_TERMS_FROZEN,
        DISCOUNT_RULES_STATE_FK,
        DISCOUNT_RULES_PERCENT_RANGE,
        DISCOUNT_RULES_ELIGIBILITY_IS_OBJECT,
        DISCOUNT_RULES_DESCRIPTION_NOT_BLANK,
        DISCOUNT_RULES_CODE_STATE_UNIQUE,
        SURCHARGE_RULES_STATE_FK,
        SURCHARGE_RULES_PERCENT_RANGE,
        SURCHARGE_RULES_CONDITIONS_IS_OBJECT,
        SURCHARGE_RULES_DESCRIPTION_NOT_BLANK,
        SURCHARGE_RULES_CODE_STATE_UNIQUE,
        REFERENCE_DATA_GENERATION_SINGLETON,
        REFERENCE_DATA_GENERATION_POSITIVE,
    ];
}
