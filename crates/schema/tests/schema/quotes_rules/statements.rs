//! Statements on a fresh quote that their rules refuse: the former one-statement tests of
//! `quote_status`, `quotes` and `quote_versions`, a row each (the two directions of
//! `a_rating_adds_exactly_one_version` are a row each), grouped by the file they came from; and
//! the former tests of a refused version row (`REFUSED_VERSIONS`).

use super::*;

/// (test name, the state of a fresh quote, a statement with the quote's id as `$1`, the rule).
#[rustfmt::skip]
const REFUSED: &[StatementCase] = &[
    // quote_status: the status machine, current_version in step
    ("a_bound_quote_cannot_return_to_draft", Start::Bound, "UPDATE quotes SET status = 'draft', bound_at = NULL, premium = NULL WHERE id = $1", rules::QUOTES_STATUS_TRANSITION),
    ("a_new_version_is_a_rating_and_leaves_the_quote_rated", Start::Presented, "UPDATE quotes SET current_version = current_version + 1 WHERE id = $1", rules::QUOTES_STATUS_TRANSITION),
    ("a_rating_adds_exactly_one_version (+2)", Start::Rated, "UPDATE quotes SET current_version = current_version + 2 WHERE id = $1", rules::QUOTES_STATUS_TRANSITION),
    ("a_rating_adds_exactly_one_version (-1)", Start::Rated, "UPDATE quotes SET current_version = current_version - 1 WHERE id = $1", rules::QUOTES_STATUS_TRANSITION),
    ("changing_the_premium_without_re_rating_fails_at_commit", Start::Rated, "UPDATE quotes SET premium = premium + 1 WHERE id = $1", rules::QUOTES_CURRENT_VERSION_IN_STEP),
    ("rating_a_draft_without_a_version_fails_at_commit", Start::Draft, "UPDATE quotes SET status = 'rated', premium = 100 WHERE id = $1", rules::QUOTES_CURRENT_VERSION_IN_STEP),
    // quotes: premium, binding
    ("a_rated_quote_must_have_a_premium", Start::Draft, "UPDATE quotes SET status = 'rated', current_version = current_version + 1 WHERE id = $1", rules::QUOTES_PREMIUM_REQUIRED_ONCE_RATED),
    ("a_draft_quote_cannot_have_a_premium", Start::Draft, "UPDATE quotes SET premium = 100 WHERE id = $1", rules::QUOTES_DRAFT_HAS_NO_PREMIUM),
    ("a_bound_quote_must_have_a_bind_time", Start::Presented, "UPDATE quotes SET status = 'bound' WHERE id = $1", rules::QUOTES_BOUND_AT_IFF_BOUND),
    ("a_quote_that_is_not_bound_cannot_have_a_bind_time", Start::Presented, "UPDATE quotes SET bound_at = now() WHERE id = $1", rules::QUOTES_BOUND_AT_IFF_BOUND),
    ("an_expired_offer_cannot_be_bound", Start::Presented, "UPDATE quotes SET status = 'bound', bound_at = expires_at + interval '1 minute' WHERE id = $1", rules::QUOTES_BOUND_WITHIN_VALIDITY),
    // quote_versions
    ("a_quote_with_versions_cannot_be_deleted", Start::Rated, "DELETE FROM quotes WHERE id = $1", rules::QUOTE_VERSIONS_QUOTE_FK),
    ("a_quote_version_cannot_be_updated", Start::Rated, "UPDATE quote_versions SET premium = 1 WHERE quote_id = $1", rules::QUOTE_VERSIONS_IMMUTABLE),
    ("a_quote_version_cannot_be_deleted", Start::Rated, "DELETE FROM quote_versions WHERE quote_id = $1", rules::QUOTE_VERSIONS_IMMUTABLE),
];

#[tokio::test]
async fn one_statement_on_a_quote_is_refused_by_its_rule() {
    statements_refused(REFUSED).await;
}

