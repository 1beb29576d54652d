//! Admin accounts (`admin_users`, under row level security).
//!
//! Every call takes an [`Actor`] and the policies decide: an admin sees their own account;
//! admins holding `admin_users:manage` see every account and create and change OTHER admins'
//! accounts (never their own: no self-promotion, no self-unlock); the System actor (the login
//! flow) manages every account. An account the actor cannot see is [`AdminUserError::NotFound`];
//! a visible one it may not change is [`AdminUserError::Forbidden`].
//!
//! # Lockout
//!
//! [`record_login_failure`](AdminUsers::record_login_failure) counts consecutive failures; the
//! Nth one locks the account for M minutes, N and M being the system settings
//! `admin.max_failed_logins` and `admin.lockout_minutes` (seeded as 5 and 30; read in the same
//! statement through `public_setting`; [`DEFAULT_MAX_FAILED_LOGINS`] and
//! [`DEFAULT_LOCKOUT_MINUTES`] when a setting is missing or not a number). Every further failure
//! while the counter is still at or above N locks it again from that moment (the counter is reset
//! only by a successful login or an unlock). A locked admin
//! holds no permission (`admin_has_permission`) and [`record_login_success`](AdminUsers::record_login_success)
//! refuses them.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use quotedb_schema::admin::rules;
use time::OffsetDateTime;

use crate::actor::{Actor, begin_as};
use crate::error::{is_rls_refusal, rule_of};
use crate::ids::{AdminRoleId, AdminUserId, UserId};
use crate::{Db, InvalidInput};

/// The setting holding how many consecutive failed logins lock an admin account.
pub const MAX_FAILED_LOGINS_SETTING: &str = "admin.max_failed_logins";
/// The setting holding how many minutes a lock lasts.
pub const LOCKOUT_MINUTES_SETTING: &str = "admin.lockout_minutes";
/// Consecutive failed logins that lock an admin account when [`MAX_FAILED_LOGINS_SETTING`] is unset.
pub const DEFAULT_MAX_FAILED_LOGINS: i32 = 5;
/// Minutes a lock lasts when [`LOCKOUT_MINUTES_SETTING`] is unset.
pub const DEFAULT_LOCKOUT_MINUTES: i32 = 30;
/// The shortest deactivation reason, in characters once trimmed (`admin_users_deactivation_reason_meaningful`).
pub const MIN_DEACTIVATION_REASON_CHARS: usize = 10;

quotedb_domain::validated!(
    /// Why an admin is deactivated: real text of at least 10 characters once trimmed.
    DeactivationReason,
    "deactivation_reason",
    |raw| {
        let s = raw.trim();
        if s.chars().count() >= MIN_DEACTIVATION_REASON_CHARS {
            Ok(s.to_owned())
        } else {
            Err(format!(
                "a deactivation reason needs at least {MIN_DEACTIVATION_REASON_CHARS} characters, got {:?}",
                s
            ))
        }
    }
);

/// What it takes to make a user an admin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewAdminUser {
    /// The user (customer or agent row) behind the admin.
    pub user_id: UserId,
    /// Their role.
    pub role_id: AdminRoleId,
    /// Whether login must pass a second factor.
    pub mfa_required: bool,
    /// Networks they may sign in from; `None` = unrestricted (an empty list is refused).
    pub allowed_ip_ranges: Option<Vec<IpNetwork>>,
}

