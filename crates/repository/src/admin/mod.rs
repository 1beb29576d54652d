//! Admin (migration 0006): roles and permissions, admin accounts, the risk-scored activity log,
//! system settings, dashboards and the four-eyes rate change workflow.
//!
//! Reach it through [`Db::admin`]; each part has its own handle and error enum:
//!
//! | handle | tables | RLS | acting user |
//! |---|---|---|---|
//! | [`Admin::has_permission`] | `admin_has_permission()` | – | none (SECURITY DEFINER, one statement) |
//! | [`Admin::roles`] | `admin_roles`, `admin_permissions`, `admin_role_permissions` | no | [`Actor`] on writes (System or `roles:manage`) |
//! | [`Admin::users`] | `admin_users` | yes | [`Actor`] |
//! | [`Admin::activity`] | `admin_activity_logs` | yes | [`Actor`] |
//! | [`Admin::settings`] | `system_settings` | yes | [`Actor`] |
//! | [`Admin::dashboards`] | `admin_dashboards` | no | the owning [`AdminUserId`] |
//! | [`Admin::rate_changes`] | `rate_change_requests` | no | [`Actor`] on writes (an active, unlocked admin holding `rates:propose` / `rates:approve` / `rates:apply`) |
//!
//! # Permissions flow up
//!
//! A role holds the permissions granted to it **and to every role below it** (its descendants):
//! with super_admin > admin > underwriter / support / analyst, super_admin holds everything and
//! support only support's grants (view `admin_role_effective_permissions`). Locked or deactivated
//! admins hold nothing.
//!
//! # Who is acting
//!
//! Calls that take an [`Actor`] run in `crate::actor::begin_as` (role `quotedb_app`, the acting
//! user in `app.user_id`): the row level security policies decide what is visible (a hidden row
//! is "not found") and what may be written (a refused write is `Forbidden`). Where a column
//! records *who* (`granted_by`, `deactivated_by`, `updated_by`, `requested_by`, `reviewed_by`,
//! `applied_by`) the database resolves it from the actor with `app_admin_user_id()`, so a caller
//! cannot act in another admin's name.
//!
//! [`Db::admin`]: crate::Db::admin
//! [`Actor`]: crate::Actor
//! [`AdminUserId`]: crate::AdminUserId

pub mod activity;
pub mod dashboards;
pub mod rate_changes;
pub mod risk;
pub mod roles;
pub mod settings;
pub mod users;

pub use activity::{Activity, ActivityEntry, ActivityError, NewActivity};
pub use dashboards::{Dashboard, DashboardError, Dashboards};
pub use rate_changes::{
    ActivatedRate, BaseRateChange, ProposedChange, RateChangeError, RateChangeRequest, RateChanges,
    TerritoryFactorChange,
};
pub use risk::{ActivityContext, RiskAssessment, RiskFactor, RiskFactorCode};
pub use roles::{EffectivePermission, Permission, PermissionCode, Role, RoleError, RoleName, Roles};
pub use settings::{Setting, SettingError, SettingKey, Settings};
pub use users::{AdminUser, AdminUserError, AdminUsers, DeactivationReason, LoginState, NewAdminUser};

use crate::Db;
use crate::ids::UserId;

/// The admin API, from [`Db::admin`].
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    db: &'a Db,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Whether `user_id` (a `users.id`) is an active, unlocked admin whose role — or a role below
    /// it in the hierarchy — holds permission `code` (e.g. [`quotedb_schema::admin::permissions`]).
    ///
    /// The hot path: ONE statement on the pool, no transaction (`admin_has_permission` is
    /// SECURITY DEFINER and reads the hierarchy itself). An unknown code or a non-admin is `false`.
    #[tracing::instrument(skip_all, fields(user_id = %user_id, code = %code), err)]
    pub async fn has_permission(&self, user_id: UserId, code: &str) -> Result<bool, RoleError> {
        crate::error::read_retrying!(self.db, |conn| sqlx::query_scalar!(
            r#"SELECT admin_has_permission($1, $2) AS "allowed!""#,
            user_id.0,
            code
        )
        .fetch_one(conn))
        .map_err(RoleError::Database)
    }

    /// Roles, the permission registry, grants and effective permissions.
    pub fn roles(&self) -> Roles<'a> {
        Roles::new(self.db)
    }

    /// Admin accounts: create, deactivate, logins and lockout, role changes.
    pub fn users(&self) -> AdminUsers<'a> {
        AdminUsers::new(self.db)
    }

    /// The append-only, risk-scored admin activity log.
    pub fn activity(&self) -> Activity<'a> {
        Activity::new(self.db)
    }

    /// Typed system settings.
    pub fn settings(&self) -> Settings<'a> {
        Settings::new(self.db)
    }

    /// Saved dashboard layouts of an admin.
    pub fn dashboards(&self) -> Dashboards<'a> {
        Dashboards::new(self.db)
    }

    /// The four-eyes rate change workflow (the only way a rate becomes active).
    pub fn rate_changes(&self) -> RateChanges<'a> {
        RateChanges::new(self.db)
    }
}

/// Whether `s` is a snake_case identifier: `[a-z][a-z0-9_]*`.
pub(crate) fn is_snake_ident(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A non-blank, trimmed text input.
pub(crate) fn present(field: &'static str, raw: &str) -> Result<String, crate::InvalidInput> {
    crate::error::bounded_text(field, raw, quotedb_schema::base::MAX_TEXT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_identifiers() {
        assert!(is_snake_ident("a"));
        assert!(is_snake_ident("read_sensitive2"));
        assert!(!is_snake_ident(""));
        assert!(!is_snake_ident("2a"));
        assert!(!is_snake_ident("Read"));
        assert!(!is_snake_ident("a-b"));
    }
}
