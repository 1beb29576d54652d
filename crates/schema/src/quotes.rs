//! Migration 0002 (users and quotes): users, drivers, vehicles, quotes with their data-driven
//! status machine, immutable quote versions and coverage lines.
//!
//! # Rating a quote (optimistic concurrency)
//!
//! In one transaction, bump the version first, then insert that version:
//!
//! ```sql
//! UPDATE quotes SET status = 'rated', premium = $2, current_version = current_version + 1
//!  WHERE id = $1 AND current_version = $3;             -- 0 rows: someone else rated it
//! INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
//! VALUES ($1, $3 + 1, $2, $4, $5);
//! ```
//!
//! [`rules::QUOTE_VERSIONS_CONTIGUOUS`] checks the inserted version is the next one and equals
//! `quotes.current_version`; [`rules::QUOTES_CURRENT_VERSION_IN_STEP`] checks at COMMIT that
//! `current_version` and `premium` are those of the latest version.

db_enum! {
    /// What a platform user is (`user_role`).
    pub enum UserRole as "user_role" {
        /// Asks for quotes.
        Customer = "customer",
        /// Is assigned quotes and works them.
        Agent = "agent",
    }
}

db_enum! {
    /// Quote lifecycle (`quote_status`). The allowed moves are the rows of
    /// `quote_status_transitions`: draft → rated (→ rated on re-rate) → presented → bound;
    /// draft/rated/presented → expired | declined | cancelled.
    pub enum QuoteStatus as "quote_status" {
        /// Being filled in; no premium.
        Draft = "draft",
        /// Priced (has a premium and at least one version).
        Rated = "rated",
        /// Price shown to the customer.
        Presented = "presented",
        /// Accepted by the customer (terminal).
        Bound = "bound",
        /// Validity ran out (terminal).
        Expired = "expired",
        /// Refused by underwriting (terminal).
        Declined = "declined",
        /// Withdrawn (terminal).
        Cancelled = "cancelled",
    }
}

impl QuoteStatus {
    /// The open statuses, exactly the predicate of `quotes_expires_at_open_idx`.
    pub const OPEN: [Self; 3] = [Self::Draft, Self::Rated, Self::Presented];

    /// No transition leaves a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Bound | Self::Expired | Self::Declined | Self::Cancelled)
    }
}

db_enum! {
    /// The fixed set of personal auto coverages (`coverage_type`).
    pub enum CoverageType as "coverage_type" {
        /// Liability for injuries to others.
        BodilyInjury = "bodily_injury",
        /// Liability for damage to others' property.
        PropertyDamage = "property_damage",
        /// Damage to the insured vehicle from a collision.
        Collision = "collision",
        /// Damage to the insured vehicle from anything else (theft, weather, glass).
        Comprehensive = "comprehensive",
        /// Injuries caused by an uninsured or underinsured driver.
        UninsuredMotorist = "uninsured_motorist",
        /// Medical costs of the insured's occupants.
        MedicalPayments = "medical_payments",
        /// Rental car while the insured vehicle is repaired.
        Rental = "rental",
        /// Towing and roadside assistance.
        Roadside = "roadside",
    }
}

/// Business-rule names of migration 0002 (constraint and rule-trigger names).
pub mod rules {
    // users
    /// An e-mail address belongs to at most one user, compared case-insensitively.
    pub const USERS_EMAIL_UNIQUE: &str = "users_email_unique";
    /// An e-mail address looks like local@domain.tld and is at most 254 characters.
    pub const USERS_EMAIL_FORMAT: &str = "users_email_format";
    /// A user has a non-blank full name.
    pub const USERS_FULL_NAME_NOT_BLANK: &str = "users_full_name_not_blank";
    /// A phone number, when given, is in E.164 form: + then 7 to 15 digits, no leading zero.
    pub const USERS_PHONE_FORMAT: &str = "users_phone_format";