/// (test name, the premium, rating inputs and breakdown of a new version of a fresh draft quote
/// that the rating protocol bumps with premium 1000, the rule).
#[rustfmt::skip]
const REFUSED_VERSIONS: &[(&str, &str, &str, &str, &str)] = &[
    // quote_status
    ("a_quote_premium_must_equal_its_current_version_premium", "999.00", "{}", "{}", rules::QUOTES_CURRENT_VERSION_IN_STEP),
    // quote_versions
    ("a_version_premium_must_be_greater_than_zero", "0.00", "{}", "{}", rules::QUOTE_VERSIONS_PREMIUM_POSITIVE),
    ("version_rating_inputs_must_be_a_json_object", "1000.00", "[1, 2]", "{}", rules::QUOTE_VERSIONS_RATING_INPUTS_IS_OBJECT),
    ("version_breakdown_must_be_a_json_object", "1000.00", "{}", "\"total\"", rules::QUOTE_VERSIONS_BREAKDOWN_IS_OBJECT),
];

#[tokio::test]
async fn a_version_row_is_refused_by_its_rule() {
    for &(case, premium, inputs, breakdown, rule) in REFUSED_VERSIONS {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        let q = draft_quote(db.pool()).await;
        assert_case_violates(case, rate_with(db.pool(), q, premium, inputs, breakdown).await, rule);
    }
}

/// (test name, a column of a new quote of a fresh customer, its SQL value, the rule).
#[rustfmt::skip]
const REFUSED_QUOTE_COLUMNS: &[(&str, &str, &str, &str)] = &[
    ("a_quote_number_must_follow_the_q_date_code_format", "quote_number", "'QT-12345678'", rules::QUOTES_NUMBER_FORMAT),
    ("a_quote_number_must_follow_the_q_date_code_format", "quote_number", "'Q-20251301-ABC123'", rules::QUOTES_NUMBER_FORMAT),
    ("a_quote_number_must_follow_the_q_date_code_format", "quote_number", "'Q-20250132-ABC123'", rules::QUOTES_NUMBER_FORMAT),
    ("a_quote_number_must_follow_the_q_date_code_format", "quote_number", "'Q-20250101-ABCI23'", rules::QUOTES_NUMBER_FORMAT),
    ("a_quote_number_must_follow_the_q_date_code_format", "quote_number", "'q-20250101-abc123'", rules::QUOTES_NUMBER_FORMAT),
    ("a_quote_must_be_for_a_known_state", "state_code", "'ZZ'", rules::QUOTES_STATE_FK),
    ("a_quote_zip_must_have_five_digits", "zip", "'9000'", rules::QUOTES_ZIP_FORMAT),
    ("a_quote_zip_must_have_five_digits", "zip", "'900011'", rules::QUOTES_ZIP_FORMAT),
    ("a_quote_zip_must_have_five_digits", "zip", "'9000A'", rules::QUOTES_ZIP_FORMAT),
    ("a_quote_zip_must_have_five_digits", "zip", "'90001-1234'", rules::QUOTES_ZIP_FORMAT),
    ("a_quote_cannot_expire_before_it_is_created", "expires_at", "now() - interval '1 second'", rules::QUOTES_EXPIRES_AFTER_CREATION),
    ("a_quote_cannot_expire_before_it_is_created", "expires_at", "now()", rules::QUOTES_EXPIRES_AFTER_CREATION),
    ("quote_metadata_must_be_a_json_object", "metadata", "'[]'::jsonb", rules::QUOTES_METADATA_IS_OBJECT),
    ("a_quote_current_version_cannot_be_negative", "current_version", "-1", rules::QUOTES_CURRENT_VERSION_NONNEGATIVE),
];

#[tokio::test]
async fn a_quote_column_value_is_refused_by_its_rule() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let c = customer(db.pool()).await;
    for &(case, column, value, rule) in REFUSED_QUOTE_COLUMNS {
        let case = format!("{case} ({column} = {value})");
        assert_case_violates(&case, try_quote(db.pool(), c, &[(column, value)]).await, rule);
    }
}

