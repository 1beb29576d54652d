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
