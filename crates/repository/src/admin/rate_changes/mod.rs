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

use quotedb_schema::admin::{RateChangeKind, RateChangeStatus, rules};
use quotedb_schema::quotes::CoverageType;
use rust_decimal::Decimal;
use serde_json::Value;
use time::{Date, OffsetDateTime};

use super::app_permissions::{RATES_APPLY, RATES_APPROVE, RATES_PROPOSE};
use super::{page_limit, present};
use crate::actor::{Actor, begin_as};
use crate::error::rule_of;
use crate::ids::{AdminUserId, BaseRateId, RateChangeRequestId, TerritoryFactorId};
use crate::types::{StateCode, Zip};
use crate::{Db, InvalidInput};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// A proposed base rate: `{state_code, coverage_type, base_amount, effective_from, effective_to?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaseRateChange {
    /// The state.
    pub state_code: StateCode,
    /// The coverage.
    pub coverage_type: CoverageType,
    /// Annual base premium in dollars: > 0, at most 2 decimals and 10 integer digits (NUMERIC(12,2)).
    pub base_amount: Decimal,
    /// First day the rate applies.
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    /// First day it no longer applies (exclusive); `None` = open-ended.
    #[serde(with = "iso_date::option", default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

/// A proposed territory factor: `{state_code, zip, city, factor, effective_from, effective_to?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TerritoryFactorChange {
    /// The state.
    pub state_code: StateCode,
    /// The ZIP code.
    pub zip: Zip,
    /// The city name.
    pub city: String,
    /// The multiplier: 0.500 to 3.000, at most 3 decimals (NUMERIC(4,3)).
    pub factor: Decimal,
    /// First day the factor applies.
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    /// First day it no longer applies (exclusive); `None` = open-ended.
    #[serde(with = "iso_date::option", default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

/// What a request proposes. Stored in `proposed_change` as the inner struct's JSON (the shape
/// `rate_change_requests_proposed_change_shape` requires for its kind).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "change", rename_all = "snake_case")]
pub enum ProposedChange {
    /// A new base rate.
    BaseRate(BaseRateChange),
    /// A new territory factor.
    TerritoryFactor(TerritoryFactorChange),
}

/// Decimal places and integer digits of `d` (trailing zeros ignored).
fn digits(d: Decimal) -> (u32, u32) {
    let n = d.normalize();
    let scale = n.scale();
    let int_digits = n.trunc().abs().to_string().trim_start_matches('0').len();
    (scale, u32::try_from(int_digits).unwrap_or(u32::MAX))
}

fn check_period(from: Date, to: Option<Date>) -> Result<(), InvalidInput> {
    match to {
        Some(to) if to <= from => Err(InvalidInput::new(
            "effective_to",
            format!("{to} is not after effective_from {from}"),
        )),
        _ => Ok(()),
    }
}

impl ProposedChange {
    /// The request kind.
    pub fn kind(&self) -> RateChangeKind {
        match self {
            Self::BaseRate(_) => RateChangeKind::BaseRate,
            Self::TerritoryFactor(_) => RateChangeKind::TerritoryFactor,
        }
    }

    /// Check what the database would refuse only when applying (so a request that can be
    /// approved can also be applied): amounts, precision, bounds, period.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Self::BaseRate(c) => {
                let (scale, int_digits) = digits(c.base_amount);
                if c.base_amount <= Decimal::ZERO {
                    return Err(InvalidInput::new(
                        "base_amount",
                        format!("{} is not positive", c.base_amount),
                    ));
                }
                if scale > 2 || int_digits > 10 {
                    return Err(InvalidInput::new(
                        "base_amount",
                        format!(
                            "{} does not fit NUMERIC(12,2) (2 decimals, 10 integer digits)",
                            c.base_amount
                        ),
                    ));
                }
                check_period(c.effective_from, c.effective_to)
            }
            Self::TerritoryFactor(c) => {
                if c.city.trim().is_empty() {
                    return Err(InvalidInput::new("city", "must not be blank"));
                }
                let (scale, _) = digits(c.factor);
                if c.factor < Decimal::new(500, 3) || c.factor > Decimal::new(3000, 3) || scale > 3 {
                    return Err(InvalidInput::new(
                        "factor",
                        format!("{} is not between 0.500 and 3.000 with at most 3 decimals", c.factor),
                    ));
                }
                check_period(c.effective_from, c.effective_to)
            }
        }
    }

    /// The JSONB stored in `proposed_change`.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        match self {
            Self::BaseRate(c) => serde_json::to_value(c),
            Self::TerritoryFactor(c) => serde_json::to_value(c),
        }
    }

    /// Read a stored `proposed_change` of `kind`.
    pub fn from_json(kind: RateChangeKind, value: Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            RateChangeKind::BaseRate => Self::BaseRate(serde_json::from_value(value)?),
            RateChangeKind::TerritoryFactor => Self::TerritoryFactor(serde_json::from_value(value)?),
        })
    }
}

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

