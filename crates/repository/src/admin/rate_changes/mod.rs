//! Rate change requests (`rate_change_requests`): the four-eyes workflow that alone activates a
//! base rate or territory factor.
//!
//! ```text
//! propose (draft) ──submit──▶ pending ──approve──▶ approved ──apply──▶ applied
//!    │                          │ └──reject (note)──▶ rejected
//!    └───────withdraw───────────┴──withdraw──▶ withdrawn
//! ```
//!
//! The table is not under row level security, but every write takes an [`Actor`] and runs as
//! that actor so the database resolves *who* (`app_admin_user_id()`) for `requested_by`,
//! `reviewed_by` and `applied_by`: the actor must be an active, unlocked admin (a deactivated
//! admin is refused by the repository — the table's rules would accept one as reviewer or applier).
//! Only the requester submits or withdraws; nobody reviews their own request
//! (`rate_change_requests_four_eyes`). The database decides every move
//! (`rate_change_requests_status_transition`, `…_history_frozen`).
//!
//! Each step also needs a permission, checked inside the statement (`admin_has_permission`, which
//! also refuses locked and deactivated admins): `rates:propose` to draft, submit and withdraw,
//! `rates:approve` to approve or reject, `rates:apply` to apply. These codes come from the
//! reference seeds (0006 registers none): without them nobody works rate changes.

mod error;
mod model;
mod proposal;

pub use error::RateChangeError;
pub use model::{ActivatedRate, RateChangeRequest};
pub use proposal::{BaseRateChange, ProposedChange, TerritoryFactorChange};

use quotedb_schema::admin::{RateChangeKind, RateChangeStatus};
use time::OffsetDateTime;

use super::present;
use crate::actor::{Actor, begin_as};
use crate::ids::{AdminUserId, BaseRateId, RateChangeRequestId, TerritoryFactorId};
use crate::page::{Page, PageRequest, into_page};
use crate::{Db, InvalidInput};
use quotedb_schema::admin::permissions::{RATES_APPLY, RATES_APPROVE, RATES_PROPOSE};

/// The far end of an oldest-first keyset (no cursor yet).
const NO_CURSOR: (OffsetDateTime, uuid::Uuid) = (time::macros::datetime!(0001-01-01 0:00 UTC), uuid::Uuid::nil());

/// Rate change API, from [`Admin::rate_changes`](super::Admin::rate_changes).
#[derive(Debug, Clone, Copy)]
pub struct RateChanges<'a> {
    db: &'a Db,
}

