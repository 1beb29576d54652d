//! Quotes through the public API: creation (rated, in one transaction), reads, row level
//! security, re-rating with optimistic concurrency, status transitions, expiry and keyset pages.

mod create;
mod pages;
mod reads;
mod rerate;
mod transitions;

use crate::common::rates::{self as fx};
use quotedb_repository::quotes::{CoverageRequest, NewQuote, Quote};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::{Actor, Db, UserId};
use rust_decimal_macros::dec;
use sqlx::PgPool;
use time::OffsetDateTime;

fn in_days(days: i64) -> time::Date {
    OffsetDateTime::now_utc().date() + time::Duration::days(days)
}

/// Collision (no limit, 500 deductible) and bodily injury (100k limit) in the test state's
/// 1.2 territory, effective next week.
pub(crate) fn new_quote(customer: UserId, agent: Option<UserId>) -> NewQuote {
    NewQuote {
        customer_id: customer,
        agent_id: agent,
        state_code: fx::state(),
        zip: fx::zip(),
        effective_date: in_days(7),
        coverages: vec![
            CoverageRequest {
                coverage_type: CoverageType::Collision,
                limit_amount: None,
                deductible: dec!(500),
            },
            CoverageRequest {
                coverage_type: CoverageType::BodilyInjury,
                limit_amount: Some(dec!(100000)),
                deductible: dec!(0),
            },
        ],
        eligibility: Eligibility::default(),
        metadata: serde_json::Map::new(),
    }
}

/// A rated [`new_quote`] of `customer` (no agent), created by the customer.
async fn own_quote(repo: &Db, customer: UserId) -> Quote {
    repo.quotes()
        .create(&Actor::Customer(customer), &new_quote(customer, None))
        .await
        .expect("create")
        .quote
}

/// Rows in a table for a customer's quotes, seen by the (superuser) test connection.
async fn count(pool: &PgPool, sql: &'static str, customer: UserId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(customer.0)
        .fetch_one(pool)
        .await
        .expect("count")
}

const QUOTES_OF: &str = "SELECT count(*) FROM quotes WHERE customer_id = $1";
const VERSIONS_OF: &str =
    "SELECT count(*) FROM quote_versions v JOIN quotes q ON q.id = v.quote_id WHERE q.customer_id = $1";
const LINES_OF: &str =
    "SELECT count(*) FROM quote_coverages c JOIN quotes q ON q.id = c.quote_id WHERE q.customer_id = $1";