/// Where the pending queue continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingCursor {
    /// `submitted_at` of the last request seen.
    pub submitted_at: OffsetDateTime,
    /// Its id.
    pub id: RateChangeRequestId,
}

/// A page of the pending queue, oldest submission first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingPage {
    /// The requests.
    pub requests: Vec<RateChangeRequest>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PendingCursor>,
}

/// Errors of [`RateChanges`].
#[derive(Debug, thiserror::Error)]
pub enum RateChangeError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such request.
    #[error("rate change request {0} not found")]
    NotFound(RateChangeRequestId),
    /// The actor is not an active admin (deactivated, a customer or agent, or the System).
    #[error("only an active admin can act on rate change requests")]
    NotAnActiveAdmin,
    /// The acting admin is locked.
    #[error("the acting admin is locked until {until}")]
    Locked {
        /// When the lock ends.
        until: OffsetDateTime,
    },
    /// The acting admin lacks the permission the step needs (`rates:propose`, `rates:approve`,
    /// `rates:apply`).
    #[error("the acting admin does not hold {0}")]
    MissingPermission(&'static str),
    /// Only the requester submits or withdraws a request.

    #[error("only the requester can submit or withdraw rate change request {0}")]
    NotRequester(RateChangeRequestId),
    /// Four eyes: nobody reviews their own request (`rate_change_requests_four_eyes`).
    #[error("an admin cannot review their own rate change request")]
    SelfApprovalRefused,
    /// A rejection needs a non-blank note (`rate_change_requests_rejection_note`).
    #[error("rejecting a rate change request requires a note")]
    RejectionNoteRequired,
    /// The workflow refused the move (`rate_change_requests_status_transition`,
    /// `rate_change_requests_history_frozen`).
    #[error("refused by the rate change workflow: {0}")]
    TransitionRefused(String),
    /// Only an approved request is applied.
    #[error("rate change request {id} is {status}, not approved")]
    NotApproved {
        /// The request.
        id: RateChangeRequestId,
        /// Its status.
        status: RateChangeStatus,
    },
    /// The database refused to activate the rate (`*_activation_requires_approved_request`,
    /// overlaps, unknown state, …).
    #[error("the rate could not be activated: {0}")]
    ActivationRefused(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl RateChangeError {
    fn from_db(err: sqlx::Error) -> Self {
        let message = || {
            err.as_database_error()
                .map(|e| e.message().to_owned())
                .unwrap_or_default()
        };
        match rule_of(&err) {
            Some(rules::RATE_CHANGE_REQUESTS_FOUR_EYES) => Self::SelfApprovalRefused,
            Some(rules::RATE_CHANGE_REQUESTS_REJECTION_NOTE) => Self::RejectionNoteRequired,
            Some(rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION | rules::RATE_CHANGE_REQUESTS_HISTORY_FROZEN) => {
                Self::TransitionRefused(message())
            }
            Some(rules::RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE) => {
                Self::Invalid(InvalidInput::new("proposed_change", message()))
            }
            Some(rules::RATE_CHANGE_REQUESTS_JUSTIFICATION_PRESENT) => {
                Self::Invalid(InvalidInput::new("justification", "must not be blank"))
            }
            Some(
                rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST
                | rules::TERRITORY_FACTORS_ACTIVATION_REQUIRES_APPROVED_REQUEST,
            ) => Self::ActivationRefused(message()),
            // Other refusals while applying (overlap, unknown state, bounds): the rate tables' rules.
            Some(_)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.table().is_some_and(|t| t != "rate_change_requests")) =>
            {
                Self::ActivationRefused(message())
            }
            _ => Self::Database(err),
        }
    }
}

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
        let mut tx = begin_as(self.db.pool(), actor)
            .await
            .map_err(RateChangeError::Database)?;
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
        let mut tx = begin_as(self.db.pool(), actor)
            .await
            .map_err(RateChangeError::Database)?;
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
        let mut tx = begin_as(self.db.pool(), actor)
            .await
            .map_err(RateChangeError::Database)?;
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
        let mut tx = begin_as(self.db.pool(), actor)
            .await
            .map_err(RateChangeError::Database)?;
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
        let mut tx = begin_as(self.db.pool(), actor)
            .await
            .map_err(RateChangeError::Database)?;
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
        tx.commit().await.map_err(RateChangeError::Database)?;
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
        .fetch_optional(self.db.pool())
        .await
        .map_err(RateChangeError::Database)?
        .ok_or(RateChangeError::NotFound(id))
    }

    /// The review queue: pending requests, oldest submission first, after `after`. The
    /// predicate `status = 'pending'` is literal so the partial index
    /// `rate_change_requests_submitted_at_pending_idx` serves generic plans too.
    #[tracing::instrument(skip_all, fields(limit), err)]
    pub async fn list_pending(&self, after: Option<PendingCursor>, limit: u32) -> Result<PendingPage, RateChangeError> {
        let limit = page_limit(limit)?;
        let (at, id) = after.map_or(NO_CURSOR, |c| (c.submitted_at, c.id.0));
        let mut requests = sqlx::query_file_as!(
            RateChangeRequest,
            "src/admin/pending_rate_changes.sql",
            at,
            id,
            limit + 1
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(RateChangeError::Database)?;
        let more = i64::try_from(requests.len()).unwrap_or(i64::MAX) > limit;
        if more {
            requests.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        let next = more
            .then(|| {
                requests.last().and_then(|r| {
                    r.submitted_at
                        .map(|submitted_at| PendingCursor { submitted_at, id: r.id })
                })
            })
            .flatten();
        Ok(PendingPage { requests, next })
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use time::macros::date;

    fn base(amount: Decimal) -> ProposedChange {
        ProposedChange::BaseRate(BaseRateChange {
            state_code: StateCode::parse("CA").unwrap_or_else(|_| unreachable!()),
            coverage_type: CoverageType::Collision,
            base_amount: amount,
            effective_from: date!(2026 - 01 - 01),
            effective_to: None,
        })
    }

    fn territory(factor: Decimal, city: &str) -> ProposedChange {
        ProposedChange::TerritoryFactor(TerritoryFactorChange {
            state_code: StateCode::parse("CA").unwrap_or_else(|_| unreachable!()),
            zip: Zip::parse("90001").unwrap_or_else(|_| unreachable!()),
            city: city.into(),
            factor,
            effective_from: date!(2026 - 01 - 01),
            effective_to: Some(date!(2027 - 01 - 01)),
        })
    }

    /// The keys `rate_change_requests_proposed_change_shape` requires, per kind.
    const BASE_KEYS: [&str; 4] = ["state_code", "coverage_type", "base_amount", "effective_from"];
    const TERRITORY_KEYS: [&str; 5] = ["state_code", "zip", "city", "factor", "effective_from"];

    #[test]
    fn proposals_serialize_to_the_shape_the_constraint_requires() {
        let json = base(dec!(512.40)).to_json().unwrap_or_default();
        for key in BASE_KEYS {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        assert_eq!(json["effective_from"], "2026-01-01");
        assert_eq!(json["coverage_type"], "collision");
        assert!(json.get("effective_to").is_none());
        let json = territory(dec!(1.25), "Los Angeles").to_json().unwrap_or_default();
        for key in TERRITORY_KEYS {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        assert_eq!(json["effective_to"], "2027-01-01");
        let back = ProposedChange::from_json(RateChangeKind::TerritoryFactor, json);
        assert_eq!(back.ok(), Some(territory(dec!(1.25), "Los Angeles")));
        // Numbers written by other tools read back too.
        let seeded = serde_json::json!({"state_code":"CA","coverage_type":"collision","base_amount":512.4,
                                        "effective_from":"2026-01-01"});
        assert!(ProposedChange::from_json(RateChangeKind::BaseRate, seeded).is_ok());
    }

    #[test]
    fn proposals_are_validated_before_the_database_sees_them() {
        assert!(base(dec!(512.40)).validate().is_ok());
        assert!(base(dec!(512.400)).validate().is_ok()); // trailing zeros are fine
        assert_eq!(base(dec!(0)).validate().map_err(|e| e.field), Err("base_amount"));
        assert_eq!(base(dec!(1.005)).validate().map_err(|e| e.field), Err("base_amount"));
        assert_eq!(
            base(dec!(12345678901)).validate().map_err(|e| e.field),
            Err("base_amount")
        );
        assert!(base(dec!(1234567890.99)).validate().is_ok());
        assert!(territory(dec!(0.5), "LA").validate().is_ok());
        assert!(territory(dec!(3.000), "LA").validate().is_ok());
        assert_eq!(
            territory(dec!(3.001), "LA").validate().map_err(|e| e.field),
            Err("factor")
        );
        assert_eq!(
            territory(dec!(1.2345), "LA").validate().map_err(|e| e.field),
            Err("factor")
        );
        assert_eq!(territory(dec!(1.2), "  ").validate().map_err(|e| e.field), Err("city"));
        let ProposedChange::BaseRate(mut c) = base(dec!(1)) else {
            unreachable!()
        };
        c.effective_to = Some(c.effective_from);
        assert_eq!(
            ProposedChange::BaseRate(c).validate().map_err(|e| e.field),
            Err("effective_to")
        );
    }
}
