//! The stored side of the workflow: a [`RateChangeRequest`] as read back, the [`ActivatedRate`]
//! an applied request returns, and its place in the pending queue's pages.

use quotedb_schema::admin::{RateChangeKind, RateChangeStatus};
use serde_json::Value;
use time::OffsetDateTime;

use super::proposal::ProposedChange;
use crate::ids::{AdminUserId, BaseRateId, RateChangeRequestId, TerritoryFactorId};
use crate::page::{Cursor, PageItem, sealed};

/// A rate change request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateChangeRequest {
    /// Its id.
    pub id: RateChangeRequestId,
    /// Which table it changes.
    pub kind: RateChangeKind,
    /// The stored proposal (typed: [`proposal`](Self::proposal)).
    pub proposed_change: Value,
    /// Why.
    pub justification: String,
    /// A proposed base_rates row to activate (`None`: applying inserts one).
    pub base_rate_id: Option<BaseRateId>,
    /// A proposed territory_factors row to activate (`None`: applying inserts one).
    pub territory_factor_id: Option<TerritoryFactorId>,
    /// Where it is in the workflow.
    pub status: RateChangeStatus,
    /// Who asked.
    pub requested_by: AdminUserId,
    /// When submitted.
    pub submitted_at: Option<OffsetDateTime>,
    /// Who reviewed.
    pub reviewed_by: Option<AdminUserId>,
    /// When.
    pub reviewed_at: Option<OffsetDateTime>,
    /// The reviewer's note (always present on a rejection).
    pub review_note: Option<String>,
    /// Who applied it.
    pub applied_by: Option<AdminUserId>,
    /// When.
    pub applied_at: Option<OffsetDateTime>,
    /// When created.
    pub created_at: OffsetDateTime,
    /// When last changed.
    pub updated_at: OffsetDateTime,
}

impl RateChangeRequest {
    /// The proposal, typed.
    pub fn proposal(&self) -> Result<ProposedChange, serde_json::Error> {
        ProposedChange::from_json(self.kind, self.proposed_change.clone())
    }
}

/// The rate row an applied request activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ActivatedRate {
    /// A base rate.
    BaseRate(BaseRateId),
    /// A territory factor.
    TerritoryFactor(TerritoryFactorId),
}

impl sealed::Sealed for RateChangeRequest {}

/// The pending queue is ordered by `(submitted_at, id)`, oldest submission first; a request never
/// submitted has no place in it.
impl PageItem for RateChangeRequest {
    type Id = RateChangeRequestId;
    fn cursor(&self) -> Option<Cursor<RateChangeRequestId>> {
        self.submitted_at.map(|at| Cursor::new(at, self.id))
    }
}
