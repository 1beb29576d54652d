//! The admin activity log (`admin_activity_logs`): append-only, risk-scored, under row level
//! security.
//!
//! [`Activity::record`] gathers the [`ActivityContext`] in one statement (the admin's login
//! state and allow-list, the permission's registered risk level, whether the admin holds it, the
//! transaction time), scores it with the pure [`risk::score`] and appends
//! the entry. Whether a setting resource is sensitive is looked up with the SECURITY DEFINER
//! `setting_is_sensitive(key)` (one statement, only for setting resources): an admin without
//! `settings:read_sensitive` cannot see a sensitive row, yet acting on one is exactly what must
//! score high. `risk_factors` stores the factor
//! names (as the column documents, so `risk_factors ? 'new_ip'` works); the full explanation
//! (weights and reasons) goes into `details` under [`EXPLANATION_KEY`].
//!
//! RLS: an active admin appends only under their own admin id and reads their own entries;
//! `activity:read` reads all; the System actor appends for any admin and reads all.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use quotedb_schema::admin::{AdminPermissionRiskLevel, rules};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::present;
use super::risk::{self, ActivityContext, RiskAssessment, RiskFactor};
use super::roles::PermissionCode;
use crate::actor::{Actor, begin_as};
use crate::error::{is_rls_refusal, rule_of};
use crate::ids::{AdminActivityId, AdminUserId, UserId};
use crate::page::{Cursor, Page, PageItem, PageRequest, into_page, sealed};
use crate::{Db, InvalidInput};

/// The `resource_type` of system settings: with it, `resource_id` is a setting key and a
/// sensitive setting raises the score.
pub const SETTINGS_RESOURCE: &str = "system_settings";
/// Key of `details` holding the permission code the action exercised.
pub const PERMISSION_KEY: &str = "permission";
/// Key of `details` holding the number of rows affected.
pub const AFFECTED_COUNT_KEY: &str = "affected_count";
/// Key of `details` holding the risk explanation (`[{code, weight, reason}]`).
pub const EXPLANATION_KEY: &str = "risk_explanation";
/// Keys of `details` the log writes itself; a caller's details may not use them.
pub const RESERVED_DETAIL_KEYS: &[&str] = &[PERMISSION_KEY, AFFECTED_COUNT_KEY, EXPLANATION_KEY];

/// An action to log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewActivity {
    /// What was done, e.g. `settings.delete`, `admin_users.deactivate`.
    pub action: String,
    /// The permission code the action exercised (its risk level and whether the admin holds it
    /// feed the score).
    pub permission: Option<String>,
    /// The kind of resource, e.g. [`SETTINGS_RESOURCE`], `quotes`.
    pub resource_type: String,
    /// Its id or key (`None` for collection-level actions).
    pub resource_id: Option<String>,
    /// Free-form details (a JSON object; not the [`RESERVED_DETAIL_KEYS`]).
    pub details: Map<String, Value>,
    /// The client address.
    pub ip: Option<IpAddr>,
    /// Rows affected, when known (bulk actions score higher).
    pub affected_count: Option<u64>,
}

impl NewActivity {
    /// An action on a resource type, with nothing else known yet.
    pub fn new(action: impl Into<String>, resource_type: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            permission: None,
            resource_type: resource_type.into(),
            resource_id: None,
            details: Map::new(),
            ip: None,
            affected_count: None,
        }
    }

    /// The permission code exercised.
    pub fn permission(mut self, code: impl Into<String>) -> Self {
        self.permission = Some(code.into());
        self
    }

    /// The resource id or key.
    pub fn resource_id(mut self, id: impl Into<String>) -> Self {
        self.resource_id = Some(id.into());
        self
    }

    /// The client address.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Rows affected.
    pub fn affected(mut self, n: u64) -> Self {
        self.affected_count = Some(n);
        self
    }

    /// One detail.
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// A logged action.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivityEntry {
    /// Its id (ascending in time of insertion).
    pub id: AdminActivityId,
    /// The admin who acted.
    pub admin_user_id: AdminUserId,
    /// What was done.
    pub action: String,
    /// The permission exercised.
    pub permission: Option<String>,
    /// The kind of resource.
    pub resource_type: String,
    /// Its id or key.
    pub resource_id: Option<String>,
    /// The caller's details (without the reserved keys).
    pub details: Map<String, Value>,
    /// Rows affected.
    pub affected_count: Option<u64>,
    /// The client address.
    pub ip: Option<IpAddr>,
    /// The stored score.
    pub risk_score: u8,
    /// The stored factor names.
    pub risk_factors: Vec<String>,
    /// The weights and reasons, when the entry was written with them (by this repository).
    pub risk_explanation: Option<Vec<RiskFactor>>,
    /// When (the writing transaction's time).
    pub occurred_at: OffsetDateTime,
}