/// An admin account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdminUser {
    /// The admin id (`admin_users.id`).
    pub id: AdminUserId,
    /// The user behind it (`users.id`, what [`Actor::Admin`] carries).
    pub user_id: UserId,
    /// Their role.
    pub role_id: AdminRoleId,
    /// Whether login must pass a second factor.
    pub mfa_required: bool,
    /// Consecutive failed logins since the last success.
    pub failed_login_attempts: i32,
    /// Locked (login refused, no permissions) until then.
    pub locked_until: Option<OffsetDateTime>,
    /// Last password change (`None`: SSO only).
    pub password_changed_at: Option<OffsetDateTime>,
    /// Last successful login.
    pub last_login_at: Option<OffsetDateTime>,
    /// Where it came from.
    pub last_login_ip: Option<IpAddr>,
    /// Networks they may sign in from (`None` = unrestricted).
    pub allowed_ip_ranges: Option<Vec<IpNetwork>>,
    /// When deactivated.
    pub deactivated_at: Option<OffsetDateTime>,
    /// Why.
    pub deactivation_reason: Option<String>,
    /// By whom.
    pub deactivated_by: Option<AdminUserId>,
    /// Not deactivated.
    pub is_active: bool,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl AdminUser {
    /// Whether the account is locked at `now`.
    pub fn is_locked_at(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// The login counters after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoginState {
    /// Consecutive failed logins.
    pub failed_login_attempts: i32,
    /// Locked until then (`None`: not locked).
    pub locked_until: Option<OffsetDateTime>,
}

/// Errors of [`AdminUsers`].
#[derive(Debug, thiserror::Error)]
pub enum AdminUserError {
    /// Input refused before reaching the database (or `admin_users_deactivation_reason_meaningful`).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such admin account visible to the actor.
    #[error("admin account {0} not found")]
    NotFound(AdminUserId),
    /// No admin account for this user visible to the actor.
    #[error("no admin account for user {0}")]
    NotFoundForUser(UserId),
    /// The user does not exist (`admin_users_user_fk`).
    #[error("user {0} not found")]
    UserNotFound(UserId),
    /// The user has an admin account already (`admin_users_user_unique`).
    #[error("user {0} already has an admin account")]
    AlreadyAdmin(UserId),
    /// The role does not exist (`admin_users_role_fk`).
    #[error("admin role {0} not found")]
    RoleNotFound(AdminRoleId),
    /// Row level security refused the change (no `admin_users:manage`, or the actor's own account).
    #[error("not allowed to change this admin account")]
    Forbidden,
    /// The account is deactivated already.
    #[error("admin account {0} is already deactivated")]
    AlreadyDeactivated(AdminUserId),
    /// A deactivation must record who did it (`admin_users_deactivation_complete`): the actor must
    /// be an active admin, not the System.
    #[error("a deactivation records who did it: the actor must be an active admin")]
    DeactivationNeedsAnAdmin,
    /// Login refused: the account is deactivated.
    #[error("admin account {0} is deactivated")]
    Deactivated(AdminUserId),
    /// Login refused: the account is locked.
    #[error("admin account is locked until {until}")]
    Locked {
        /// When the lock ends.
        until: OffsetDateTime,
    },
    /// Login refused: the address is outside the account's allowed networks.
    #[error("{0} is not in the admin's allowed IP ranges")]
    IpNotAllowed(IpAddr),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl AdminUserError {
    fn from_db(err: sqlx::Error, user: Option<UserId>, role: Option<AdminRoleId>) -> Self {
        let nil_user = UserId(uuid::Uuid::nil());
        let nil_role = AdminRoleId(uuid::Uuid::nil());
        match rule_of(&err) {
            Some(rules::ADMIN_USERS_USER_UNIQUE) => Self::AlreadyAdmin(user.unwrap_or(nil_user)),
            Some(rules::ADMIN_USERS_USER_FK) => Self::UserNotFound(user.unwrap_or(nil_user)),
            Some(rules::ADMIN_USERS_ROLE_FK) => Self::RoleNotFound(role.unwrap_or(nil_role)),
            Some(rules::ADMIN_USERS_DEACTIVATION_COMPLETE) => Self::DeactivationNeedsAnAdmin,
            Some(rules::ADMIN_USERS_DEACTIVATION_REASON_MEANINGFUL) => Self::Invalid(InvalidInput::new(
                "deactivation_reason",
                format!("needs at least {MIN_DEACTIVATION_REASON_CHARS} characters"),
            )),
            Some(rules::ADMIN_USERS_ALLOWED_IP_RANGES_VALID) => Self::Invalid(InvalidInput::new(
                "allowed_ip_ranges",
                "an allow-list names at least one network",
            )),
            _ if is_rls_refusal(&err) => Self::Forbidden,
            _ => Self::Database(err),
        }
    }
}

/// `query_as!(Row, ...)` with the admin account columns between `$head` and `$tail`, so every
/// query returns the same shape (still one compile-time checked literal). The `!` overrides are
/// for the `app_admin_user_by_*` functions, whose columns sqlx cannot see are NOT NULL.
macro_rules! query_admin_user {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            Row,
            $head
                + r#" id AS "id!: AdminUserId", user_id AS "user_id!: UserId", role_id AS "role_id!: AdminRoleId",
                      mfa_required AS "mfa_required!", failed_login_attempts AS "failed_login_attempts!",
                      locked_until, password_changed_at, last_login_at, last_login_ip, allowed_ip_ranges,
                      deactivated_at, deactivation_reason, deactivated_by AS "deactivated_by: AdminUserId",
                      is_active AS "is_active!", created_at AS "created_at!", updated_at AS "updated_at!" "#
                + $tail
            $($args)*
        )
    };
}