impl<'a> RateChanges<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Draft a request proposing `change`, requested by the acting admin.
    #[tracing::instrument(skip_all, fields(kind = %change.kind()), err)]
    pub async fn propose(
        &self,
        actor: &Actor,
        change: &ProposedChange,
        justification: &str,
    ) -> Result<RateChangeRequest, RateChangeError> {
        change.validate()?;
        let justification = present("justification", justification)?;
        let proposed = change
            .to_json()
            .map_err(|e| InvalidInput::new("proposed_change", e.to_string()))?;
        let mut tx = begin_as(self.db, actor).await.map_err(RateChangeError::Database)?;
        let request = sqlx::query_as!(
            RateChangeRequest,
            r#"WITH me AS (SELECT app_admin_user_id() AS me_id WHERE admin_has_permission(app_user_id(), $4))
               INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
               SELECT $1, $2, $3, me.me_id FROM me
               RETURNING id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
                         justification, base_rate_id AS "base_rate_id: BaseRateId",
                         territory_factor_id AS "territory_factor_id: TerritoryFactorId",
                         status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
                         submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
                         applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at"#,
            change.kind() as RateChangeKind,
            proposed,
            justification,
            RATES_PROPOSE,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(RateChangeError::from_db)?;
        let Some(request) = request else {
            return Err(refusal(&mut tx, None, false, RATES_PROPOSE).await);
        };
        tx.commit().await.map_err(RateChangeError::Database)?;
        Ok(request)
    }

    /// Submit a draft for review (draft → pending). Only the requester.
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn submit(&self, actor: &Actor, id: RateChangeRequestId) -> Result<RateChangeRequest, RateChangeError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RateChangeError::Database)?;
        let request = sqlx::query_as!(
            RateChangeRequest,
            r#"WITH me AS (SELECT app_admin_user_id() AS me_id WHERE admin_has_permission(app_user_id(), $2))
               UPDATE rate_change_requests SET status = 'pending', submitted_at = now()
               FROM me WHERE id = $1 AND requested_by = me.me_id
               RETURNING id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
                         justification, base_rate_id AS "base_rate_id: BaseRateId",
                         territory_factor_id AS "territory_factor_id: TerritoryFactorId",
                         status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
                         submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
                         applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at"#,
            id.0,
            RATES_PROPOSE,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(RateChangeError::from_db)?;
        let Some(request) = request else {
            return Err(refusal(&mut tx, Some(id), true, RATES_PROPOSE).await);
        };
        tx.commit().await.map_err(RateChangeError::Database)?;
        Ok(request)
    }

    /// Approve a pending request (pending → approved), reviewed by the acting admin, who must
    /// not be the requester ([`RateChangeError::SelfApprovalRefused`]).
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn approve(
        &self,
        actor: &Actor,
        id: RateChangeRequestId,
        note: Option<&str>,
    ) -> Result<RateChangeRequest, RateChangeError> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        self.review(actor, id, RateChangeStatus::Approved, note).await
    }

    /// Reject a pending request (pending → rejected) with a note (required:
    /// [`RateChangeError::RejectionNoteRequired`]).
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn reject(
        &self,
        actor: &Actor,
        id: RateChangeRequestId,
        note: &str,
    ) -> Result<RateChangeRequest, RateChangeError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(RateChangeError::RejectionNoteRequired);
        }
        self.review(actor, id, RateChangeStatus::Rejected, Some(note)).await
    }

    async fn review(
        &self,
        actor: &Actor,
        id: RateChangeRequestId,
        outcome: RateChangeStatus,
        note: Option<&str>,
    ) -> Result<RateChangeRequest, RateChangeError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RateChangeError::Database)?;
        let request = sqlx::query_as!(
            RateChangeRequest,
            r#"WITH me AS (SELECT app_admin_user_id() AS me_id WHERE admin_has_permission(app_user_id(), $4))
               UPDATE rate_change_requests
               SET status = $2, reviewed_by = me.me_id, reviewed_at = now(), review_note = $3
               FROM me WHERE id = $1
               RETURNING id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
                         justification, base_rate_id AS "base_rate_id: BaseRateId",
                         territory_factor_id AS "territory_factor_id: TerritoryFactorId",
                         status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
                         submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
                         applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at"#,
            id.0,
            outcome as RateChangeStatus,
            note,
            RATES_APPROVE,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(RateChangeError::from_db)?;
        let Some(request) = request else {
            return Err(refusal(&mut tx, Some(id), false, RATES_APPROVE).await);
        };
        tx.commit().await.map_err(RateChangeError::Database)?;
        Ok(request)
    }

    /// Withdraw a draft or pending request. Only the requester.
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn withdraw(&self, actor: &Actor, id: RateChangeRequestId) -> Result<RateChangeRequest, RateChangeError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RateChangeError::Database)?;
        let request = sqlx::query_as!(
            RateChangeRequest,
            r#"WITH me AS (SELECT app_admin_user_id() AS me_id WHERE admin_has_permission(app_user_id(), $2))
               UPDATE rate_change_requests SET status = 'withdrawn'
               FROM me WHERE id = $1 AND requested_by = me.me_id
               RETURNING id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
                         justification, base_rate_id AS "base_rate_id: BaseRateId",
                         territory_factor_id AS "territory_factor_id: TerritoryFactorId",
                         status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
                         submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
                         applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at"#,
            id.0,
            RATES_PROPOSE,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(RateChangeError::from_db)?;
        let Some(request) = request else {
            return Err(refusal(&mut tx, Some(id), true, RATES_PROPOSE).await);
        };
        tx.commit().await.map_err(RateChangeError::Database)?;
        Ok(request)
    }

    /// Apply an approved request (approved → applied) as the acting admin: retires or closes the
    /// overlapping active rates and activates the proposed one (`apply_rate_change_request`), all
    /// in one transaction. Refused before touching anything when the actor is not an active,
    /// unlocked admin or the request is not approved.
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn apply(&self, actor: &Actor, id: RateChangeRequestId) -> Result<ActivatedRate, RateChangeError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RateChangeError::Database)?;
        let row = sqlx::query!(
            r#"SELECT r.kind AS "kind: RateChangeKind", r.status AS "status: RateChangeStatus",
                      CASE WHEN admin_has_permission(app_user_id(), $2) THEN app_admin_user_id() END
                      AS "me?: AdminUserId"
               FROM rate_change_requests r WHERE r.id = $1
               FOR UPDATE OF r"#,
            id.0,
            RATES_APPLY,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(RateChangeError::Database)?
        .ok_or(RateChangeError::NotFound(id))?;
        let Some(me) = row.me else {
            return Err(refusal(&mut tx, None, false, RATES_APPLY).await);
        };
        if row.status != RateChangeStatus::Approved {
            return Err(RateChangeError::NotApproved { id, status: row.status });
        }
        let rate = sqlx::query_scalar!(r#"SELECT apply_rate_change_request($1, $2) AS "rate!""#, id.0, me.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(RateChangeError::from_db)?;
        crate::reference::commit_change(self.db, tx)
            .await
            .map_err(RateChangeError::Database)?;
        Ok(match row.kind {
            RateChangeKind::BaseRate => ActivatedRate::BaseRate(BaseRateId(rate)),
            RateChangeKind::TerritoryFactor => ActivatedRate::TerritoryFactor(TerritoryFactorId(rate)),
        })
    }

    /// A request by id.
    #[tracing::instrument(skip_all, fields(request = %id), err)]
    pub async fn get(&self, id: RateChangeRequestId) -> Result<RateChangeRequest, RateChangeError> {
        sqlx::query_as!(
            RateChangeRequest,
            r#"SELECT id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
                      justification, base_rate_id AS "base_rate_id: BaseRateId",
                      territory_factor_id AS "territory_factor_id: TerritoryFactorId",
                      status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
                      submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
                      applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at
               FROM rate_change_requests WHERE id = $1"#,
            id.0,
        )
        .fetch_optional(self.db.exec())
        .await
        .map_err(RateChangeError::Database)?
        .ok_or(RateChangeError::NotFound(id))
    }

    /// The review queue: a page of pending requests, oldest submission first. The predicate
    /// `status = 'pending'` is literal so the partial index
    /// `rate_change_requests_submitted_at_pending_idx` serves generic plans too.
    #[tracing::instrument(skip_all, fields(size = page.size), err)]
    pub async fn list_pending(
        &self,
        page: &PageRequest<RateChangeRequestId>,
    ) -> Result<Page<RateChangeRequest>, RateChangeError> {
        let fetch = page.fetch_limit()?;
        let (at, id) = page.after.map_or(NO_CURSOR, |c| (c.at(), c.id().0));
        // Replica-routed (see `crate::replica`).
        let requests = crate::replica::routed_read!(self.db, |conn| sqlx::query_file_as!(
            RateChangeRequest,
            "src/admin/pending_rate_changes.sql",
            at,
            id,
            fetch
        )
        .fetch_all(conn))
        .map_err(RateChangeError::Database)?;
        Ok(into_page(requests, page.size))
    }
}

