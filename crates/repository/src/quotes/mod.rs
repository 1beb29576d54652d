//! Quotes: create (rated in one transaction), read, page, re-rate with optimistic concurrency,
//! status transitions and the expiry sweep.
//!
//! `quotes` is under row level security: every call takes the acting [`Actor`] and runs inside
//! `crate::actor::begin_as`; the database decides what the actor sees and may change. A quote
//! the actor cannot see is [`QuoteError::NotFound`] (its existence is never revealed); a visible
//! quote the actor may not change, or a write the policies refuse, is [`QuoteError::Forbidden`].
//!
//! Every SQL statement lives in a `.sql` file beside this module and is checked at compile time
//! (`query_file_as!` / `query_file!`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quotedb_schema::quotes::{CoverageType, QuoteStatus, rules};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use time::{Date, Duration, OffsetDateTime};

use crate::Db;
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, is_retryable, is_rls_refusal, read_as_retrying, read_retrying, rule_of};
use crate::ids::{QuoteId, QuoteVersionId, UserId};
use crate::rating::{
    Eligibility, PremiumBreakdown, PricingError, RatingContext, RatingError, RatingInput, check_coverages, price,
    resolve_with,
};
use crate::types::{QuoteNumber, StateCode, Zip};

/// How often [`Quotes::create`] retries after a quote number collision (`quotes_number_unique`).
const NUMBER_ATTEMPTS: usize = 5;
/// Largest page of [`Quotes::list_for_customer`].
pub const MAX_PAGE_SIZE: u32 = 100;
/// How far ahead a quote's effective date may be.
pub const MAX_EFFECTIVE_DAYS_AHEAD: i64 = 365;
/// Largest amount a `numeric(12,2)` column holds.
/// (999_999_999_999 × 10⁻², i.e. lo + mid × 2³²: 3_567_587_327 + 232 × 4_294_967_296.)
const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2);

/// Which quote an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteKey {
    /// By id.
    Id(QuoteId),
    /// By human number.
    Number(QuoteNumber),
}

