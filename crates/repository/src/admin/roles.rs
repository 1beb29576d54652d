//! Admin roles (a tree), the permission registry, grants and effective permissions.
//!
//! Permissions flow UP the tree: a role holds its own grants plus those of every role below it
//! (`admin_role_effective_permissions`), so a senior role holds everything its subordinates hold.
//!
//! Writes take an [`Actor`] and are allowed to the System actor and to admins holding
//! `roles:manage` ([`ROLE_MANAGEMENT_PERMISSION`]; 0006 puts no RLS on these tables, so this guard
//! is the repository's; it runs inside the write statement itself). Without it any admin could
//! grant their own role anything.

use quotedb_schema::admin::{AdminPermissionRiskLevel, rules};
use time::OffsetDateTime;

use super::{is_snake_ident, present};
use crate::actor::{Actor, begin_as};
use crate::error::rule_of;
use crate::ids::{AdminPermissionId, AdminRoleId, UserId};
use crate::{Db, InvalidInput};

/// The permission that guards role and grant management (see the module docs).
pub const ROLE_MANAGEMENT_PERMISSION: &str = quotedb_schema::admin::permissions::ROLES_MANAGE;

quotedb_domain::validated!(
    /// An admin role name: a snake_case identifier of 2 to 63 characters (`admin_roles_name_format`).
    RoleName,
    "role_name",
    |raw| {
        let s = raw.trim();
        if (2..=63).contains(&s.len()) && is_snake_ident(s) {
            Ok(s.to_owned())
        } else {
            Err(format!("{raw:?} is not a snake_case role name of 2 to 63 characters"))
        }
    }
);

quotedb_domain::validated!(
    /// A permission code `resource:action`, both snake_case (`admin_permissions_code_format`).
    PermissionCode,
    "permission_code",
    |raw| {
        let s = raw.trim();
        match s.split_once(':') {
            Some((resource, action)) if is_snake_ident(resource) && is_snake_ident(action) => Ok(s.to_owned()),
            _ => Err(format!("{raw:?} is not a resource:action permission code (snake_case)")),
        }
    }
);

/// An admin role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Role {
    /// Its id.
    pub id: AdminRoleId,
    /// Unique snake_case name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The role directly above it (which holds everything this one holds); `None` for a root.
    pub parent_id: Option<AdminRoleId>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A registered permission code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Permission {
    /// Its id.
    pub id: AdminPermissionId,
    /// `resource:action`.
    pub code: String,
    /// What it allows.
    pub description: String,
    /// How much damage misuse can do (drives activity risk scoring).
    pub risk_level: AdminPermissionRiskLevel,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

/// A permission a role holds, and through which role it holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EffectivePermission {
    /// The permission.
    pub permission_id: AdminPermissionId,
    /// Its code.
    pub code: String,
    /// Its risk level.
    pub risk_level: AdminPermissionRiskLevel,
    /// The role the grant was made to: the role itself, or the nearest role below it holding it.
    pub granted_via_role_id: AdminRoleId,
    /// 0 when granted directly, else how many levels below the grant sits.
    pub inherited_depth: i32,
}

