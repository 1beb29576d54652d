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

mod error;
mod model;
mod terms;
mod validate;

pub use error::{QuoteError, QuoteKey};
pub use model::{CoverageRequest, NewQuote, Quote, QuoteCoverage, QuoteVersion, RatedQuote};
pub(crate) use terms::FrozenTerms;
pub use validate::MAX_EFFECTIVE_DAYS_AHEAD;

use quotedb_schema::quotes::{CoverageType, QuoteStatus, rules};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;

use self::model::{CoverageRow, QuoteRow, RatingInputsRecord, VersionRow};
use self::terms::RatingTerms;
use self::validate::validate_new_quote;
use crate::Db;
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, is_retryable, read_retrying, rule_of};
use crate::ids::{QuoteId, QuoteVersionId, UserId};
use crate::page::{Page, PageRequest, into_page};
use crate::rating::{Eligibility, RatingInput, context_for, price};
use crate::replica::routed_read;
use crate::types::{QuoteNumber, StateCode, Zip};

/// Terms with the context they were priced in, its reference data generation and the price.
type PricedTerms = (
    std::sync::Arc<RatingTerms>,
    crate::rating::RatingContext,
    i64,
    crate::rating::PremiumBreakdown,
);

/// How often [`Quotes::create`] retries after a quote number collision (`quotes_number_unique`).
const NUMBER_ATTEMPTS: usize = 5;

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
        let metadata = JsonValue::Object(new.metadata.clone());
        crate::error::bounded_json("metadata", &metadata)?;
        let limits: Vec<Option<Decimal>> = new.coverages.iter().map(|c| c.limit_amount).collect();
        let deductibles: Vec<Decimal> = new.coverages.iter().map(|c| c.deductible).collect();

        // Priced from the reference data cache (no round trip when it is fresh), then ONE
        // statement: no transaction to open or commit (see create.sql). The statement checks the
        // price's generation (quote_versions_reference_data_current): stale, it is priced again.
        let mut repriced = false;
        'pricing: loop {
            let (ctx, generation) =
                context_for(self.db, repriced, &new.state_code, &new.zip, &types, new.effective_date).await?;
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
            let premiums: Vec<Decimal> = breakdown.lines.iter().map(|l| l.premium).collect();
            let mut attempt = 0;
            let row = loop {
                attempt += 1;
                let inserted = sqlx::query_file_as!(
                    QuoteRow,
                    "src/quotes/create.sql",
                    actor.user_id() as Option<UserId>,
                    new.customer_id.0,
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
                    generation,
                )
                .fetch_optional(self.db.exec())
                .await;
                match inserted {
                    Ok(Some(row)) => break row,
                    Ok(None) => {
                        return Err(QuoteError::Setting {
                            key: quotedb_schema::admin::settings::QUOTE_VALIDITY_DAYS,
                        });
                    }
                    // Priced from superseded reference data: reload and price again, once.
                    Err(e) if rule_of(&e) == Some(rules::QUOTE_VERSIONS_REFERENCE_DATA_CURRENT) && !repriced => {
                        tracing::debug!(generation, "reference data changed while pricing: pricing again");
                        self.db.reference().record_stale_write();
                        repriced = true;
                        continue 'pricing;
                    }
                    // A quote number collision (random numbers: rare) or a serialization failure /
                    // deadlock: the statement wrote nothing, try again with a fresh number.
                    Err(e)
                        if rule_of(&e) != Some(rules::QUOTE_VERSIONS_REFERENCE_DATA_CURRENT)
                            && (rule_of(&e) == Some(rules::QUOTES_NUMBER_UNIQUE) || is_retryable(&e))
                            && attempt < NUMBER_ATTEMPTS =>
                    {
                        tracing::debug!(attempt, error = %e, "retrying quote insert");
                    }
                    Err(e) => {
                        return Err(QuoteError::from_db(
                            e,
                            || QuoteKey::Id(QuoteId(uuid::Uuid::nil())),
                            None,
                        ));
                    }
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
            return Ok(RatedQuote {
                quote: row.into(),
                coverages,
                breakdown,
            });
        }
    }

    /// The quote with this id as `actor` sees it; [`QuoteError::NotFound`] if it does not exist
    /// or is not visible to the actor.
    #[tracing::instrument(skip_all, fields(quote = %id), err)]
    pub async fn get(&self, actor: &Actor, id: QuoteId) -> Result<Quote, QuoteError> {
        // One round trip: the function switches to quotedb_app and sets the actor itself.
        let row = read_retrying!(self.db, |conn| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/get_by_id.sql",
            actor.user_id() as Option<UserId>,
            id.0
        )
        .fetch_optional(conn))?;
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
        let rows = read_retrying!(self.db, |conn| sqlx::query_file_as!(
            CoverageRow,
            "src/quotes/coverages.sql",
            actor.user_id() as Option<UserId>,
            id.0
        )
        .fetch_all(conn))?;
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
        let rows = read_retrying!(self.db, |conn| sqlx::query_file_as!(
            VersionRow,
            "src/quotes/versions.sql",
            actor.user_id() as Option<UserId>,
            id.0
        )
        .fetch_all(conn))?;
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
    /// A size outside 1 to [`MAX_PAGE_SIZE`](crate::page::MAX_PAGE_SIZE) is [`QuoteError::Invalid`].
    #[tracing::instrument(skip_all, fields(customer = %customer_id, size = page.size), err)]
    pub async fn list_for_customer(
        &self,
        actor: &Actor,
        customer_id: UserId,
        page: &PageRequest<QuoteId>,
    ) -> Result<Page<Quote>, QuoteError> {
        let fetch = page.fetch_limit()?;
        // One round trip (on a replica: see `crate::replica`): the function switches to
        // quotedb_app and sets the actor itself.
        let rows = routed_read!(self.db, |conn| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/list_for_customer.sql",
            actor.user_id() as Option<UserId>,
            customer_id.0,
            page.after.map(|a| a.at()),
            page.after.map(|a| a.id().0),
            fetch
        )
        .fetch_all(conn))?;
        Ok(into_page(rows.into_iter().map(Quote::from).collect(), page.size))
    }

    /// One keyset page of the quotes assigned to agent `agent_id` and visible to `actor`, newest
    /// first (index `quotes_agent_id_created_at_id_idx`): the agent's pipeline.
    #[tracing::instrument(skip_all, fields(agent = %agent_id, size = page.size), err)]
    pub async fn list_for_agent(
        &self,
        actor: &Actor,
        agent_id: UserId,
        page: &PageRequest<QuoteId>,
    ) -> Result<Page<Quote>, QuoteError> {
        let fetch = page.fetch_limit()?;
        // One round trip (on a replica: see `crate::replica`): the function switches to the
        // actor's role and sets the actor itself.
        let rows = routed_read!(self.db, |conn| sqlx::query_file_as!(
            QuoteRow,
            "src/quotes/list_for_agent.sql",
            actor.user_id() as Option<UserId>,
            agent_id.0,
            page.after.map(|a| a.at()),
            page.after.map(|a| a.id().0),
            fetch
        )
        .fetch_all(conn))?;
        Ok(into_page(rows.into_iter().map(Quote::from).collect(), page.size))
    }

    /// Re-rate a quote: resolve today's rates for its state, ZIP, effective date and coverage
    /// lines, price with `eligibility`, and record a new immutable version — only if the quote
    /// is still at `expected_version` (optimistic concurrency). One statement bumps
    /// `current_version` (`WHERE current_version = expected`), inserts the version and updates the
    /// line premiums; the rates come from the reference data cache. Before it, the quote's terms
    /// are read as the actor (a second round trip) unless this process has re-rated the quote
    /// before: a rated quote's terms never change, so they are kept (`quotes::terms`), and the
    /// statement still decides visibility, permission and the version.
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
        // Priced from the cache; a price from superseded reference data is refused by the write
        // (quote_versions_reference_data_current) and priced again, once.
        match self.rerate_once(actor, id, expected_version, eligibility, true).await {
            Err(QuoteError::ReferenceDataNotCurrent(_)) => {
                tracing::debug!("reference data changed while pricing: pricing again from the database");
                self.db.reference().record_stale_write();
                self.rerate_once(actor, id, expected_version, eligibility, false).await
            }
            other => other,
        }
    }

    async fn rerate_once(
        &self,
        actor: &Actor,
        id: QuoteId,
        expected_version: i32,
        eligibility: &Eligibility,
        cached: bool,
    ) -> Result<RatedQuote, QuoteError> {
        // The terms to price: kept from an earlier re-rate once they are frozen (see
        // `terms`), else round trip 1, as the actor (a read: retried on a fresh connection when
        // the pooled one was dead). The write below checks visibility and the version either way.
        // Terms kept from an earlier re-rate are priced first; if that fails (no territory, no
        // rate), the error would describe a quote the caller may not see, so the terms are read
        // as the actor instead and the error, if any, comes from that path.
        let kept = if expected_version >= 1 {
            self.db.frozen_terms().get(id)
        } else {
            None
        };
        let priced = match kept {
            Some(terms) => self.price_terms(terms, eligibility, cached).await.ok(),
            None => None,
        };
        let (current, ctx, generation, breakdown) = match priced {
            Some(priced) => priced,
            None => {
                let loaded = read_retrying!(self.db, |conn| sqlx::query_file_as!(
                    RatingTerms,
                    "src/quotes/load_for_rating.sql",
                    actor.user_id() as Option<UserId>,
                    id.0
                )
                .fetch_optional(conn))?
                .ok_or(QuoteError::NotFound(QuoteKey::Id(id)))?;
                if loaded.current_version != expected_version {
                    return Err(QuoteError::Conflict {
                        expected: expected_version,
                    });
                }
                let loaded = std::sync::Arc::new(loaded);
                self.db.frozen_terms().keep(&loaded);
                self.price_terms(loaded, eligibility, cached).await?
            }
        };
        let types = current.coverage_types.clone();
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

        // Round trip 2: the write, one statement (no transaction to open or commit).
        let row = sqlx::query_file!(
            "src/quotes/rerate.sql",
            actor.user_id() as Option<UserId>,
            id.0,
            expected_version,
            breakdown.total,
            rating_inputs,
            breakdown_json,
            &types as &[CoverageType],
            &premiums as &[Decimal],
            generation,
        )
        .fetch_optional(self.db.exec())
        .await
        .map_err(|e| QuoteError::from_db(e, || QuoteKey::Id(id), Some(QuoteStatus::Rated)))?
        .ok_or(QuoteError::NotFound(QuoteKey::Id(id)))?;
        match row.outcome.as_str() {
            "rated" => {}
            "forbidden" => return Err(QuoteError::Forbidden),
            _ => {
                return Err(QuoteError::Conflict {
                    expected: expected_version,
                });
            }
        }
        let row = QuoteRow {
            id: row.id,
            quote_number: row.quote_number,
            customer_id: row.customer_id,
            agent_id: row.agent_id,
            state_code: row.state_code,
            zip: row.zip,
            status: row.status,
            premium: row.premium,
            current_version: row.current_version,
            effective_date: row.effective_date,
            expires_at: row.expires_at,
            bound_at: row.bound_at,
            metadata: row.metadata,
            created_at: row.created_at,
            updated_at: row.updated_at,
        };

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

    /// The rating context (cached or from the database) and the price of `terms`.
    async fn price_terms(
        &self,
        terms: std::sync::Arc<RatingTerms>,
        eligibility: &Eligibility,
        cached: bool,
    ) -> Result<PricedTerms, QuoteError> {
        let state = StateCode::from_db(terms.state_code.clone());
        let zip = Zip::from_db(terms.zip.clone());
        let types = &terms.coverage_types;
        let (ctx, generation) = context_for(self.db, !cached, &state, &zip, types, terms.effective_date).await?;
        let breakdown = price(
            &ctx,
            &RatingInput {
                coverages: types.clone(),
                eligibility: eligibility.clone(),
            },
        )?;
        Ok((terms, ctx, generation, breakdown))
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
        let mut tx = begin_as(self.db, actor).await?;
        let row = sqlx::query_file_as!(QuoteRow, "src/quotes/transition.sql", id.0, to as QuoteStatus)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| QuoteError::from_db(e, || QuoteKey::Id(id), Some(to)))?;
        let Some(row) = row else {
            // Only on failure: tell "not visible" from "visible but not changeable".
            let visible = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM quotes WHERE id = $1) AS "visible!""#,
                id.0
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
            .map_err(|e| QuoteError::from_db(e, || QuoteKey::Id(id), Some(to)))?;
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
        let mut tx = begin_as(self.db, actor).await?;
        let expired = sqlx::query_file_scalar!("src/quotes/expire_overdue.sql", i64::from(batch_size))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                QuoteError::from_db(
                    e,
                    || QuoteKey::Id(QuoteId(uuid::Uuid::nil())),
                    Some(QuoteStatus::Expired),
                )
            })?;
        tx.commit().await?;
        Ok(u64::try_from(expired).unwrap_or(0))
    }
}