/// (test name, VIN, make, model and model year of a new vehicle of a fresh customer, the rule).
#[rustfmt::skip]
const REFUSED_VEHICLES: &[(&str, &str, &str, &str, i16, &str)] = &[
    ("a_vin_cannot_contain_i_o_or_q", "1HGCM82633A00435I", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_vin_cannot_contain_i_o_or_q", "1HGCM82633A00435O", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_vin_cannot_contain_i_o_or_q", "1HGCM82633A00435Q", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_vin_must_be_17_upper_case_characters", "1HGCM82633A00435", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_vin_must_be_17_upper_case_characters", "1hgcm82633a004352", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_vin_must_be_17_upper_case_characters", "1HGCM82633A0043-2", "Honda", "Accord", 2020, rules::VEHICLES_VIN_FORMAT),
    ("a_model_year_outside_1981_to_2100_is_refused", VIN, "Honda", "Accord", 1980, rules::VEHICLES_MODEL_YEAR_RANGE),
    ("a_model_year_outside_1981_to_2100_is_refused", VIN, "Honda", "Accord", 2101, rules::VEHICLES_MODEL_YEAR_RANGE),
    ("a_vehicle_must_have_a_make_and_model", VIN, " ", "Accord", 2020, rules::VEHICLES_MAKE_MODEL_NOT_BLANK),
    ("a_vehicle_must_have_a_make_and_model", VIN, "Honda", "", 2020, rules::VEHICLES_MAKE_MODEL_NOT_BLANK),
];

#[tokio::test]
async fn a_vehicle_row_is_refused_by_its_rule() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for &(case, vin, make, model, year, rule) in REFUSED_VEHICLES {
        let case = format!("{case} ({vin:?}, {make:?}, {model:?}, {year})");
        assert_case_violates(&case, try_vehicle(db.pool(), u, vin, make, model, year).await, rule);
    }
}

/// The parent a cascade case starts from.
#[derive(Clone, Copy, Debug)]
enum Parent {
    Customer,
    DraftQuote,
}

/// (test name, the parent, a child row inserted with the parent's id as `$1`, the parent's
/// delete, the count of its children that must be zero after it).
#[rustfmt::skip]
const CASCADES: &[(&str, Parent, &str, &str, &str)] = &[
    ("deleting_a_user_deletes_their_drivers", Parent::Customer, "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, licensed_since) VALUES ($1, 'Ann', 'Lee', '1990-01-01', '2008-06-01')", "DELETE FROM users WHERE id = $1", "SELECT count(*) FROM drivers WHERE user_id = $1"),
    ("deleting_a_user_deletes_their_vehicles", Parent::Customer, "INSERT INTO vehicles (user_id, vin, make, model, model_year) VALUES ($1, '1HGCM82633A004352', 'Honda', 'Accord', 2020)", "DELETE FROM users WHERE id = $1", "SELECT count(*) FROM vehicles WHERE user_id = $1"),
    ("a_draft_quote_can_be_deleted_with_its_coverage_lines", Parent::DraftQuote, "INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium) VALUES ($1, 'collision', NULL, 500, NULL)", "DELETE FROM quotes WHERE id = $1", "SELECT count(*) FROM quote_coverages WHERE quote_id = $1"),
];

#[tokio::test]
async fn deleting_a_parent_deletes_its_children() {
    for &(case, parent, child, delete, children) in CASCADES {
        let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
        let p = match parent {
            Parent::Customer => customer(db.pool()).await,
            Parent::DraftQuote => draft_quote(db.pool()).await,
        };
        exec(db.pool(), child, p)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            count(db.pool(), children, p).await,
            1,
            "{case}: one child before the delete"
        );
        assert_cascades(db.pool(), delete, p, children).await;
    }
}