/// Errors of [`Roles`] (and of [`Admin::has_permission`](super::Admin::has_permission)).
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such role.
    #[error("admin role {0} not found")]
    NotFound(AdminRoleId),
    /// The parent role does not exist (`admin_roles_parent_fk`).
    #[error("parent admin role {0} not found")]
    ParentNotFound(AdminRoleId),
    /// The name is taken (`admin_roles_name_unique`).
    #[error("admin role name {0:?} is taken")]
    NameTaken(String),
    /// The move would make a role its own ancestor (`admin_roles_no_cycle`, `admin_roles_not_own_parent`).
    #[error("admin role {role} cannot be placed under {parent}: it would become its own ancestor")]
    CycleRefused {
        /// The role being moved.
        role: AdminRoleId,
        /// The parent refused.
        parent: AdminRoleId,
    },
    /// No permission with this code is registered.
    #[error("permission {0:?} is not registered")]
    PermissionNotFound(String),
    /// The code is registered already (`admin_permissions_code_unique`).
    #[error("permission {0:?} is already registered")]
    PermissionAlreadyRegistered(String),
    /// No admin account with this user is visible to the actor.
    #[error("no admin account for user {0}")]
    AdminNotFound(UserId),
    /// The actor is neither the System nor an active, unlocked admin holding `roles:manage`.
    #[error("role management needs the system actor or an admin holding {ROLE_MANAGEMENT_PERMISSION}")]
    Forbidden,
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl RoleError {
    fn from_db(err: sqlx::Error, role: AdminRoleId, parent: Option<AdminRoleId>, name: &str) -> Self {
        match rule_of(&err) {
            Some(rules::ADMIN_ROLES_NAME_UNIQUE) => Self::NameTaken(name.to_owned()),
            Some(rules::ADMIN_ROLES_NO_CYCLE | rules::ADMIN_ROLES_NOT_OWN_PARENT) => Self::CycleRefused {
                role,
                parent: parent.unwrap_or(role),
            },
            Some(rules::ADMIN_ROLES_PARENT_FK) => Self::ParentNotFound(parent.unwrap_or(role)),
            Some(rules::ADMIN_ROLES_NAME_FORMAT) => Self::Invalid(InvalidInput::new(
                "role_name",
                format!("{name:?} is not a valid role name"),
            )),
            Some(rules::ADMIN_ROLES_DESCRIPTION_PRESENT) => {
                Self::Invalid(InvalidInput::new("description", "must not be blank"))
            }
            _ => Self::Database(err),
        }
    }
}

/// Roles API, from [`Admin::roles`](super::Admin::roles).
#[derive(Debug, Clone, Copy)]
pub struct Roles<'a> {
    db: &'a Db,
}