/// One `admin_users` row as the queries return it (inet decoded as a network).
struct Row {
    id: AdminUserId,
    user_id: UserId,
    role_id: AdminRoleId,
    mfa_required: bool,
    failed_login_attempts: i32,
    locked_until: Option<OffsetDateTime>,
    password_changed_at: Option<OffsetDateTime>,
    last_login_at: Option<OffsetDateTime>,
    last_login_ip: Option<IpNetwork>,
    allowed_ip_ranges: Option<Vec<IpNetwork>>,
    deactivated_at: Option<OffsetDateTime>,
    deactivation_reason: Option<String>,
    deactivated_by: Option<AdminUserId>,
    is_active: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<Row> for AdminUser {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            role_id: r.role_id,
            mfa_required: r.mfa_required,
            failed_login_attempts: r.failed_login_attempts,
            locked_until: r.locked_until,
            password_changed_at: r.password_changed_at,
            last_login_at: r.last_login_at,
            last_login_ip: r.last_login_ip.map(|n| n.ip()),
            allowed_ip_ranges: r.allowed_ip_ranges,
            deactivated_at: r.deactivated_at,
            deactivation_reason: r.deactivation_reason,
            deactivated_by: r.deactivated_by,
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Whether `ip` lies in one of `ranges` (`None` = unrestricted).
pub(crate) fn ip_allowed(ranges: Option<&[IpNetwork]>, ip: IpAddr) -> bool {
    ranges.is_none_or(|ranges| ranges.iter().any(|net| net.contains(ip)))
}

/// Admin accounts API, from [`Admin::users`](super::Admin::users).
#[derive(Debug, Clone, Copy)]
pub struct AdminUsers<'a> {
    db: &'a Db,
}

impl<'a> AdminUsers<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Make a user an admin. Allowed to the System actor and to admins holding
    /// `admin_users:manage`, never for themselves ([`AdminUserError::Forbidden`]).
    #[tracing::instrument(skip_all, fields(user = %new.user_id, role = %new.role_id), err)]
    pub async fn create(&self, actor: &Actor, new: &NewAdminUser) -> Result<AdminUser, AdminUserError> {
        if new.allowed_ip_ranges.as_ref().is_some_and(Vec::is_empty) {
            return Err(InvalidInput::new(
                "allowed_ip_ranges",
                "an allow-list names at least one network (None = unrestricted)",
            )
            .into());
        }
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let row = query_admin_user!(
            r#"INSERT INTO admin_users (user_id, role_id, mfa_required, allowed_ip_ranges)
               VALUES ($1, $2, $3, $4)
               RETURNING"#,
            "",
            new.user_id.0,
            new.role_id.0,
            new.mfa_required,
            new.allowed_ip_ranges.as_deref() as Option<&[IpNetwork]>,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, Some(new.user_id), Some(new.role_id)))?;
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(row.into())
    }

    /// An admin account by id, if the actor may see it.
    #[tracing::instrument(skip_all, fields(admin = %id), err)]
    pub async fn get(&self, actor: &Actor, id: AdminUserId) -> Result<AdminUser, AdminUserError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let row = crate::error::read_retrying!(self.db, |conn| query_admin_user!(
            "SELECT",
            "FROM app_admin_user_by_id($1, $2)",
            actor.user_id() as Option<UserId>,
            id.0,
        )
        .fetch_optional(conn))
        .map_err(AdminUserError::Database)?;
        row.map(AdminUser::from).ok_or(AdminUserError::NotFound(id))
    }

    /// The admin account of `user`, if the actor may see it (an admin always sees their own).
    #[tracing::instrument(skip_all, fields(user = %user), err)]
    pub async fn get_by_user(&self, actor: &Actor, user: UserId) -> Result<AdminUser, AdminUserError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let row = crate::error::read_retrying!(self.db, |conn| query_admin_user!(
            "SELECT",
            "FROM app_admin_user_by_user($1, $2)",
            actor.user_id() as Option<UserId>,
            user.0,
        )
        .fetch_optional(conn))
        .map_err(AdminUserError::Database)?;
        row.map(AdminUser::from).ok_or(AdminUserError::NotFoundForUser(user))
    }

    /// Deactivate an admin account, recording when, why and by whom (the acting admin). The
    /// System actor cannot deactivate ([`AdminUserError::DeactivationNeedsAnAdmin`]): someone must
    /// answer for it.
    #[tracing::instrument(skip_all, fields(admin = %id), err)]
    pub async fn deactivate(
        &self,
        actor: &Actor,
        id: AdminUserId,
        reason: &DeactivationReason,
    ) -> Result<AdminUser, AdminUserError> {
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let row = query_admin_user!(
            r#"UPDATE admin_users
               SET deactivated_at = now(), deactivation_reason = $2, deactivated_by = app_admin_user_id()
               WHERE id = $1 AND deactivated_at IS NULL
               RETURNING"#,
            "",
            id.0,
            reason.as_str(),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, None, None))?;
        let Some(row) = row else {
            return Err(match self.state(&mut tx, id).await {
                Ok(Some(s)) if s.deactivated_at.is_some() => AdminUserError::AlreadyDeactivated(id),
                Ok(Some(_)) => AdminUserError::Forbidden,
                Ok(None) => AdminUserError::NotFound(id),
                Err(e) => e,
            });
        };
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(row.into())
    }

    /// Record a failed login: one more consecutive failure; reaching `admin.max_failed_logins`
    /// locks the account for `admin.lockout_minutes` (see the module docs). Normally called by the
    /// System actor (the login flow).
    #[tracing::instrument(skip_all, fields(admin = %id), err)]
    pub async fn record_login_failure(&self, actor: &Actor, id: AdminUserId) -> Result<LoginState, AdminUserError> {
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let state = sqlx::query_as!(
            LoginState,
            r#"WITH setting AS (SELECT public_setting($4) AS max_failed, public_setting($5) AS lock_minutes),
                    policy AS (
                        SELECT coalesce(CASE WHEN jsonb_typeof(max_failed) = 'number'
                                             THEN max_failed::numeric END, $2) AS max_failed,
                               coalesce(CASE WHEN jsonb_typeof(lock_minutes) = 'number'
                                             THEN lock_minutes::numeric END, $3) AS lock_minutes
                        FROM setting)
               UPDATE admin_users
               SET failed_login_attempts = failed_login_attempts + 1,
                   locked_until = CASE WHEN failed_login_attempts + 1 >= policy.max_failed
                                       THEN now() + policy.lock_minutes * interval '1 minute'
                                       ELSE locked_until END
               FROM policy
               WHERE id = $1
               RETURNING failed_login_attempts, locked_until"#,
            id.0,
            rust_decimal::Decimal::from(DEFAULT_MAX_FAILED_LOGINS),
            rust_decimal::Decimal::from(DEFAULT_LOCKOUT_MINUTES),
            MAX_FAILED_LOGINS_SETTING,
            LOCKOUT_MINUTES_SETTING,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, None, None))?;
        let Some(state) = state else {
            return Err(self.not_updated(&mut tx, id).await);
        };
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(state)
    }

    /// Record a successful login from `ip`: resets the failure counter and records the time and
    /// address. Refused — nothing written — when the account is deactivated, locked, or `ip` is
    /// outside its allowed networks. Normally called by the System actor (the login flow).
    #[tracing::instrument(skip_all, fields(admin = %id, ip = %ip), err)]
    pub async fn record_login_success(
        &self,
        actor: &Actor,
        id: AdminUserId,
        ip: IpAddr,
    ) -> Result<AdminUser, AdminUserError> {
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let row = query_admin_user!(
            r#"UPDATE admin_users
               SET failed_login_attempts = 0, locked_until = NULL, last_login_at = now(), last_login_ip = $2
               WHERE id = $1 AND deactivated_at IS NULL
                 AND (locked_until IS NULL OR locked_until <= now())
                 AND (allowed_ip_ranges IS NULL OR $2 <<= ANY (allowed_ip_ranges))
               RETURNING"#,
            "",
            id.0,
            IpNetwork::from(ip),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, None, None))?;
        let Some(row) = row else {
            return Err(match self.state(&mut tx, id).await {
                Ok(None) => AdminUserError::NotFound(id),
                Ok(Some(s)) if s.deactivated_at.is_some() => AdminUserError::Deactivated(id),
                Ok(Some(s)) if s.locked_until.is_some_and(|u| u > s.now) => AdminUserError::Locked {
                    until: s.locked_until.unwrap_or(s.now),
                },
                Ok(Some(s)) if !ip_allowed(s.allowed_ip_ranges.as_deref(), ip) => AdminUserError::IpNotAllowed(ip),
                Ok(Some(_)) => AdminUserError::Forbidden,
                Err(e) => e,
            });
        };
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(row.into())
    }

    /// Lift a lock and reset the failure counter (another admin with `admin_users:manage`, or
    /// the System; never oneself).
    #[tracing::instrument(skip_all, fields(admin = %id), err)]
    pub async fn unlock(&self, actor: &Actor, id: AdminUserId) -> Result<LoginState, AdminUserError> {
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let state = sqlx::query_as!(
            LoginState,
            r#"UPDATE admin_users SET failed_login_attempts = 0, locked_until = NULL
               WHERE id = $1
               RETURNING failed_login_attempts, locked_until"#,
            id.0,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, None, None))?;
        let Some(state) = state else {
            return Err(self.not_updated(&mut tx, id).await);
        };
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(state)
    }

    /// Give an admin another role (another admin with `admin_users:manage`, or the System;
    /// never oneself).
    #[tracing::instrument(skip_all, fields(admin = %id, role = %role), err)]
    pub async fn change_role(
        &self,
        actor: &Actor,
        id: AdminUserId,
        role: AdminRoleId,
    ) -> Result<AdminUser, AdminUserError> {
        let mut tx = begin_as(self.db, actor).await.map_err(AdminUserError::Database)?;
        let row = query_admin_user!(
            r#"UPDATE admin_users SET role_id = $2
               WHERE id = $1
               RETURNING"#,
            "",
            id.0,
            role.0,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| AdminUserError::from_db(e, None, Some(role)))?;
        let Some(row) = row else {
            return Err(self.not_updated(&mut tx, id).await);
        };
        tx.commit().await.map_err(AdminUserError::Database)?;
        Ok(row.into())
    }

    /// Why an UPDATE touched no row: the account is hidden (NotFound) or visible but not
    /// updatable by the actor (Forbidden).
    async fn not_updated(&self, tx: &mut sqlx::PgConnection, id: AdminUserId) -> AdminUserError {
        match self.state(tx, id).await {
            Ok(Some(_)) => AdminUserError::Forbidden,
            Ok(None) => AdminUserError::NotFound(id),
            Err(e) => e,
        }
    }

    /// The login-relevant state of an account, as the actor sees it (error paths only).
    async fn state(&self, tx: &mut sqlx::PgConnection, id: AdminUserId) -> Result<Option<State>, AdminUserError> {
        sqlx::query_as!(
            State,
            r#"SELECT deactivated_at, locked_until, allowed_ip_ranges, now() AS "now!"
               FROM admin_users WHERE id = $1"#,
            id.0,
        )
        .fetch_optional(tx)
        .await
        .map_err(AdminUserError::Database)
    }
}

