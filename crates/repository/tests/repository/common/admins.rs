//! Roles, permissions and admin accounts, created through `Db::admin()` by the System actor with
//! unique names, and `World`, the admin tests' seeded database with these as methods.

use quotedb_repository::admin::{Admin, AdminUser, NewAdminUser, PermissionCode, Role, RoleError, RoleName};
use quotedb_repository::schema::admin::AdminPermissionRiskLevel;
use quotedb_repository::{Actor, AdminRoleId, Db, UserId};
use quotedb_testkit::TestDb;

use super::{agent, setup, unique};

/// An admin made for a test: the user behind it, the account, the actor, the role.
#[derive(Debug, Clone)]
pub struct TestAdmin {
    pub user: UserId,
    pub account: AdminUser,
    pub actor: Actor,
    pub role: Role,
}

/// `code` registered (by the seeds or now, as `risk`).
pub async fn permission(db: &Db, code: &str, risk: AdminPermissionRiskLevel) -> PermissionCode {
    let code = PermissionCode::parse(code).expect("valid permission code");
    match db
        .admin()
        .roles()
        .register_permission(&Actor::System, &code, "test permission", risk)
        .await
    {
        Ok(_) | Err(RoleError::PermissionAlreadyRegistered(_)) => code,
        Err(e) => panic!("register {code}: {e}"),
    }
}

/// A role with a unique name under `parent`, granted `grants` (registered as high risk when
/// missing).
pub async fn role(db: &Db, parent: Option<AdminRoleId>, grants: &[&str]) -> Role {
    let name = RoleName::parse(&unique("test_role")).expect("role name");
    let role = db
        .admin()
        .roles()
        .create(&Actor::System, &name, "a role made by a test", parent)
        .await
        .expect("create role");
    for code in grants {
        let code = permission(db, code, AdminPermissionRiskLevel::High).await;
        db.admin()
            .roles()
            .grant(&Actor::System, role.id, &code)
            .await
            .expect("grant");
    }
    role
}

/// A new admin (an agent behind it) holding exactly `role`.
pub async fn admin_in(db: &Db, role: &Role) -> TestAdmin {
    let user = agent(db, "admin").await;
    let account = db
        .admin()
        .users()
        .create(
            &Actor::System,
            &NewAdminUser {
                user_id: user,
                role_id: role.id,
                mfa_required: true,
                allowed_ip_ranges: None,
            },
        )
        .await
        .expect("create admin");
    TestAdmin {
        user,
        account,
        actor: Actor::Admin(user),
        role: role.clone(),
    }
}

/// A new admin in a new root role granted `grants`.
pub async fn admin_with(db: &Db, grants: &[&str]) -> TestAdmin {
    let role = role(db, None, grants).await;
    admin_in(db, &role).await
}

/// A fresh seeded database and the repository on it, for the admin tests.
pub struct World {
    pub db: TestDb,
    pub repo: Db,
}

impl World {
    pub async fn new() -> Self {
        let (db, repo) = setup().await;
        Self { db, repo }
    }

    pub fn admin(&self) -> Admin<'_> {
        self.repo.admin()
    }

    /// An agent with a unique e-mail.
    pub async fn user(&self) -> UserId {
        agent(&self.repo, "user").await
    }

    /// See [`permission`].
    pub async fn permission(&self, code: &str, risk: AdminPermissionRiskLevel) -> PermissionCode {
        permission(&self.repo, code, risk).await
    }

    /// See [`role`].
    pub async fn role(&self, parent: Option<AdminRoleId>, grants: &[&str]) -> Role {
        role(&self.repo, parent, grants).await
    }

    /// See [`admin_in`].
    pub async fn admin_in(&self, role: &Role) -> TestAdmin {
        admin_in(&self.repo, role).await
    }

    /// See [`admin_with`].
    pub async fn admin_with(&self, grants: &[&str]) -> TestAdmin {
        admin_with(&self.repo, grants).await
    }
}