    // drivers
    /// A driver belongs to a user (CASCADE: a driver profile means nothing without its user).
    pub const DRIVERS_USER_FK: &str = "drivers_user_fk";
    /// A driver has a non-blank first and last name.
    pub const DRIVERS_NAME_NOT_BLANK: &str = "drivers_name_not_blank";
    /// A driver's date of birth is not before 1900-01-01.
    pub const DRIVERS_DATE_OF_BIRTH_RANGE: &str = "drivers_date_of_birth_range";
    /// A driver is first licensed after being born.
    pub const DRIVERS_LICENSED_AFTER_BIRTH: &str = "drivers_licensed_after_birth";

    // vehicles
    /// A vehicle belongs to a user (CASCADE: a garage entry means nothing without its user).
    pub const VEHICLES_USER_FK: &str = "vehicles_user_fk";
    /// A VIN is exactly 17 upper-case letters or digits and never contains I, O or Q.
    pub const VEHICLES_VIN_FORMAT: &str = "vehicles_vin_format";
    /// A vehicle's model year is between 1981 (17-character VIN standard) and 2100.
    pub const VEHICLES_MODEL_YEAR_RANGE: &str = "vehicles_model_year_range";
    /// A vehicle has a non-blank make and model.
    pub const VEHICLES_MAKE_MODEL_NOT_BLANK: &str = "vehicles_make_model_not_blank";
    /// A user registers the same vehicle (VIN) only once.
    pub const VEHICLES_USER_VIN_UNIQUE: &str = "vehicles_user_vin_unique";

    // quotes
    /// A quote number identifies exactly one quote.
    pub const QUOTES_NUMBER_UNIQUE: &str = "quotes_number_unique";
    /// A quote number is Q-YYYYMMDD-XXXXXX: a calendar-shaped date and 6 characters of 0-9 and
    /// A-Z without I and O.
    pub const QUOTES_NUMBER_FORMAT: &str = "quotes_number_format";
    /// A quote belongs to a customer (RESTRICT: quotes outlive any attempt to delete the customer).
    pub const QUOTES_CUSTOMER_FK: &str = "quotes_customer_fk";
    /// A quote may be assigned to an agent (SET NULL: removing an agent unassigns the quote).
    pub const QUOTES_AGENT_FK: &str = "quotes_agent_fk";
    /// A quote is for a known state (RESTRICT).
    pub const QUOTES_STATE_FK: &str = "quotes_state_fk";
    /// A quote's ZIP code is exactly 5 digits.
    pub const QUOTES_ZIP_FORMAT: &str = "quotes_zip_format";
    /// A quote's premium, when present, is greater than zero.
    pub const QUOTES_PREMIUM_POSITIVE: &str = "quotes_premium_positive";
    /// A rated, presented or bound quote has a premium.
    pub const QUOTES_PREMIUM_REQUIRED_ONCE_RATED: &str = "quotes_premium_required_once_rated";
    /// A draft quote has not been rated, so it has no premium.
    pub const QUOTES_DRAFT_HAS_NO_PREMIUM: &str = "quotes_draft_has_no_premium";
    /// A quote's current version is 0 (never rated) or a positive version number.
    pub const QUOTES_CURRENT_VERSION_NONNEGATIVE: &str = "quotes_current_version_nonnegative";
    /// A quote expires after it was created.
    pub const QUOTES_EXPIRES_AFTER_CREATION: &str = "quotes_expires_after_creation";
    /// A quote has a bind time if and only if it is bound.
    pub const QUOTES_BOUND_AT_IFF_BOUND: &str = "quotes_bound_at_iff_bound";
    /// A quote is bound between its creation and its expiry: an expired offer cannot be accepted.
    pub const QUOTES_BOUND_WITHIN_VALIDITY: &str = "quotes_bound_within_validity";
    /// A quote's metadata is a JSON object.
    pub const QUOTES_METADATA_IS_OBJECT: &str = "quotes_metadata_is_object";
    /// A quote's customer is a user with role customer (trigger).
    pub const QUOTES_CUSTOMER_IS_CUSTOMER: &str = "quotes_customer_is_customer";
    /// A quote's assigned agent is a user with role agent (trigger).
    pub const QUOTES_AGENT_IS_AGENT: &str = "quotes_agent_is_agent";
    /// A quote moves only along the transitions listed in quote_status_transitions; a rating
    /// adds exactly one version and leaves the quote rated; bound, expired, declined and
    /// cancelled are terminal (trigger).
    pub const QUOTES_STATUS_TRANSITION: &str = "quotes_status_transition";
    /// Once rated, a quote's number, customer, state, ZIP and effective date never change and its expiry is never extended (trigger; the premium follows the versions: `quotes_current_version_in_step`).
    pub const QUOTES_PRICED_TERMS_FROZEN: &str = "quotes_priced_terms_frozen";
    /// At commit, a quote's current_version is its latest version number (0 if none) and its
    /// premium is that version's premium (deferred constraint trigger).
    pub const QUOTES_CURRENT_VERSION_IN_STEP: &str = "quotes_current_version_in_step";

