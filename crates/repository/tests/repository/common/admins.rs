//! Test fixtures: a seeded database, and users, roles, permissions and admin accounts created
//! through the public API with unique names.

use quotedb_repository::admin::{Admin, AdminUser, NewAdminUser, PermissionCode, Role, RoleError, RoleName};
use quotedb_repository::schema::admin::AdminPermissionRiskLevel;
use quotedb_repository::users::NewUser;
use quotedb_repository::{Actor, AdminRoleId, Db, Email, UserId};
use quotedb_testkit::TestDb;

/// A unique snake_case name with `prefix`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A fresh seeded database and the repository on it.
pub struct World {
    pub db: TestDb,
    pub repo: Db,
}

/// An admin made for a test: the user behind it, the account, the actor, the role.
#[derive(Debug, Clone)]
pub struct TestAdmin {
    pub user: UserId,
    pub account: AdminUser,
    pub actor: Actor,
    pub role: Role,
}

impl World {
    pub async fn new() -> Self {
        let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
        let repo = Db::new(db.pool().clone());
        Self { db, repo }
    }

    pub fn admin(&self) -> Admin<'_> {
        self.repo.admin()
    }

    /// An agent with a unique e-mail (created by the system, as agent accounts are).
    pub async fn user(&self) -> UserId {
        let new = NewUser {
            email: Email::parse(&format!("{}@example.com", unique("user"))).expect("valid e-mail"),
            full_name: "Test User".into(),
            phone: None,
        };
        self.repo
            .users()
            .create_agent(&Actor::System, &new)
            .await
            .expect("create agent")
            .id
    }

    /// `code` registered (by the seeds or now, as `risk`).
    pub async fn permission(&self, code: &str, risk: AdminPermissionRiskLevel) -> PermissionCode {
        let code = PermissionCode::parse(code).expect("valid permission code");
        match self
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
    pub async fn role(&self, parent: Option<AdminRoleId>, grants: &[&str]) -> Role {
        let name = RoleName::parse(&unique("test_role")).expect("role name");
        let role = self
            .admin()
            .roles()
            .create(&Actor::System, &name, "a role made by a test", parent)
            .await
            .expect("create role");
        for code in grants {
            let code = self.permission(code, AdminPermissionRiskLevel::High).await;
            self.admin()
                .roles()
                .grant(&Actor::System, role.id, &code)
                .await
                .expect("grant");
        }
        role
    }

    /// A new admin holding exactly `role`.
    pub async fn admin_in(&self, role: &Role) -> TestAdmin {
        let user = self.user().await;
        let account = self
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
    pub async fn admin_with(&self, grants: &[&str]) -> TestAdmin {
        let role = self.role(None, grants).await;
        self.admin_in(&role).await
    }
}
