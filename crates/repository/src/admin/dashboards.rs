//! Saved dashboard layouts of an admin (`admin_dashboards`; not under row level security: every
//! call names the owning admin and touches only that admin's dashboards — another admin's
//! dashboard is [`DashboardError::NotFound`]).
//!
//! At most one dashboard per admin is the default (`admin_dashboards_one_default`):
//! [`Dashboards::set_default`] clears the old default and sets the new one in one transaction.

use quotedb_schema::admin::rules;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::present;
use crate::error::rule_of;
use crate::ids::{AdminUserId, DashboardId};
use crate::{Db, InvalidInput};

/// A saved dashboard.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dashboard {
    /// Its id.
    pub id: DashboardId,
    /// Its owner.
    pub admin_user_id: AdminUserId,
    /// Its name (unique per admin).
    pub name: String,
    /// The layout (a JSON object).
    pub layout: Value,
    /// Opened at sign-in.
    pub is_default: bool,
    /// When created.
    pub created_at: OffsetDateTime,
    /// When last changed.
    pub updated_at: OffsetDateTime,
}

/// Errors of [`Dashboards`].
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such dashboard of this admin.
    #[error("dashboard {0} not found")]
    NotFound(DashboardId),
    /// The owner is not an admin (`admin_dashboards_admin_user_fk`).
    #[error("admin account {0} not found")]
    AdminNotFound(AdminUserId),
    /// The admin has a dashboard of this name already (`admin_dashboards_name_unique`).
    #[error("a dashboard named {0:?} exists already")]
    NameTaken(String),
    /// Another default was set concurrently (`admin_dashboards_one_default`); retry.
    #[error("another dashboard became the default concurrently")]
    DefaultConflict,
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl DashboardError {
    fn from_db(err: sqlx::Error, admin: AdminUserId, name: &str) -> Self {
        match rule_of(&err) {
            Some(rules::ADMIN_DASHBOARDS_ADMIN_USER_FK) => Self::AdminNotFound(admin),
            Some(rules::ADMIN_DASHBOARDS_NAME_UNIQUE) => Self::NameTaken(name.to_owned()),
            Some(rules::ADMIN_DASHBOARDS_ONE_DEFAULT) => Self::DefaultConflict,
            Some(rules::ADMIN_DASHBOARDS_NAME_PRESENT) => Self::Invalid(InvalidInput::new("name", "must not be blank")),
            Some(rules::ADMIN_DASHBOARDS_LAYOUT_IS_OBJECT) => {
                Self::Invalid(InvalidInput::new("layout", "must be a JSON object"))
            }
            _ => Self::Database(err),
        }
    }
}

/// Serialize a layout and check it is a JSON object.
fn layout_object(layout: impl Serialize) -> Result<Value, InvalidInput> {
    match serde_json::to_value(layout) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(InvalidInput::new("layout", "must be a JSON object")),
        Err(e) => Err(InvalidInput::new("layout", format!("does not serialize to JSON: {e}"))),
    }
}

/// Dashboards API, from [`Admin::dashboards`](super::Admin::dashboards).
#[derive(Debug, Clone, Copy)]
pub struct Dashboards<'a> {
    db: &'a Db,
}

impl<'a> Dashboards<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Save a new (non-default) dashboard for `admin`.
    #[tracing::instrument(skip_all, fields(admin = %admin), err)]
    pub async fn create(
        &self,
        admin: AdminUserId,
        name: &str,
        layout: impl Serialize,
    ) -> Result<Dashboard, DashboardError> {
        let name = present("name", name)?;
        let layout = layout_object(layout)?;
        sqlx::query_as!(
            Dashboard,
            r#"INSERT INTO admin_dashboards (admin_user_id, name, layout) VALUES ($1, $2, $3)
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            admin.0,
            name,
            layout,
        )
        .fetch_one(self.db.pool())
        .await
        .map_err(|e| DashboardError::from_db(e, admin, &name))
    }

    /// The dashboards of `admin`: the default first, then by name.
    #[tracing::instrument(skip_all, fields(admin = %admin), err)]
    pub async fn list(&self, admin: AdminUserId) -> Result<Vec<Dashboard>, DashboardError> {
        sqlx::query_as!(
            Dashboard,
            r#"SELECT id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                      is_default, created_at, updated_at
               FROM admin_dashboards WHERE admin_user_id = $1
               ORDER BY is_default DESC, name"#,
            admin.0,
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(DashboardError::Database)
    }

    /// Make `dashboard` the default of `admin`, clearing the previous default first — one
    /// transaction, so a failure changes nothing.
    #[tracing::instrument(skip_all, fields(admin = %admin, dashboard = %dashboard), err)]
    pub async fn set_default(&self, admin: AdminUserId, dashboard: DashboardId) -> Result<Dashboard, DashboardError> {
        let mut tx = self.db.pool().begin().await.map_err(DashboardError::Database)?;
        sqlx::query!(
            "UPDATE admin_dashboards SET is_default = false WHERE admin_user_id = $1 AND is_default AND id <> $2",
            admin.0,
            dashboard.0,
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, admin, ""))?;
        let updated = sqlx::query_as!(
            Dashboard,
            r#"UPDATE admin_dashboards SET is_default = true
               WHERE admin_user_id = $1 AND id = $2
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            admin.0,
            dashboard.0,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, admin, ""))?
        .ok_or(DashboardError::NotFound(dashboard))?;
        tx.commit().await.map_err(DashboardError::Database)?;
        Ok(updated)
    }

    /// Replace the layout of one of `admin`'s dashboards.
    #[tracing::instrument(skip_all, fields(admin = %admin, dashboard = %dashboard), err)]
    pub async fn update_layout(
        &self,
        admin: AdminUserId,
        dashboard: DashboardId,
        layout: impl Serialize,
    ) -> Result<Dashboard, DashboardError> {
        let layout = layout_object(layout)?;
        sqlx::query_as!(
            Dashboard,
            r#"UPDATE admin_dashboards SET layout = $3
               WHERE admin_user_id = $1 AND id = $2
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            admin.0,
            dashboard.0,
            layout,
        )
        .fetch_optional(self.db.pool())
        .await
        .map_err(|e| DashboardError::from_db(e, admin, ""))?
        .ok_or(DashboardError::NotFound(dashboard))
    }

    /// Delete one of `admin`'s dashboards.
    #[tracing::instrument(skip_all, fields(admin = %admin, dashboard = %dashboard), err)]
    pub async fn delete(&self, admin: AdminUserId, dashboard: DashboardId) -> Result<(), DashboardError> {
        let deleted = sqlx::query!(
            "DELETE FROM admin_dashboards WHERE admin_user_id = $1 AND id = $2",
            admin.0,
            dashboard.0,
        )
        .execute(self.db.pool())
        .await
        .map_err(DashboardError::Database)?;
        if deleted.rows_affected() == 0 {
            return Err(DashboardError::NotFound(dashboard));
        }
        Ok(())
    }
}