    // quote_status_transitions
    /// bound, expired, declined and cancelled are terminal: no transition may leave them.
    pub const QUOTE_STATUS_TRANSITIONS_TERMINAL_HAS_NO_EXIT: &str = "quote_status_transitions_terminal_has_no_exit";
    /// No transition leads back to draft.
    pub const QUOTE_STATUS_TRANSITIONS_NOTHING_RETURNS_TO_DRAFT: &str =
        "quote_status_transitions_nothing_returns_to_draft";

    // quote_versions
    /// A version belongs to a quote (RESTRICT: a rated quote cannot be deleted).
    pub const QUOTE_VERSIONS_QUOTE_FK: &str = "quote_versions_quote_fk";
    /// A quote has at most one snapshot per version number.
    pub const QUOTE_VERSIONS_QUOTE_VERSION_UNIQUE: &str = "quote_versions_quote_version_unique";
    /// Version numbers start at 1.
    pub const QUOTE_VERSIONS_VERSION_POSITIVE: &str = "quote_versions_version_positive";
    /// A rating produces a premium greater than zero.
    pub const QUOTE_VERSIONS_PREMIUM_POSITIVE: &str = "quote_versions_premium_positive";
    /// A version's rating inputs are a JSON object.
    pub const QUOTE_VERSIONS_RATING_INPUTS_IS_OBJECT: &str = "quote_versions_rating_inputs_is_object";
    /// A version's premium breakdown is a JSON object.
    pub const QUOTE_VERSIONS_BREAKDOWN_IS_OBJECT: &str = "quote_versions_breakdown_is_object";
    /// A quote version is an immutable snapshot: it is never updated or deleted (trigger).
    pub const QUOTE_VERSIONS_IMMUTABLE: &str = "quote_versions_immutable";
    /// Quote versions are numbered 1, 2, 3... without gaps, and a new version is the quote's
    /// current_version, bumped first by the caller (trigger).
    pub const QUOTE_VERSIONS_CONTIGUOUS: &str = "quote_versions_contiguous";
    /// A version priced from cached reference data names the generation it was priced from, and
    /// is stored only while that generation is the committed one (trigger, SQLSTATE 40001; 0015).
    pub const QUOTE_VERSIONS_REFERENCE_DATA_CURRENT: &str = "quote_versions_reference_data_current";