impl fmt::Display for QuoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Why a quotes call failed.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    /// Input refused before anything was written.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such quote, or the actor may not see it (never revealed which).
    #[error("quote {0} not found")]
    NotFound(QuoteKey),
    /// The actor may see the quote but not change it, or row level security refused the write
    /// (e.g. a customer creating a quote for someone else).
    #[error("not allowed for this actor")]
    Forbidden,
    /// Someone else rated the quote since `expected` was read: reload and retry.
    #[error("quote was changed concurrently (expected version {expected})")]
    Conflict {
        /// The version the caller expected.
        expected: i32,
    },
    /// The status machine refused the move (rule `quotes_status_transition`): e.g. binding a
    /// rated quote, re-rating a presented one, leaving a terminal status.
    #[error("transition to {to} refused by rule quotes_status_transition: {message}")]
    TransitionRefused {
        /// The status asked for.
        to: QuoteStatus,
        /// The database's explanation.
        message: String,
    },
    /// The quote's validity ran out: it can no longer be bound (rule `quotes_bound_within_validity`).
    #[error("quote {0} is past its validity and cannot be bound")]
    ValidityExpired(QuoteKey),
    /// A party of the quote is wrong: the customer is not a customer, the agent not an agent,
    /// or either does not exist (rules `quotes_customer_is_customer`, `quotes_agent_is_agent`,
    /// `quotes_customer_fk`, `quotes_agent_fk`).
    #[error("refused by rule {rule}: {message}")]
    Party {
        /// The rule name.
        rule: &'static str,
        /// The database's message.
        message: String,
    },
    /// The rates could not be resolved (no base rate, territory or discount cap).
    #[error(transparent)]
    Rating(#[from] RatingError),
    /// The premium could not be computed.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// A setting the call needs is missing or has the wrong type/value.
    #[error("setting {key} is missing or not a positive number")]
    Setting {
        /// The setting key.
        key: &'static str,
    },
    /// Another business rule of the database refused the write; `rule` is its name.
    #[error("refused by rule {rule}: {message}")]
    Rule {
        /// The rule (constraint or rule trigger) name.
        rule: &'static str,
        /// The database's message.
        message: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for QuoteError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

fn db_message(err: &sqlx::Error) -> String {
    err.as_database_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default()
}

/// Map a write error: RLS refusal, then the rules by name, else wrapped.
fn map_write_error(err: sqlx::Error, key: impl FnOnce() -> QuoteKey, to: Option<QuoteStatus>) -> QuoteError {
    if is_rls_refusal(&err) {
        return QuoteError::Forbidden;
    }
    if let Some(invalid) = crate::error::refused_value(&err) {
        return QuoteError::Invalid(invalid);
    }
    let Some(rule) = rule_of(&err).and_then(|r| rules::ALL.iter().copied().find(|known| *known == r)) else {
        return QuoteError::Database(err);
    };
    let message = db_message(&err);
    match rule {
        rules::QUOTES_STATUS_TRANSITION => QuoteError::TransitionRefused {
            to: to.unwrap_or(QuoteStatus::Rated),
            message,
        },
        rules::QUOTES_BOUND_WITHIN_VALIDITY => QuoteError::ValidityExpired(key()),
        rules::QUOTES_CUSTOMER_IS_CUSTOMER
        | rules::QUOTES_AGENT_IS_AGENT
        | rules::QUOTES_CUSTOMER_FK
        | rules::QUOTES_AGENT_FK => QuoteError::Party { rule, message },
        _ => QuoteError::Rule { rule, message },
    }
}

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
    /// Requested policy start: today (UTC) up to [`MAX_EFFECTIVE_DAYS_AHEAD`] days ahead.
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
    /// Latest version number; the optimistic-concurrency token of [`Quotes::rerate`].
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

struct QuoteRow {
    id: QuoteId,
    quote_number: String,
    customer_id: UserId,
    agent_id: Option<UserId>,
    state_code: String,
    zip: String,
    status: QuoteStatus,
    premium: Option<Decimal>,
    current_version: i32,
    effective_date: Date,
    expires_at: OffsetDateTime,
    bound_at: Option<OffsetDateTime>,
    metadata: JsonValue,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
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
    /// crate (see [`Quotes::create`]).
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

/// The outcome of a rating ([`Quotes::create`], [`Quotes::rerate`]).
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
struct RatingInputsRecord<'a> {
    coverages: &'a [CoverageRequest],
    eligibility: &'a Eligibility,
    context: &'a RatingContext,
}

/// Where a keyset page starts: after the quote (created_at, id) in newest-first order.
/// Opaque to callers: pass [`Page::next`] back, or carry it as a string with [`Cursor::encode`]
/// / [`Cursor::decode`] (it is also serde-serialisable, as that string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor {
    created_at: OffsetDateTime,
    id: QuoteId,
}

impl Cursor {
    fn after(quote: &Quote) -> Self {
        Self {
            created_at: quote.created_at,
            id: quote.id,
        }
    }

    /// The cursor as an opaque URL-safe string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at.unix_timestamp_nanos(), self.id))
    }

    /// Read a string made by [`Cursor::encode`].
    pub fn decode(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("cursor", "not a cursor returned by a previous page");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (nanos, id) = text.split_once(':').ok_or_else(bad)?;
        let nanos: i128 = nanos.parse().map_err(|_| bad())?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Self {
            created_at,
            id: QuoteId(id),
        })
    }
}

