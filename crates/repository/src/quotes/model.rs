//! The data of the quotes API: what a caller sends ([`NewQuote`], [`CoverageRequest`]), what it
//! gets back ([`Quote`], [`QuoteCoverage`], [`QuoteVersion`], [`RatedQuote`]), the row the queries
//! read a quote into, and what a version records in `rating_inputs`.

use quotedb_schema::quotes::{CoverageType, QuoteStatus};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use time::{Date, OffsetDateTime};

use crate::ids::{QuoteId, QuoteVersionId, UserId};
use crate::page::{Cursor, PageItem, sealed};
use crate::rating::{Eligibility, PremiumBreakdown, RatingContext};
use crate::types::{QuoteNumber, StateCode, Zip};

pub use quotedb_domain::quotes::CoverageRequest;

/// A quote to create and rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewQuote {
    /// The customer asking (a customer acting can only create quotes for themselves).
    pub customer_id: UserId,
    /// The agent to assign, if any.
    #[serde(default)]
    pub agent_id: Option<UserId>,
    /// Garaging state.
    pub state_code: StateCode,
    /// Garaging ZIP.
    pub zip: Zip,
    /// Requested policy start: today (UTC) up to
    /// [`MAX_EFFECTIVE_DAYS_AHEAD`](super::MAX_EFFECTIVE_DAYS_AHEAD) days ahead.
    pub effective_date: Date,
    /// Coverage lines: at least one, each coverage type at most once.
    pub coverages: Vec<CoverageRequest>,
    /// What the applicant qualifies for (the caller's eligibility decision).
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Free-form JSON object (channel, campaign, ...); `{}` by default.
    #[serde(default)]
    pub metadata: serde_json::Map<String, JsonValue>,
}

/// A quote as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quote {
    /// Identity.
    pub id: QuoteId,
    /// Human reference.
    pub quote_number: QuoteNumber,
    /// The customer.
    pub customer_id: UserId,
    /// The assigned agent.
    pub agent_id: Option<UserId>,
    /// Garaging state.
    pub state_code: StateCode,
    /// Garaging ZIP.
    pub zip: Zip,
    /// Lifecycle status.
    pub status: QuoteStatus,
    /// Current annual premium (`None` until rated).
    pub premium: Option<Decimal>,
    /// Latest version number; the optimistic-concurrency token of [`Quotes::rerate`](super::Quotes::rerate).
    pub current_version: i32,
    /// Requested policy start.
    pub effective_date: Date,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When bound.
    #[serde(with = "time::serde::rfc3339::option")]
    pub bound_at: Option<OffsetDateTime>,
    /// Free-form JSON object.
    pub metadata: JsonValue,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(super) struct QuoteRow {
    pub(super) id: QuoteId,
    pub(super) quote_number: String,
    pub(super) customer_id: UserId,
    pub(super) agent_id: Option<UserId>,
    pub(super) state_code: String,
    pub(super) zip: String,
    pub(super) status: QuoteStatus,
    pub(super) premium: Option<Decimal>,
    pub(super) current_version: i32,
    pub(super) effective_date: Date,
    pub(super) expires_at: OffsetDateTime,
    pub(super) bound_at: Option<OffsetDateTime>,
    pub(super) metadata: JsonValue,
    pub(super) created_at: OffsetDateTime,
    pub(super) updated_at: OffsetDateTime,
}

/// One row of `coverages.sql`: a line, or NULLs for a visible quote without lines.
pub(super) struct CoverageRow {
    #[allow(
        dead_code,
        reason = "selected to tell a visible quote without lines from an invisible one"
    )]
    pub(super) quote_id: QuoteId,
    pub(super) coverage_type: Option<CoverageType>,
    pub(super) limit_amount: Option<Decimal>,
    pub(super) deductible: Option<Decimal>,
    pub(super) premium: Option<Decimal>,
}

/// One row of `versions.sql`: a version, or NULLs for a visible quote never rated.
pub(super) struct VersionRow {
    #[allow(
        dead_code,
        reason = "selected to tell a visible quote never rated from an invisible one"
    )]
    pub(super) quote_id: QuoteId,
    pub(super) id: Option<QuoteVersionId>,
    pub(super) version: Option<i32>,
    pub(super) premium: Option<Decimal>,
    pub(super) rating_inputs: Option<JsonValue>,
    pub(super) breakdown: Option<JsonValue>,
    pub(super) created_at: Option<OffsetDateTime>,
}

impl From<QuoteRow> for Quote {
    fn from(r: QuoteRow) -> Self {
        // Text columns are checked by quotes_number_format / quotes_zip_format / quotes_state_fk.
        Self {
            id: r.id,
            quote_number: QuoteNumber::from_db(r.quote_number),
            customer_id: r.customer_id,
            agent_id: r.agent_id,
            state_code: StateCode::from_db(r.state_code),
            zip: Zip::from_db(r.zip),
            status: r.status,
            premium: r.premium,
            current_version: r.current_version,
            effective_date: r.effective_date,
            expires_at: r.expires_at,
            bound_at: r.bound_at,
            metadata: r.metadata,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl sealed::Sealed for Quote {}

/// Quote lists are ordered by `(created_at, id)`, newest first.
impl PageItem for Quote {
    type Id = QuoteId;
    fn cursor(&self) -> Option<Cursor<QuoteId>> {
        Some(Cursor::new(self.created_at, self.id))
    }
}

/// A coverage line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuoteCoverage {
    /// The coverage.
    pub coverage_type: CoverageType,
    /// Limit in dollars; `None` = no stated limit.
    pub limit_amount: Option<Decimal>,
    /// Deductible in dollars.
    pub deductible: Decimal,
    /// Premium of the line from the latest rating (`None` until rated).
    pub premium: Option<Decimal>,
}

/// An immutable rating snapshot of a quote.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuoteVersion {
    /// Identity.
    pub id: QuoteVersionId,
    /// 1, 2, 3... per quote.
    pub version: i32,
    /// Premium this rating produced.
    pub premium: Decimal,
    /// What the rating read: `{coverages, eligibility, context}` for versions written by this
    /// crate (see [`Quotes::create`](super::Quotes::create)).
    pub rating_inputs: JsonValue,
    /// How the premium was computed (a [`PremiumBreakdown`] for versions written by this crate).
    pub breakdown: JsonValue,
    /// When rated.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl QuoteVersion {
    /// The breakdown as a [`PremiumBreakdown`] (fails for snapshots written in another shape,
    /// e.g. by imports).
    pub fn premium_breakdown(&self) -> Result<PremiumBreakdown, serde_json::Error> {
        serde_json::from_value(self.breakdown.clone())
    }
}

/// The outcome of a rating ([`Quotes::create`](super::Quotes::create), [`Quotes::rerate`](super::Quotes::rerate)).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatedQuote {
    /// The quote after the rating (status rated, `current_version` = the new version).
    pub quote: Quote,
    /// The coverage lines with their new premiums.
    pub coverages: Vec<QuoteCoverage>,
    /// How the premium was computed (also stored in the version).
    pub breakdown: PremiumBreakdown,
}

/// What a version records in `rating_inputs`.
#[derive(Debug, serde::Serialize)]
pub(super) struct RatingInputsRecord<'a> {
    pub(super) coverages: &'a [CoverageRequest],
    pub(super) eligibility: &'a Eligibility,
    pub(super) context: &'a RatingContext,
}