    // quote_coverages
    /// A coverage line belongs to a quote (CASCADE: the lines are part of the quote).
    pub const QUOTE_COVERAGES_QUOTE_FK: &str = "quote_coverages_quote_fk";
    /// A quote lists each coverage type at most once.
    pub const QUOTE_COVERAGES_QUOTE_COVERAGE_UNIQUE: &str = "quote_coverages_quote_coverage_unique";
    /// A coverage limit, when stated, is not negative.
    pub const QUOTE_COVERAGES_LIMIT_NONNEGATIVE: &str = "quote_coverages_limit_nonnegative";
    /// A deductible is not negative.
    pub const QUOTE_COVERAGES_DEDUCTIBLE_NONNEGATIVE: &str = "quote_coverages_deductible_nonnegative";
    /// A coverage line's premium, when rated, is not negative.
    pub const QUOTE_COVERAGES_PREMIUM_NONNEGATIVE: &str = "quote_coverages_premium_nonnegative";
    /// A quote's coverage lines can be added, changed or removed only while the quote is draft
    /// or rated (trigger).
    pub const QUOTE_COVERAGES_EDITABLE: &str = "quote_coverages_editable";

    /// Every rule name of this module.
    pub const ALL: &[&str] = &[
        USERS_EMAIL_UNIQUE,
        USERS_EMAIL_FORMAT,
        USERS_FULL_NAME_NOT_BLANK,
        USERS_PHONE_FORMAT,
        DRIVERS_USER_FK,
        DRIVERS_NAME_NOT_BLANK,
        DRIVERS_DATE_OF_BIRTH_RANGE,
        DRIVERS_LICENSED_AFTER_BIRTH,
        VEHICLES_USER_FK,
        VEHICLES_VIN_FORMAT,
        VEHICLES_MODEL_YEAR_RANGE,
        VEHICLES_MAKE_MODEL_NOT_BLANK,
        VEHICLES_USER_VIN_UNIQUE,
        QUOTES_NUMBER_UNIQUE,
        QUOTES_NUMBER_FORMAT,
        QUOTES_CUSTOMER_FK,
        QUOTES_AGENT_FK,
        QUOTES_STATE_FK,
        QUOTES_ZIP_FORMAT,
        QUOTES_PREMIUM_POSITIVE,
        QUOTES_PREMIUM_REQUIRED_ONCE_RATED,
        QUOTES_DRAFT_HAS_NO_PREMIUM,
        QUOTES_CURRENT_VERSION_NONNEGATIVE,
        QUOTES_EXPIRES_AFTER_CREATION,
        QUOTES_BOUND_AT_IFF_BOUND,
        QUOTES_BOUND_WITHIN_VALIDITY,
        QUOTES_METADATA_IS_OBJECT,
        QUOTES_CUSTOMER_IS_CUSTOMER,
        QUOTES_AGENT_IS_AGENT,
        QUOTES_STATUS_TRANSITION,
        QUOTES_PRICED_TERMS_FROZEN,
        QUOTES_CURRENT_VERSION_IN_STEP,
        QUOTE_STATUS_TRANSITIONS_TERMINAL_HAS_NO_EXIT,
        QUOTE_STATUS_TRANSITIONS_NOTHING_RETURNS_TO_DRAFT,
        QUOTE_VERSIONS_QUOTE_FK,
        QUOTE_VERSIONS_QUOTE_VERSION_UNIQUE,
        QUOTE_VERSIONS_VERSION_POSITIVE,
        QUOTE_VERSIONS_PREMIUM_POSITIVE,
        QUOTE_VERSIONS_RATING_INPUTS_IS_OBJECT,
        QUOTE_VERSIONS_BREAKDOWN_IS_OBJECT,
        QUOTE_VERSIONS_IMMUTABLE,
        QUOTE_VERSIONS_CONTIGUOUS,
        QUOTE_VERSIONS_REFERENCE_DATA_CURRENT,
        QUOTE_COVERAGES_QUOTE_FK,
        QUOTE_COVERAGES_QUOTE_COVERAGE_UNIQUE,
        QUOTE_COVERAGES_LIMIT_NONNEGATIVE,
        QUOTE_COVERAGES_DEDUCTIBLE_NONNEGATIVE,
        QUOTE_COVERAGES_PREMIUM_NONNEGATIVE,
        QUOTE_COVERAGES_EDITABLE,
    ];
}
