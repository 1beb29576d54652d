//! Rating: resolve the rates that apply to a quote in ONE round trip ([`Rating::resolve`]), then
//! price it with a pure function ([`price`]).
//!
//! ```text
//! per coverage: premium = base × territory × (1 + Σ surcharge %) × (1 − discount)
//!               discount = max(min(Σ stackable %, cap), min(largest non-stackable %, cap))
//!               rounded half-even to cents; total = Σ lines
//! ```
//!
//! Rates are reference data (no row level security): resolving needs no [`crate::Actor`].
//! What the applicant qualifies for is the caller's decision, passed as an [`Eligibility`] (sets of
//! discount and surcharge codes); see [`price`] for the exact rules.

pub(crate) use quotedb_domain::rating::check_coverages;
pub use quotedb_domain::rating::{
    AppliedDiscount, AppliedSurcharge, DiscountBasis, Eligibility, LineBreakdown, PremiumBreakdown, PricingError,
    RatingContext, RatingInput, ResolvedBaseRate, ResolvedDiscount, ResolvedSurcharge, ResolvedTerritory, price,
};

use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use sqlx::PgExecutor;
use time::Date;
use uuid::Uuid; // named by the type overrides of resolve.sql

use crate::Db;
use crate::error::InvalidInput;
use crate::ids::{BaseRateId, DiscountRuleId, SurchargeRuleId, TerritoryFactorId};
use crate::types::{StateCode, Zip};

/// Why rates could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum RatingError {
    /// The request itself is invalid (no coverage, a coverage listed twice).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No active base rate for this coverage in the state on the effective date.
    #[error("no active base rate for {coverage} in the state on the effective date")]
    NoBaseRate {
        /// The first requested coverage without a rate.
        coverage: CoverageType,
    },
    /// No active territory factor for this ZIP in the state on the effective date.
    #[error("no active territory factor for ZIP {zip} in the state on the effective date")]
    NoTerritory {
        /// The ZIP code asked for.
        zip: Zip,
    },
    /// The setting `rating.discount_cap` is missing, sensitive or not a JSON number.
    #[error("setting rating.discount_cap is missing or not a number")]
    NoDiscountCap,
    /// The setting `rating.discount_cap` is a number outside [0, 1) (it is a fraction, e.g. 0.35).
    #[error("setting rating.discount_cap is {0}, not a fraction in [0, 1)")]
    InvalidDiscountCap(Decimal),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for RatingError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

/// The rating API, from [`Db::rating`].
#[derive(Debug, Clone, Copy)]
pub struct Rating<'a> {
    db: &'a Db,
}

impl<'a> Rating<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Resolve, from the reference data cache (see [`crate::reference`]) or else in one round
    /// trip, the rates for a quote in `state`/`zip` with `coverages`,
    /// effective on `effective_date`: the active base rate of each coverage, the territory
    /// factor, the discount and surcharge rules of the state (a state rule overrides the
    /// countrywide rule of the same code) and the discount cap.
    ///
    /// Errors, checked in this order: [`RatingError::Invalid`] (no coverage, or one listed
    /// twice), [`RatingError::NoBaseRate`] (first coverage without a rate),
    /// [`RatingError::NoTerritory`], [`RatingError::NoDiscountCap`],
    /// [`RatingError::InvalidDiscountCap`].
    #[tracing::instrument(skip_all, fields(state = %state, zip = %zip, coverages = coverages.len()), err)]
    pub async fn resolve(
        &self,
        state: &StateCode,
        zip: &Zip,
        coverages: &[CoverageType],
        effective_date: Date,
    ) -> Result<RatingContext, RatingError> {
        current_context(self.db, state, zip, coverages, effective_date)
            .await
            .map(|(ctx, _generation)| ctx)
    }
}

/// The rating context and the reference data generation it was resolved from: from the cache
/// when it may serve (no round trip), else one round trip (`resolve.sql`), retried once on a
/// fresh connection when the pooled one was dead.
pub(crate) async fn current_context(
    db: &Db,
    state: &StateCode,
    zip: &Zip,
    coverages: &[CoverageType],
    effective_date: Date,
) -> Result<(RatingContext, i64), RatingError> {
    if let Some(snapshot) = db.reference().snapshot(db.pool()).await {
        return snapshot
            .resolve(state, zip, coverages, effective_date)
            .map(|ctx| (ctx, snapshot.generation));
    }
    database_context(db, state, zip, coverages, effective_date).await
}

/// The context of a price: [`current_context`] on a first attempt, [`database_context`] when
/// the database refused the previous price as stale (`from_database`). Create and re-rate both
/// price this way.
pub(crate) async fn context_for(
    db: &Db,
    from_database: bool,
    state: &StateCode,
    zip: &Zip,
    coverages: &[CoverageType],
    effective_date: Date,
) -> Result<(RatingContext, i64), RatingError> {
    if from_database {
        database_context(db, state, zip, coverages, effective_date).await
    } else {
        current_context(db, state, zip, coverages, effective_date).await
    }
}