impl ActivityEntry {
    /// Whether the entry is high risk (score ≥ 70).
    pub fn is_high_risk(&self) -> bool {
        self.risk_score >= risk::HIGH_RISK_THRESHOLD
    }

    /// The score with its weights and reasons, when the entry was written with them.
    pub fn assessment(&self) -> Option<RiskAssessment> {
        self.risk_explanation.as_ref().map(|factors| RiskAssessment {
            score: self.risk_score,
            factors: factors.clone(),
        })
    }
}

impl sealed::Sealed for ActivityEntry {}

/// Activity pages are ordered by `(occurred_at, id)`, newest first.
impl PageItem for ActivityEntry {
    type Id = AdminActivityId;
    fn cursor(&self) -> Option<Cursor<AdminActivityId>> {
        Some(Cursor::new(self.occurred_at, self.id))
    }
}

/// Errors of [`Activity`].
#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such admin visible to the actor.
    #[error("admin account {0} not found")]
    AdminNotFound(AdminUserId),
    /// Row level security refused the entry (an admin logs only their own actions, while active).
    #[error("not allowed to log activity for admin {0}")]
    Forbidden(AdminUserId),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl ActivityError {
    fn from_db(err: sqlx::Error, admin: AdminUserId) -> Self {
        match rule_of(&err) {
            Some(rules::ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK) => Self::AdminNotFound(admin),
            _ if is_rls_refusal(&err) => Self::Forbidden(admin),
            _ => Self::Database(err),
        }
    }
}

/// A stored row, before splitting `details`.
struct Row {
    id: AdminActivityId,
    admin_user_id: AdminUserId,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    details: Value,
    ip: Option<IpNetwork>,
    risk_score: i16,
    risk_factors: Value,
    occurred_at: OffsetDateTime,
}

impl From<Row> for ActivityEntry {
    fn from(r: Row) -> Self {
        let mut details = match r.details {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let permission = details
            .remove(PERMISSION_KEY)
            .and_then(|v| v.as_str().map(str::to_owned));
        let affected_count = details.remove(AFFECTED_COUNT_KEY).and_then(|v| v.as_u64());
        let risk_explanation = details
            .remove(EXPLANATION_KEY)
            .and_then(|v| serde_json::from_value::<Vec<RiskFactor>>(v).ok());
        let risk_factors = match r.risk_factors {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            id: r.id,
            admin_user_id: r.admin_user_id,
            action: r.action,
            permission,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            details,
            affected_count,
            ip: r.ip.map(|n| n.ip()),
            risk_score: u8::try_from(r.risk_score.clamp(0, 100)).unwrap_or(100),
            risk_factors,
            risk_explanation,
            occurred_at: r.occurred_at,
        }
    }
}

/// The far end of a newest-first keyset (no cursor yet).
const NO_CURSOR: (OffsetDateTime, i64) = (time::macros::datetime!(9999-12-31 0:00 UTC), i64::MAX);

/// Activity log API, from [`Admin::activity`](super::Admin::activity).
#[derive(Debug, Clone, Copy)]
pub struct Activity<'a> {
    db: &'a Db,
}