impl<'a> Roles<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Create a role, optionally under `parent` (the parent then holds everything this role
    /// will hold).
    #[tracing::instrument(skip_all, fields(name = %name, parent = ?parent), err)]
    pub async fn create(
        &self,
        actor: &Actor,
        name: &RoleName,
        description: &str,
        parent: Option<AdminRoleId>,
    ) -> Result<Role, RoleError> {
        let description = present("description", description)?;
        let mut tx = begin_as(self.db, actor).await.map_err(RoleError::Database)?;
        let role = sqlx::query_as!(
            Role,
            r#"INSERT INTO admin_roles (name, description, parent_id)
               SELECT $1, $2, $3
               WHERE (SELECT app_is_system() OR admin_has_permission(app_user_id(), $4))
               RETURNING id AS "id: AdminRoleId", name, description, parent_id AS "parent_id: AdminRoleId",
                         created_at, updated_at"#,
            name.as_str(),
            description,
            parent.map(|p| p.0),
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| RoleError::from_db(e, AdminRoleId(uuid::Uuid::nil()), parent, name.as_str()))?
        .ok_or(RoleError::Forbidden)?;
        tx.commit().await.map_err(RoleError::Database)?;
        Ok(role)
    }

    /// Move `role` under `parent` (`None`: make it a root). Refused with
    /// [`RoleError::CycleRefused`] when `role` would become its own ancestor.
    #[tracing::instrument(skip_all, fields(role = %role, parent = ?parent), err)]
    pub async fn reparent(
        &self,
        actor: &Actor,
        role: AdminRoleId,
        parent: Option<AdminRoleId>,
    ) -> Result<Role, RoleError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RoleError::Database)?;
        let updated = sqlx::query_as!(
            Role,
            r#"UPDATE admin_roles SET parent_id = $2
               WHERE id = $1 AND (SELECT app_is_system() OR admin_has_permission(app_user_id(), $3))
               RETURNING id AS "id: AdminRoleId", name, description, parent_id AS "parent_id: AdminRoleId",
                         created_at, updated_at"#,
            role.0,
            parent.map(|p| p.0),
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| RoleError::from_db(e, role, parent, ""))?;
        let Some(updated) = updated else {
            return Err(self.why_not(&mut tx, role).await);
        };
        tx.commit().await.map_err(RoleError::Database)?;
        Ok(updated)
    }

    /// A role by id.
    #[tracing::instrument(skip_all, fields(role = %role), err)]
    pub async fn get(&self, role: AdminRoleId) -> Result<Role, RoleError> {
        sqlx::query_as!(
            Role,
            r#"SELECT id AS "id: AdminRoleId", name, description, parent_id AS "parent_id: AdminRoleId",
                      created_at, updated_at
               FROM admin_roles WHERE id = $1"#,
            role.0,
        )
        .fetch_optional(self.db.exec())
        .await
        .map_err(RoleError::Database)?
        .ok_or(RoleError::NotFound(role))
    }

    /// A role by name.
    #[tracing::instrument(skip_all, fields(name = %name), err)]
    pub async fn by_name(&self, name: &RoleName) -> Result<Option<Role>, RoleError> {
        sqlx::query_as!(
            Role,
            r#"SELECT id AS "id: AdminRoleId", name, description, parent_id AS "parent_id: AdminRoleId",
                      created_at, updated_at
               FROM admin_roles WHERE name = $1"#,
            name.as_str(),
        )
        .fetch_optional(self.db.exec())
        .await
        .map_err(RoleError::Database)
    }

    /// Register a permission code with its risk level.
    #[tracing::instrument(skip_all, fields(code = %code, risk = %risk_level), err)]
    pub async fn register_permission(
        &self,
        actor: &Actor,
        code: &PermissionCode,
        description: &str,
        risk_level: AdminPermissionRiskLevel,
    ) -> Result<Permission, RoleError> {
        let description = present("description", description)?;
        let mut tx = begin_as(self.db, actor).await.map_err(RoleError::Database)?;
        let permission = sqlx::query_as!(
            Permission,
            r#"INSERT INTO admin_permissions (code, description, risk_level)
               SELECT $1, $2, $3
               WHERE (SELECT app_is_system() OR admin_has_permission(app_user_id(), $4))
               RETURNING id AS "id: AdminPermissionId", code, description,
                         risk_level AS "risk_level: AdminPermissionRiskLevel", created_at"#,
            code.as_str(),
            description,
            risk_level as AdminPermissionRiskLevel,
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::ADMIN_PERMISSIONS_CODE_UNIQUE) => RoleError::PermissionAlreadyRegistered(code.to_string()),
            Some(rules::ADMIN_PERMISSIONS_CODE_FORMAT) => RoleError::Invalid(InvalidInput::new(
                "permission_code",
                format!("{code:?} is not resource:action"),
            )),
            _ => RoleError::Database(e),
        })?
        .ok_or(RoleError::Forbidden)?;
        tx.commit().await.map_err(RoleError::Database)?;
        Ok(permission)
    }

    /// A registered permission by code.
    #[tracing::instrument(skip_all, fields(code = %code), err)]
    pub async fn permission(&self, code: &PermissionCode) -> Result<Option<Permission>, RoleError> {
        sqlx::query_as!(
            Permission,
            r#"SELECT id AS "id: AdminPermissionId", code, description,
                      risk_level AS "risk_level: AdminPermissionRiskLevel", created_at
               FROM admin_permissions WHERE code = $1"#,
            code.as_str(),
        )
        .fetch_optional(self.db.exec())
        .await
        .map_err(RoleError::Database)
    }

    /// Grant the permission `code` to `role`; `granted_by` records the acting admin (NULL for the
    /// System actor). Returns `false` when the role already had this grant (nothing changes).
    #[tracing::instrument(skip_all, fields(role = %role, code = %code), err)]
    pub async fn grant(&self, actor: &Actor, role: AdminRoleId, code: &PermissionCode) -> Result<bool, RoleError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RoleError::Database)?;
        let row = sqlx::query!(
            r#"WITH allowed AS (SELECT app_is_system() OR admin_has_permission(app_user_id(), $3) AS ok),
                    p AS (SELECT id FROM admin_permissions WHERE code = $2),
                    r AS (SELECT id FROM admin_roles WHERE id = $1),
                    ins AS (
                        INSERT INTO admin_role_permissions (role_id, permission_id, granted_by)
                        SELECT r.id, p.id, app_admin_user_id() FROM r, p, allowed WHERE allowed.ok
                        ON CONFLICT (role_id, permission_id) DO NOTHING
                        RETURNING 1)
               SELECT (SELECT ok FROM allowed) AS "allowed!",
                      EXISTS (SELECT 1 FROM r) AS "role_exists!",
                      EXISTS (SELECT 1 FROM p) AS "permission_exists!",
                      EXISTS (SELECT 1 FROM ins) AS "granted!""#,
            role.0,
            code.as_str(),
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::ADMIN_ROLE_PERMISSIONS_ROLE_FK) => RoleError::NotFound(role),
            Some(rules::ADMIN_ROLE_PERMISSIONS_PERMISSION_FK) => RoleError::PermissionNotFound(code.to_string()),
            _ => RoleError::Database(e),
        })?;
        if !row.allowed {
            return Err(RoleError::Forbidden);
        }
        if !row.role_exists {
            return Err(RoleError::NotFound(role));
        }
        if !row.permission_exists {
            return Err(RoleError::PermissionNotFound(code.to_string()));
        }
        tx.commit().await.map_err(RoleError::Database)?;
        Ok(row.granted)
    }

    /// Revoke the direct grant of `code` from `role`. Returns `false` when there was none
    /// (a permission the role holds through a role below it stays: revoke it there).
    #[tracing::instrument(skip_all, fields(role = %role, code = %code), err)]
    pub async fn revoke(&self, actor: &Actor, role: AdminRoleId, code: &PermissionCode) -> Result<bool, RoleError> {
        let mut tx = begin_as(self.db, actor).await.map_err(RoleError::Database)?;
        let row = sqlx::query!(
            r#"WITH allowed AS (SELECT app_is_system() OR admin_has_permission(app_user_id(), $3) AS ok),
                    del AS (
                        DELETE FROM admin_role_permissions rp
                        USING admin_permissions p, allowed
                        WHERE rp.role_id = $1 AND rp.permission_id = p.id AND p.code = $2 AND allowed.ok
                        RETURNING 1)
               SELECT (SELECT ok FROM allowed) AS "allowed!", EXISTS (SELECT 1 FROM del) AS "revoked!""#,
            role.0,
            code.as_str(),
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(RoleError::Database)?;
        if !row.allowed {
            return Err(RoleError::Forbidden);
        }
        tx.commit().await.map_err(RoleError::Database)?;
        Ok(row.revoked)
    }

    /// Every permission `role` holds — its own grants and those of every role below it — once
    /// per code (the nearest grant wins), ordered by code.
    #[tracing::instrument(skip_all, fields(role = %role), err)]
    pub async fn effective_permissions(&self, role: AdminRoleId) -> Result<Vec<EffectivePermission>, RoleError> {
        let rows = sqlx::query!(
            r#"SELECT ep.permission_id AS "permission_id?: AdminPermissionId",
                      ep.code AS "code?",
                      ep.risk_level AS "risk_level?: AdminPermissionRiskLevel",
                      ep.granted_via_role_id AS "granted_via_role_id?: AdminRoleId",
                      ep.inherited_depth AS "inherited_depth?"
               FROM admin_roles r
               LEFT JOIN LATERAL (
                   SELECT DISTINCT ON (e.code) e.permission_id, e.code, e.risk_level, e.granted_via_role_id,
                          e.inherited_depth
                   FROM admin_role_effective_permissions e
                   WHERE e.role_id = r.id
                   ORDER BY e.code, e.inherited_depth) ep ON true
               WHERE r.id = $1
               ORDER BY ep.code"#,
            role.0,
        )
        .fetch_all(self.db.exec())
        .await
        .map_err(RoleError::Database)?;
        if rows.is_empty() {
            return Err(RoleError::NotFound(role));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(EffectivePermission {
                    permission_id: r.permission_id?,
                    code: r.code?,
                    risk_level: r.risk_level?,
                    granted_via_role_id: r.granted_via_role_id?,
                    inherited_depth: r.inherited_depth?,
                })
            })
            .collect())
    }

    /// Every permission the admin account of `user` holds through its role, as
    /// [`effective_permissions`](Self::effective_permissions) — empty while the account is
    /// deactivated or locked (such admins hold nothing, as in `admin_has_permission`).
    /// `admin_users` is under RLS: an admin sees their own account, `admin_users:manage` every one.
    #[tracing::instrument(skip_all, fields(user = %user), err)]
    pub async fn admin_permissions(&self, actor: &Actor, user: UserId) -> Result<Vec<EffectivePermission>, RoleError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let rows = crate::error::read_retrying!(self.db, |conn| sqlx::query_as!(
            HeldPermissionRow,
            r#"SELECT permission_id AS "permission_id?: AdminPermissionId",
                      code AS "code?",
                      risk_level AS "risk_level?: AdminPermissionRiskLevel",
                      granted_via_role_id AS "granted_via_role_id?: AdminRoleId",
                      inherited_depth AS "inherited_depth?"
               FROM app_admin_permissions_of($1, $2)
               ORDER BY code"#,
            actor.user_id() as Option<UserId>,
            user.0,
        )
        .fetch_all(conn))
        .map_err(RoleError::Database)?;
        if rows.is_empty() {
            return Err(RoleError::AdminNotFound(user));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(EffectivePermission {
                    permission_id: r.permission_id?,
                    code: r.code?,
                    risk_level: r.risk_level?,
                    granted_via_role_id: r.granted_via_role_id?,
                    inherited_depth: r.inherited_depth?,
                })
            })
            .collect())
    }

    /// Why an UPDATE of `role` touched no row: the guard refused, or the role does not exist.
    async fn why_not(&self, tx: &mut sqlx::PgConnection, role: AdminRoleId) -> RoleError {
        let row = sqlx::query!(
            r#"SELECT app_is_system() OR admin_has_permission(app_user_id(), $2) AS "allowed!",
                      EXISTS (SELECT 1 FROM admin_roles WHERE id = $1) AS "exists!""#,
            role.0,
            ROLE_MANAGEMENT_PERMISSION,
        )
        .fetch_one(tx)
        .await;
        match row {
            Ok(r) if !r.allowed => RoleError::Forbidden,
            Ok(_) => RoleError::NotFound(role),
            Err(e) => RoleError::Database(e),
        }
    }
}

