//! The terms a re-rate prices from, kept in the process once they cannot change.
//!
//! A quote's priced terms (state, ZIP, effective date) are frozen once it leaves draft
//! (`quotes_priced_terms_frozen`), and its coverage lines' cover (type, limit, deductible) once it
//! is rated (`quote_coverages_editable`: lines are neither added nor removed, only their premiums
//! change). A quote at `current_version >= 1` is never a draft. So the terms read for one re-rate
//! of such a quote are the terms of every later one, for any actor: the next re-rate skips the
//! read and takes one round trip, the write. Visibility and permission are still decided by that
//! write (`app_rerate_quote`: no row when invisible, `forbidden`, `conflict`), exactly as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;

use crate::ids::QuoteId;
use quotedb_schema::quotes::CoverageType;

/// What a re-rate prices from (`load_for_rating.sql`).
#[derive(Debug)]
pub(super) struct RatingTerms {
    #[allow(dead_code)] // selected to keep the row's identity in the query; not needed after
    pub(super) id: QuoteId,
    pub(super) state_code: String,
    pub(super) zip: String,
    pub(super) effective_date: time::Date,
    pub(super) current_version: i32,
    pub(super) coverage_types: Vec<CoverageType>,
    pub(super) limit_amounts: Vec<Option<Decimal>>,
    pub(super) deductibles: Vec<Decimal>,
}

/// Most quotes whose terms are kept; past it the map starts again empty (a re-rate then reads
/// the terms once more).
const CAPACITY: usize = 10_000;

/// Frozen terms by quote, shared by the clones of a [`crate::Db`].
#[derive(Debug, Default)]
pub(crate) struct FrozenTerms {
    terms: Mutex<HashMap<QuoteId, Arc<RatingTerms>>>,
}

impl FrozenTerms {
    /// The frozen terms of `id`, if they were kept.
    pub(super) fn get(&self, id: QuoteId) -> Option<Arc<RatingTerms>> {
        self.lock().get(&id).cloned()
    }

    /// Keep `terms` if they are frozen (the quote has been rated).
    pub(super) fn keep(&self, terms: &Arc<RatingTerms>) {
        if terms.current_version < 1 {
            return;
        }
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(terms.id, Arc::clone(terms));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<QuoteId, Arc<RatingTerms>>> {
        // A panic while holding the lock cannot leave the map inconsistent (single inserts).
        self.terms.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