impl<'a> Activity<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Score and append an action of `admin`. Returns the stored entry (its
    /// [`assessment`](ActivityEntry::assessment) explains the score).
    ///
    /// An admin logs only their own actions (RLS); the System actor logs for any admin.
    #[tracing::instrument(skip_all, fields(admin = %admin, action = %activity.action), err)]
    pub async fn record(
        &self,
        actor: &Actor,
        admin: AdminUserId,
        activity: &NewActivity,
    ) -> Result<ActivityEntry, ActivityError> {
        let action = present("action", &activity.action)?;
        let resource_type = present("resource_type", &activity.resource_type)?;
        let permission = activity.permission.as_deref().map(PermissionCode::parse).transpose()?;
        if let Some(key) = RESERVED_DETAIL_KEYS.iter().find(|k| activity.details.contains_key(**k)) {
            return Err(InvalidInput::new("details", format!("{key:?} is written by the activity log itself")).into());
        }
        let setting_key = (resource_type == SETTINGS_RESOURCE)
            .then_some(activity.resource_id.as_deref())
            .flatten();
        let sensitive_setting = match setting_key {
            Some(key) => super::settings::is_sensitive(self.db.exec(), key)
                .await
                .map_err(ActivityError::Database)?
                .unwrap_or(false),
            None => false,
        };

        let mut tx = begin_as(self.db, actor).await.map_err(ActivityError::Database)?;
        let ctx = sqlx::query!(
            r#"SELECT au.failed_login_attempts, au.last_login_ip, au.allowed_ip_ranges,
                      p.risk_level AS "risk_level?: AdminPermissionRiskLevel",
                      admin_has_permission(au.user_id, $2) AS "holds!",
                      now() AS "now!"
               FROM admin_users au
               LEFT JOIN admin_permissions p ON p.code = $2
               WHERE au.id = $1"#,
            admin.0,
            permission.as_ref().map(PermissionCode::as_str),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(ActivityError::Database)?
        .ok_or(ActivityError::AdminNotFound(admin))?;

        let context = ActivityContext {
            action: action.clone(),
            permission: permission.as_ref().map(ToString::to_string),
            permission_risk: ctx.risk_level,
            holds_permission: ctx.holds,
            at: ctx.now,
            ip: activity.ip,
            last_login_ip: ctx.last_login_ip.map(|n| n.ip()),
            allowed_ip_ranges: ctx.allowed_ip_ranges,
            failed_login_attempts: u32::try_from(ctx.failed_login_attempts).unwrap_or(0),
            affected_count: activity.affected_count,
            sensitive_setting,
        };
        let assessment = risk::score(&context);

        let mut details = activity.details.clone();
        if let Some(p) = &permission {
            details.insert(PERMISSION_KEY.into(), Value::from(p.as_str()));
        }
        if let Some(n) = activity.affected_count {
            details.insert(AFFECTED_COUNT_KEY.into(), Value::from(n));
        }
        details.insert(
            EXPLANATION_KEY.into(),
            serde_json::to_value(&assessment.factors).unwrap_or(Value::Array(Vec::new())),
        );
        let factor_names = Value::from(assessment.factor_codes());

        let row = sqlx::query_as!(
            Row,
            r#"INSERT INTO admin_activity_logs
                   (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               RETURNING id AS "id: AdminActivityId", admin_user_id AS "admin_user_id: AdminUserId", action,
                         resource_type, resource_id, details, ip, risk_score, risk_factors, occurred_at"#,
            admin.0,
            action,
            resource_type,
            activity.resource_id.as_deref(),
            Value::Object(details),
            activity.ip.map(IpNetwork::from),
            i16::from(assessment.score),
            factor_names,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| ActivityError::from_db(e, admin))?;
        tx.commit().await.map_err(ActivityError::Database)?;
        Ok(row.into())
    }

    /// A page of high-risk entries (score ≥ 70), newest first. The actor sees their own
    /// entries, or all with `activity:read` / as the System.
    ///
    /// The predicate `risk_score >= 70` is literal so the partial index
    /// `admin_activity_logs_occurred_at_high_risk_idx` serves generic plans too.
    #[tracing::instrument(skip_all, fields(size = page.size), err)]
    pub async fn high_risk_page(
        &self,
        actor: &Actor,
        page: &PageRequest<AdminActivityId>,
    ) -> Result<Page<ActivityEntry>, ActivityError> {
        let fetch = page.fetch_limit()?;
        let (at, id) = page.after.map_or(NO_CURSOR, |c| (c.at(), c.id().0));
        // One round trip, replica-routed (see `crate::replica`): the function switches to
        // quotedb_app and sets the actor itself.
        let rows = crate::replica::routed_read!(self.db, |conn| sqlx::query_file_as!(
            Row,
            "src/admin/high_risk_page.sql",
            actor.user_id() as Option<UserId>,
            at,
            id,
            fetch
        )
        .fetch_all(conn))
        .map_err(ActivityError::Database)?;
        Ok(entries_page(rows, page.size))
    }

    /// A page of one admin's entries, newest first (index
    /// `admin_activity_logs_admin_user_id_occurred_at_idx`). RLS as for the high-risk page.
    #[tracing::instrument(skip_all, fields(admin = %admin, size = page.size), err)]
    pub async fn admin_page(
        &self,
        actor: &Actor,
        admin: AdminUserId,
        page: &PageRequest<AdminActivityId>,
    ) -> Result<Page<ActivityEntry>, ActivityError> {
        let fetch = page.fetch_limit()?;
        let (at, id) = page.after.map_or(NO_CURSOR, |c| (c.at(), c.id().0));
        let mut tx = begin_as(self.db, actor).await.map_err(ActivityError::Database)?;
        let rows = sqlx::query_as!(
            Row,
            r#"SELECT id AS "id: AdminActivityId", admin_user_id AS "admin_user_id: AdminUserId", action,
                      resource_type, resource_id, details, ip, risk_score, risk_factors, occurred_at
               FROM admin_activity_logs
               WHERE admin_user_id = $1
                 AND (occurred_at, id) < ($2, $3)
               ORDER BY occurred_at DESC, id DESC
               LIMIT $4"#,
            admin.0,
            at,
            id,
            fetch,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(ActivityError::Database)?;
        tx.commit().await.map_err(ActivityError::Database)?;
        Ok(entries_page(rows, page.size))
    }
}

/// The stored rows (at most `size + 1`) as a page of entries.
fn entries_page(rows: Vec<Row>, size: u32) -> Page<ActivityEntry> {
    into_page(rows.into_iter().map(ActivityEntry::from).collect(), size)
}