/// A row of `app_admin_permissions_of`: all NULL for a visible account that holds nothing now.
/// (A named struct: the retrying read expands its query twice.)
struct HeldPermissionRow {
    permission_id: Option<AdminPermissionId>,
    code: Option<String>,
    risk_level: Option<AdminPermissionRiskLevel>,
    granted_via_role_id: Option<AdminRoleId>,
    inherited_depth: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_snake_case_identifiers_of_2_to_63_characters() {
        assert_eq!(
            RoleName::parse(" underwriter ").map(String::from),
            Ok("underwriter".into())
        );
        assert!(RoleName::parse("a").is_err());
        assert!(RoleName::parse("Admin").is_err());
        assert!(RoleName::parse("super-admin").is_err());
        assert!(RoleName::parse(&"a".repeat(64)).is_err());
        assert!(RoleName::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn permission_codes_are_resource_colon_action() {
        assert!(PermissionCode::parse("settings:read_sensitive").is_ok());
        assert!(PermissionCode::parse("rates:approve").is_ok());
        assert!(PermissionCode::parse("rates").is_err());
        assert!(PermissionCode::parse("rates:").is_err());
        assert!(PermissionCode::parse(":approve").is_err());
        assert!(PermissionCode::parse("rates:approve:now").is_err());
        assert!(PermissionCode::parse("Rates:approve").is_err());
        assert_eq!(PermissionCode::parse("x").map_err(|e| e.field), Err("permission_code"));
    }
}