/// See [`AdminUsers::state`].
struct State {
    deactivated_at: Option<OffsetDateTime>,
    locked_until: Option<OffsetDateTime>,
    allowed_ip_ranges: Option<Vec<IpNetwork>>,
    now: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deactivation_reason_needs_ten_characters_once_trimmed() {
        assert!(DeactivationReason::parse("   too short  ").is_err()); // "too short": 9 characters
        assert_eq!(
            DeactivationReason::parse("  too short! ").map(String::from),
            Ok("too short!".to_owned())
        );
        assert_eq!(
            DeactivationReason::parse("  left co  ").map_err(|e| e.field),
            Err("deactivation_reason")
        );
        assert!(DeactivationReason::parse("left the company").is_ok());
        assert!(DeactivationReason::parse("ééééééééé").is_err()); // 9 characters, 18 bytes
        assert!(DeactivationReason::parse("éééééééééé").is_ok());
    }

    #[test]
    fn ip_allow_lists() {
        let net: IpNetwork = "10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!());
        let inside: IpAddr = [10, 1, 2, 3].into();
        let outside: IpAddr = [192, 168, 1, 1].into();
        assert!(ip_allowed(None, outside));
        assert!(ip_allowed(Some(&[net]), inside));
        assert!(!ip_allowed(Some(&[net]), outside));
    }
}