/// [`current_context`] from the database, whatever the cache holds: what a price refused as
/// stale is computed again from (data and generation read by one statement, so the second
/// attempt cannot meet a snapshot that a racing load stored meanwhile).
pub(crate) async fn database_context(
    db: &Db,
    state: &StateCode,
    zip: &Zip,
    coverages: &[CoverageType],
    effective_date: Date,
) -> Result<(RatingContext, i64), RatingError> {
    match resolve_with(db.exec(), state, zip, coverages, effective_date).await {
        Err(RatingError::Database(e)) if crate::error::is_connection_lost(&e) => {
            tracing::debug!(error = %e, "connection lost: retrying the read on a fresh connection");
            let mut fresh = db.fresh_connection().await.map_err(RatingError::Database)?;
            if !db.transaction_pooling() {
                return resolve_with(&mut fresh, state, zip, coverages, effective_date).await;
            }
            let mut tx = sqlx::Connection::begin_with(&mut fresh, db.begin_statement())
                .await
                .map_err(RatingError::Database)?;
            let resolved = resolve_with(&mut *tx, state, zip, coverages, effective_date).await?;
            tx.commit().await.map_err(RatingError::Database)?;
            Ok(resolved)
        }
        other => other,
    }
}

/// [`Rating::resolve`] from the database, on any executor, with the generation it read.
async fn resolve_with<'e>(
    executor: impl PgExecutor<'e>,
    state: &StateCode,
    zip: &Zip,
    coverages: &[CoverageType],
    effective_date: Date,
) -> Result<(RatingContext, i64), RatingError> {
    check_coverages(coverages)?;
    let row = sqlx::query_file!(
        "src/rating/resolve.sql",
        state.as_str(),
        zip.as_str(),
        coverages as &[CoverageType],
        effective_date
    )
    .fetch_one(executor)
    .await?;

    let mut base_rates = Vec::with_capacity(coverages.len());
    for ((coverage_type, id), amount) in row.rate_coverages.into_iter().zip(row.rate_ids).zip(row.rate_amounts) {
        match (id, amount) {
            (Some(id), Some(base_amount)) => base_rates.push(ResolvedBaseRate {
                id: BaseRateId(id),
                coverage_type,
                base_amount,
            }),
            _ => {
                return Err(RatingError::NoBaseRate {
                    coverage: coverage_type,
                });
            }
        }
    }
    let territory = match (row.territory_id, row.territory_city, row.territory_factor) {
        (Some(id), Some(city), Some(factor)) => ResolvedTerritory {
            id: TerritoryFactorId(id),
            city,
            factor,
        },
        _ => return Err(RatingError::NoTerritory { zip: zip.clone() }),
    };
    let discount_cap = row.discount_cap.ok_or(RatingError::NoDiscountCap)?;
    if discount_cap < Decimal::ZERO || discount_cap >= Decimal::ONE {
        return Err(RatingError::InvalidDiscountCap(discount_cap));
    }

    let discounts = zip6(
        row.discount_ids,
        row.discount_codes,
        row.discount_states,
        row.discount_percents,
        row.discount_stackable,
        row.discount_eligibility,
    )
    .map(|(id, code, state, percent, stackable, eligibility)| ResolvedDiscount {
        id: DiscountRuleId(id),
        code,
        state_code: state.map(StateCode::from_db),
        percent,
        stackable,
        eligibility,
    })
    .collect();
    let surcharges = row
        .surcharge_ids
        .into_iter()
        .zip(row.surcharge_codes)
        .zip(row.surcharge_states)
        .zip(row.surcharge_percents)
        .zip(row.surcharge_conditions)
        .map(|((((id, code), state), percent), conditions)| ResolvedSurcharge {
            id: SurchargeRuleId(id),
            code,
            state_code: state.map(StateCode::from_db),
            percent,
            conditions,
        })
        .collect();

    Ok((
        RatingContext {
            state_code: state.clone(),
            zip: zip.clone(),
            effective_date,
            base_rates,
            territory,
            discounts,
            surcharges,
            discount_cap,
        },
        row.generation,
    ))
}

/// Zip six parallel arrays (the columns of one aggregated rule list).
fn zip6<A, B, C, D, E, F>(
    a: Vec<A>,
    b: Vec<B>,
    c: Vec<C>,
    d: Vec<D>,
    e: Vec<E>,
    f: Vec<F>,
) -> impl Iterator<Item = (A, B, C, D, E, F)> {
    a.into_iter()
        .zip(b)
        .zip(c)
        .zip(d)
        .zip(e)
        .zip(f)
        .map(|(((((a, b), c), d), e), f)| (a, b, c, d, e, f))
}