/// Why a workflow statement touched no row (error path only): the actor is not an active,
/// unlocked admin holding `permission`; the request does not exist; or the actor is not its
/// requester.
async fn refusal(
    tx: &mut sqlx::PgConnection,
    id: Option<RateChangeRequestId>,
    requester_only: bool,
    permission: &'static str,
) -> RateChangeError {
    let row = sqlx::query!(
        r#"SELECT app_admin_user_id() AS "me?: AdminUserId",
                  (SELECT au.locked_until FROM admin_users au WHERE au.id = app_admin_user_id()) AS "locked_until?",
                  now() AS "now!",
                  admin_has_permission(app_user_id(), $2) AS "holds!",
                  (SELECT r.requested_by FROM rate_change_requests r WHERE r.id = $1) AS "requested_by?: AdminUserId""#,
        id.map(|i| i.0),
        permission,
    )
    .fetch_one(tx)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(e) => return RateChangeError::Database(e),
    };
    let Some(me) = row.me else {
        return RateChangeError::NotAnActiveAdmin;
    };
    if let Some(until) = row.locked_until.filter(|u| *u > row.now) {
        return RateChangeError::Locked { until };
    }
    if !row.holds {
        return RateChangeError::MissingPermission(permission);
    }
    match (id, row.requested_by) {
        (Some(id), None) => RateChangeError::NotFound(id),
        (Some(id), Some(requester)) if requester_only && requester != me => RateChangeError::NotRequester(id),
        (Some(id), Some(_)) => RateChangeError::NotFound(id),
        (None, _) => RateChangeError::NotAnActiveAdmin,
    }
}
