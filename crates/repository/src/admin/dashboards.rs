//! Saved dashboard layouts of an admin (`admin_dashboards`, under row level security since 0007:
//! every call acts as an admin and sees and touches only that admin's dashboards — another
//! admin's dashboard is [`DashboardError::NotFound`]).
//!
//! At most one dashboard per admin is the default (`admin_dashboards_one_default`):
//! [`Dashboards::set_default`] clears the old default and sets the new one in one transaction.

use quotedb_schema::admin::rules;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::present;
use crate::actor::{Actor, begin_as};
use crate::error::rule_of;
use crate::ids::{AdminUserId, DashboardId, UserId};
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
    /// The actor is not an active admin: dashboards belong to admins.
    #[error("dashboards belong to active admins; the actor is none")]
    NotAnAdmin,
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
    fn from_db(err: sqlx::Error, name: &str) -> Self {
        if crate::error::is_rls_refusal(&err) || crate::error::sqlstate_of(&err).as_deref() == Some("23502") {
            // No admin behind the actor: admin_user_id = app_admin_user_id() is NULL.
            return Self::NotAnAdmin;
        }
        match rule_of(&err) {
            Some(rules::ADMIN_DASHBOARDS_ADMIN_USER_FK) => Self::NotAnAdmin,
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

    /// Save a new (non-default) dashboard for the acting admin (row level security: an admin's
    /// dashboards are theirs alone).
    #[tracing::instrument(skip_all, err)]
    pub async fn create(&self, actor: &Actor, name: &str, layout: impl Serialize) -> Result<Dashboard, DashboardError> {
        let name = present("name", name)?;
        let layout = layout_object(layout)?;
        let mut tx = begin_as(self.db, actor).await.map_err(DashboardError::Database)?;
        let created = sqlx::query_as!(
            Dashboard,
            r#"INSERT INTO admin_dashboards (admin_user_id, name, layout) VALUES (app_admin_user_id(), $1, $2)
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            name,
            layout,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, &name))?;
        tx.commit().await.map_err(DashboardError::Database)?;
        Ok(created)
    }

    /// The acting admin's dashboards: the default first, then by name.
    #[tracing::instrument(skip_all, err)]
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Dashboard>, DashboardError> {
        // A replica-routed read (see `crate::replica`).
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let list = crate::replica::routed_read!(self.db, |conn| sqlx::query_as!(
            Dashboard,
            r#"SELECT id AS "id!: DashboardId", admin_user_id AS "admin_user_id!: AdminUserId", name AS "name!",
                      layout AS "layout!", is_default AS "is_default!", created_at AS "created_at!",
                      updated_at AS "updated_at!"
               FROM app_admin_dashboards($1)
               ORDER BY is_default DESC, name"#,
            actor.user_id() as Option<UserId>,
        )
        .fetch_all(conn))
        .map_err(DashboardError::Database)?;
        Ok(list)
    }

    /// Make `dashboard` the acting admin's default, clearing the previous default first — one
    /// transaction, so a failure changes nothing.
    #[tracing::instrument(skip_all, fields(dashboard = %dashboard), err)]
    pub async fn set_default(&self, actor: &Actor, dashboard: DashboardId) -> Result<Dashboard, DashboardError> {
        let mut tx = begin_as(self.db, actor).await.map_err(DashboardError::Database)?;
        sqlx::query!(
            "UPDATE admin_dashboards SET is_default = false
             WHERE admin_user_id = app_admin_user_id() AND is_default AND id <> $1",
            dashboard.0,
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, ""))?;
        let updated = sqlx::query_as!(
            Dashboard,
            r#"UPDATE admin_dashboards SET is_default = true
               WHERE admin_user_id = app_admin_user_id() AND id = $1
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            dashboard.0,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, ""))?
        .ok_or(DashboardError::NotFound(dashboard))?;
        tx.commit().await.map_err(DashboardError::Database)?;
        Ok(updated)
    }

    /// Replace the layout of one of the acting admin's dashboards.
    #[tracing::instrument(skip_all, fields(dashboard = %dashboard), err)]
    pub async fn update_layout(
        &self,
        actor: &Actor,
        dashboard: DashboardId,
        layout: impl Serialize,
    ) -> Result<Dashboard, DashboardError> {
        let layout = layout_object(layout)?;
        let mut tx = begin_as(self.db, actor).await.map_err(DashboardError::Database)?;
        let updated = sqlx::query_as!(
            Dashboard,
            r#"UPDATE admin_dashboards SET layout = $2
               WHERE admin_user_id = app_admin_user_id() AND id = $1
               RETURNING id AS "id: DashboardId", admin_user_id AS "admin_user_id: AdminUserId", name, layout,
                         is_default, created_at, updated_at"#,
            dashboard.0,
            layout,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| DashboardError::from_db(e, ""))?
        .ok_or(DashboardError::NotFound(dashboard))?;
        tx.commit().await.map_err(DashboardError::Database)?;
        Ok(updated)
    }

    /// Delete one of the acting admin's dashboards.
    #[tracing::instrument(skip_all, fields(dashboard = %dashboard), err)]
    pub async fn delete(&self, actor: &Actor, dashboard: DashboardId) -> Result<(), DashboardError> {
        let mut tx = begin_as(self.db, actor).await.map_err(DashboardError::Database)?;
        let deleted = sqlx::query!(
            "DELETE FROM admin_dashboards WHERE admin_user_id = app_admin_user_id() AND id = $1",
            dashboard.0,
        )
        .execute(&mut *tx)
        .await
        .map_err(DashboardError::Database)?;
        tx.commit().await.map_err(DashboardError::Database)?;
        if deleted.rows_affected() == 0 {
            return Err(DashboardError::NotFound(dashboard));
        }
        Ok(())
    }
}