impl TryFrom<String> for Cursor {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, InvalidInput> {
        Self::decode(&raw)
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.encode()
    }
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageRequest {
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub size: u32,
    /// `None` for the first page, else the `next` cursor of the previous page.
    #[serde(default)]
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `size` rows.
    pub fn first(size: u32) -> Self {
        Self { size, after: None }
    }
}

/// One keyset page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

fn check_amount(field: &'static str, value: Decimal) -> Result<(), InvalidInput> {
    if value < Decimal::ZERO {
        return Err(InvalidInput::new(field, format!("{value} is negative")));
    }
    if value > MAX_AMOUNT || value.normalize().scale() > 2 {
        return Err(InvalidInput::new(
            field,
            format!("{value} does not fit an amount in dollars and cents (at most {MAX_AMOUNT})"),
        ));
    }
    Ok(())
}

fn validate_new_quote(new: &NewQuote) -> Result<Vec<CoverageType>, InvalidInput> {
    let types: Vec<CoverageType> = new.coverages.iter().map(|c| c.coverage_type).collect();
    check_coverages(&types)?;
    for c in &new.coverages {
        if let Some(limit) = c.limit_amount {
            check_amount("limit_amount", limit)?;
        }
        check_amount("deductible", c.deductible)?;
    }
    let today = OffsetDateTime::now_utc().date();
    let latest = today.saturating_add(Duration::days(MAX_EFFECTIVE_DAYS_AHEAD));
    if new.effective_date < today || new.effective_date > latest {
        return Err(InvalidInput::new(
            "effective_date",
            format!("{} is not between today ({today}) and {latest}", new.effective_date),
        ));
    }
    Ok(types)
}

/// Validate the page size; the query fetches one row more to know whether a next page exists.
fn page_fetch_size(page: &PageRequest) -> Result<i64, InvalidInput> {
    if page.size == 0 || page.size > MAX_PAGE_SIZE {
        return Err(InvalidInput::new(
            "size",
            format!("page size {} is not between 1 and {MAX_PAGE_SIZE}", page.size),
        ));
    }
    Ok(i64::from(page.size) + 1)
}

/// Cut the extra row off and point `next` at the last row kept.
fn into_page(rows: Vec<QuoteRow>, size: u32) -> Page<Quote> {
    let mut items: Vec<Quote> = rows.into_iter().map(Quote::from).collect();
    let size = size as usize;
    let next = if items.len() > size {
        items.truncate(size);
        items.last().map(Cursor::after)
    } else {
        None
    };
    Page { items, next }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<JsonValue, QuoteError> {
    // Serialising our own plain data types cannot fail; kept as a typed error all the same.
    serde_json::to_value(value).map_err(|e| QuoteError::Database(sqlx::Error::Encode(Box::new(e))))
}

/// The quotes API, from [`Db::quotes`].
#[derive(Debug, Clone, Copy)]
pub struct Quotes<'a> {
    db: &'a Db,
}

impl<'a> Quotes<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The handle this API works on.
    pub fn db(&self) -> &'a Db {
        self.db
    }

    /// Validate, resolve the rates (one round trip), price, then in ONE transaction and one
    /// statement insert the quote as `rated` with `current_version` 1, its version 1 (inputs and
    /// breakdown) and its coverage lines with their premiums. `expires_at` = now + setting
    /// `quotes.validity_days`. Retries on the rare quote number collision.
    ///
    /// Errors: [`QuoteError::Invalid`] (before anything is read or written),
    /// [`QuoteError::Rating`] / [`QuoteError::Pricing`], [`QuoteError::Setting`]
    /// (`quotes.validity_days`), [`QuoteError::Forbidden`] (e.g. a customer creating a quote
    /// for another customer; an agent cannot create quotes), [`QuoteError::Party`].
    #[tracing::instrument(skip_all, fields(customer = %new.customer_id, state = %new.state_code), err)]
    pub async fn create(&self, actor: &Actor, new: &NewQuote) -> Result<RatedQuote, QuoteError> {
        let types = validate_new_quote(new)?;
        let ctx = resolve_with(self.db.pool(), &new.state_code, &new.zip, &types, new.effective_date).await?;
        let input = RatingInput {
            coverages: types.clone(),
            eligibility: new.eligibility.clone(),
        };
        let breakdown = price(&ctx, &input)?;
        let rating_inputs = to_json(&RatingInputsRecord {
            coverages: &new.coverages,
            eligibility: &new.eligibility,
            context: &ctx,
        })?;
        let breakdown_json = to_json(&breakdown)?;
        let metadata = JsonValue::Object(new.metadata.clone());
        crate::error::bounded_json("metadata", &metadata)?;
        let limits: Vec<Option<Decimal>> = new.coverages.iter().map(|c| c.limit_amount).collect();
        let deductibles: Vec<Decimal> = new.coverages.iter().map(|c| c.deductible).collect();
        let premiums: Vec<Decimal> = breakdown.lines.iter().map(|l| l.premium).collect();

        // One round trip: no transaction to open or commit (see create.sql).
        let mut attempt = 0;
        let row = loop {
            attempt += 1;
            let inserted = sqlx::query_file_as!(
                QuoteRow,
                "src/quotes/create.sql",
                actor.user_id() as Option<UserId>,
                new.customer_id as UserId,
                new.agent_id as Option<UserId>,
                new.state_code.as_str(),
                new.zip.as_str(),
                breakdown.total,
                new.effective_date,
                &metadata,
                &rating_inputs,
                &breakdown_json,
                &types as &[CoverageType],
                &limits as &[Option<Decimal>],
                &deductibles as &[Decimal],
                &premiums as &[Decimal],
            )
            .fetch_optional(self.db.pool())
            .await;
            match inserted {
                Ok(Some(row)) => break row,
                Ok(None) => {
                    return Err(QuoteError::Setting {
                        key: "quotes.validity_days",
                    });
                }
                // A quote number collision (random numbers: rare) or a serialization failure /
                // deadlock: the statement wrote nothing, try again with a fresh number.
                Err(e)
                    if (rule_of(&e) == Some(rules::QUOTES_NUMBER_UNIQUE) || is_retryable(&e))
                        && attempt < NUMBER_ATTEMPTS =>
                {
                    tracing::debug!(attempt, error = %e, "retrying quote insert");
                }
                Err(e) => return Err(map_write_error(e, || QuoteKey::Id(QuoteId(uuid::Uuid::nil())), None)),
            }
        };

        let coverages = new
            .coverages
            .iter()
            .zip(&premiums)
            .map(|(c, p)| QuoteCoverage {
                coverage_type: c.coverage_type,
                limit_amount: c.limit_amount,
                deductible: c.deductible,
                premium: Some(*p),
            })
            .collect();
        Ok(RatedQuote {
            quote: row.into(),
            coverages,
            breakdown,
        })
    }

    /// The quote with this id as `actor` sees it; [`QuoteError::NotFound`] if it does not exist
    /// or is not visible to the actor.
    #[tracing::instrument(skip_all, fields(quote = %id), err)]
    pub async fn get(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        let row = read_as_retrying!(self.db, actor, |tx| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/get_by_id.sql",
            id as QuoteId
        )
        .fetch_optional(&mut *tx))?;
        row.map(Quote::from).ok_or(QuoteError::NotFound(QuoteKey::Id(id)))
    }

    /// The quote with this number as `actor` sees it; [`QuoteError::NotFound`] if it does not
    /// exist or is not visible to the actor.
    #[tracing::instrument(skip_all, fields(quote = %number), err)]
    pub async fn get_by_number(&self, actor: &Actor, number: &QuoteNumber) -> Result<Quote, QuoteError> {
        // One round trip: the function switches to quotedb_app and sets the actor itself.
        let row = read_retrying!(self.db, |conn| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/get_by_number.sql",
            actor.user_id() as Option<UserId>,
            number.as_str()
        )
        .fetch_optional(conn))?;
        row.map(Quote::from)
            .ok_or_else(|| QuoteError::NotFound(QuoteKey::Number(number.clone())))
    }

    /// The coverage lines of a quote visible to `actor`, in coverage type order.
    #[tracing::instrument(skip_all, fields(quote = %id), err)]
    pub async fn coverages(&self, actor: &Actor, id: QuoteId) -> Result<Vec<QuoteCoverage>, QuoteError> {
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let rows = sqlx::query_file!("src/quotes/coverages.sql", id as QuoteId)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        if rows.is_empty() {
            return Err(QuoteError::NotFound(QuoteKey::Id(id)));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(QuoteCoverage {
                    coverage_type: r.coverage_type?,
                    limit_amount: r.limit_amount,
                    deductible: r.deductible?,
                    premium: r.premium,
                })
            })
            .collect())
    }

    /// The rating snapshots of a quote visible to `actor`, version 1 first.
    #[tracing::instrument(skip_all, fields(quote = %id), err)]
    pub async fn versions(&self, actor: &Actor, id: QuoteId) -> Result<Vec<QuoteVersion>, QuoteError> {
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let rows = sqlx::query_file!("src/quotes/versions.sql", id as QuoteId)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        if rows.is_empty() {
            return Err(QuoteError::NotFound(QuoteKey::Id(id)));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(QuoteVersion {
                    id: r.id?,
                    version: r.version?,
                    premium: r.premium?,
                    rating_inputs: r.rating_inputs?,
                    breakdown: r.breakdown?,
                    created_at: r.created_at?,
                })
            })
            .collect())
    }

    /// One keyset page of a customer's quotes visible to `actor`, newest first
    /// (`created_at DESC, id DESC`, index `quotes_customer_id_created_at_id_idx`). Walk the pages
    /// by passing [`Page::next`] back. Quotes the actor may not see are simply not listed.
    #[tracing::instrument(skip_all, fields(customer = %customer_id, size = page.size), err)]
    pub async fn list_for_customer(
        &self,
        actor: &Actor,
        customer_id: UserId,
        page: &PageRequest,
    ) -> Result<Page<Quote>, QuoteError> {
        let fetch = page_fetch_size(page)?;
        // One round trip: the function switches to quotedb_app and sets the actor itself.
        let rows = read_retrying!(self.db, |conn| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/list_for_customer.sql",
            actor.user_id() as Option<UserId>,
            customer_id as UserId,
            page.after.map(|a| a.created_at),
            page.after.map(|a| a.id.0),
            fetch
        )
        .fetch_all(conn))?;
        Ok(into_page(rows, page.size))
    }

    /// One keyset page of the quotes assigned to agent `agent_id` and visible to `actor`, newest
    /// first (index `quotes_agent_id_created_at_id_idx`): the agent's pipeline.
    #[tracing::instrument(skip_all, fields(agent = %agent_id, size = page.size), err)]
    pub async fn list_for_agent(
        &self,
        actor: &Actor,
        agent_id: UserId,
        page: &PageRequest,
    ) -> Result<Page<Quote>, QuoteError> {
        let fetch = page_fetch_size(page)?;
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let rows = match page.after {
            None => {
                sqlx::query_file_as!(QuoteRow, "src/quotes/list_agent_first.sql", agent_id as UserId, fetch)
                    .fetch_all(&mut *tx)
                    .await?
            }
            Some(after) => {
                sqlx::query_file_as!(
                    QuoteRow,
                    "src/quotes/list_agent_after.sql",
                    agent_id as UserId,
                    after.created_at,
                    after.id as QuoteId,
                    fetch
                )
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(into_page(rows, page.size))
    }

    /// Re-rate a quote: resolve today's rates for its state, ZIP, effective date and coverage
    /// lines, price with `eligibility`, and record a new immutable version — only if the quote
    /// is still at `expected_version` (optimistic concurrency). In one transaction: bump
    /// `current_version` (`WHERE current_version = expected`), insert the version, update the
    /// line premiums.
    ///
    /// Errors: [`QuoteError::NotFound`] (not visible), [`QuoteError::Conflict`] (rated by
    /// someone else since `expected_version`), [`QuoteError::Forbidden`] (visible but not
    /// changeable by the actor), [`QuoteError::TransitionRefused`] (only draft and rated quotes
    /// can be rated), [`QuoteError::Rating`] / [`QuoteError::Pricing`].
    #[tracing::instrument(skip_all, fields(quote = %id, expected = expected_version), err)]
    pub async fn rerate(
        &self,
        actor: &Actor,
        id: QuoteId,
        expected_version: i32,
        eligibility: &Eligibility,
    ) -> Result<RatedQuote, QuoteError> {
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let current = sqlx::query_file!("src/quotes/load_for_rating.sql", id as QuoteId)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(QuoteError::NotFound(QuoteKey::Id(id)))?;
        if current.current_version != expected_version {
            return Err(QuoteError::Conflict {
                expected: expected_version,
            });
        }
        let state = StateCode::from_db(current.state_code);
        let zip = Zip::from_db(current.zip);
        let types = current.coverage_types;
        let ctx = resolve_with(&mut *tx, &state, &zip, &types, current.effective_date).await?;
        let breakdown = price(
            &ctx,
            &RatingInput {
                coverages: types.clone(),
                eligibility: eligibility.clone(),
            },
        )?;
        let requests: Vec<CoverageRequest> = types
            .iter()
            .zip(&current.limit_amounts)
            .zip(&current.deductibles)
            .map(|((t, l), d)| CoverageRequest {
                coverage_type: *t,
                limit_amount: *l,
                deductible: *d,
            })
            .collect();
        let rating_inputs = to_json(&RatingInputsRecord {
            coverages: &requests,
            eligibility,
            context: &ctx,
        })?;
        let breakdown_json = to_json(&breakdown)?;
        let premiums: Vec<Decimal> = breakdown.lines.iter().map(|l| l.premium).collect();

        let row = sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/rerate.sql",
            id as QuoteId,
            expected_version,
            breakdown.total,
            rating_inputs,
            breakdown_json,
            &types as &[CoverageType],
            &premiums as &[Decimal],
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| map_write_error(e, || QuoteKey::Id(id), Some(QuoteStatus::Rated)))?;
        let Some(row) = row else {
            // The quote was visible when loaded. Either it was rated concurrently (the bump
            // matched no row), or the actor may read but not update it.
            let still_expected = sqlx::query_scalar!(
                r#"SELECT current_version AS "v!" FROM quotes WHERE id = $1"#,
                id as QuoteId
            )
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match still_expected {
                Some(v) if v == expected_version => QuoteError::Forbidden,
                Some(_) => QuoteError::Conflict {
                    expected: expected_version,
                },
                None => QuoteError::NotFound(QuoteKey::Id(id)),
            });
        };
        tx.commit()
            .await
            .map_err(|e| map_write_error(e, || QuoteKey::Id(id), Some(QuoteStatus::Rated)))?;

        let coverages = requests
            .into_iter()
            .zip(&premiums)
            .map(|(c, p)| QuoteCoverage {
                coverage_type: c.coverage_type,
                limit_amount: c.limit_amount,
                deductible: c.deductible,
                premium: Some(*p),
            })
            .collect();
        Ok(RatedQuote {
            quote: row.into(),
            coverages,
            breakdown,
        })
    }

    /// Show the rated price to the customer: rated → presented.
    pub async fn present(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        self.transition(actor, id, QuoteStatus::Presented).await
    }

    /// The customer accepts: presented → bound, `bound_at` = now. [`QuoteError::ValidityExpired`]
    /// once the quote's validity has passed.
    pub async fn bind(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        self.transition(actor, id, QuoteStatus::Bound).await
    }

    /// Underwriting refuses: draft/rated/presented → declined.
    pub async fn decline(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        self.transition(actor, id, QuoteStatus::Declined).await
    }

    /// Withdraw the quote: draft/rated/presented → cancelled.
    pub async fn cancel(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        self.transition(actor, id, QuoteStatus::Cancelled).await
    }

    /// Move a quote to `to`; the database's status machine decides (rule
    /// `quotes_status_transition` → [`QuoteError::TransitionRefused`]). Binding sets `bound_at`.
    /// [`QuoteError::NotFound`] if not visible, [`QuoteError::Forbidden`] if visible but not
    /// changeable by the actor.
    #[tracing::instrument(skip_all, fields(quote = %id, to = %to), err)]
    pub async fn transition(&self, actor: &Actor, id: QuoteId, to: QuoteStatus) -> Result<Quote, QuoteError> {
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let row = sqlx::query_file_as!(QuoteRow, "src/quotes/transition.sql", id as QuoteId, to as QuoteStatus)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| map_write_error(e, || QuoteKey::Id(id), Some(to)))?;
        let Some(row) = row else {
            // Only on failure: tell "not visible" from "visible but not changeable".
            let visible = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM quotes WHERE id = $1) AS "visible!""#,
                id as QuoteId
            )
            .fetch_one(&mut *tx)
            .await?;
            return Err(if visible {
                QuoteError::Forbidden
            } else {
                QuoteError::NotFound(QuoteKey::Id(id))
            });
        };
        tx.commit()
            .await
            .map_err(|e| map_write_error(e, || QuoteKey::Id(id), Some(to)))?;
        Ok(row.into())
    }

    /// Expire one batch (at most `batch_size`, 1..=10 000) of open quotes (draft, rated,
    /// presented) whose validity has passed; returns how many were expired. Workers call it
    /// with [`Actor::System`] until it returns less than `batch_size` (other actors expire only
    /// the quotes they may update). Safe to run concurrently (`SKIP LOCKED`).
    #[tracing::instrument(skip_all, fields(batch_size), err)]
    pub async fn expire_overdue(&self, actor: &Actor, batch_size: u32) -> Result<u64, QuoteError> {
        if batch_size == 0 || batch_size > 10_000 {
            return Err(InvalidInput::new("batch_size", format!("{batch_size} is not between 1 and 10000")).into());
        }
        let mut tx = begin_as(self.db.pool(), actor).await?;
        let expired = sqlx::query_file_scalar!("src/quotes/expire_overdue.sql", i64::from(batch_size))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                map_write_error(
                    e,
                    || QuoteKey::Id(QuoteId(uuid::Uuid::nil())),
                    Some(QuoteStatus::Expired),
                )
            })?;
        tx.commit().await?;
        Ok(u64::try_from(expired).unwrap_or(0))
    }
}
