//! Roles, permissions, grants and the permission check through the hierarchy.

use quotedb_repository::admin::{DeactivationReason, PermissionCode, RoleError, RoleName};
use quotedb_repository::schema::admin::{AdminPermissionRiskLevel, permissions};
use quotedb_repository::{Actor, AdminRoleId, UserId};

use crate::common::admins::World;
use crate::common::unique;

#[tokio::test]
async fn permissions_flow_up_the_role_hierarchy() {
    let w = World::new().await;
    let leaf_code = unique("leaf") + ":do";
    let mid_code = unique("mid") + ":do";
    let root = w.role(None, &[]).await;
    let mid = w.role(Some(root.id), &[&mid_code]).await;
    let leaf = w.role(Some(mid.id), &[&leaf_code]).await;
    let (at_root, at_mid, at_leaf) = (w.admin_in(&root).await, w.admin_in(&mid).await, w.admin_in(&leaf).await);

    let has = |user: UserId, code: String| {
        let admin = w.admin();
        async move { admin.has_permission(user, &code).await.expect("has_permission") }
    };
    // The senior role holds everything below it; a junior role never holds its seniors' grants.
    assert!(has(at_root.user, leaf_code.clone()).await);
    assert!(has(at_root.user, mid_code.clone()).await);
    assert!(has(at_mid.user, leaf_code.clone()).await);
    assert!(has(at_mid.user, mid_code.clone()).await);
    assert!(has(at_leaf.user, leaf_code.clone()).await);
    assert!(!has(at_leaf.user, mid_code.clone()).await);

    let effective = w
        .admin()
        .roles()
        .effective_permissions(root.id)
        .await
        .expect("effective");
    let codes: Vec<_> = effective
        .iter()
        .map(|p| (p.code.as_str(), p.granted_via_role_id, p.inherited_depth))
        .collect();
    let mut expected = vec![(leaf_code.as_str(), leaf.id, 2), (mid_code.as_str(), mid.id, 1)];
    expected.sort();
    assert_eq!(codes, expected);
    let effective = w
        .admin()
        .roles()
        .effective_permissions(leaf.id)
        .await
        .expect("effective");
    assert_eq!(effective.len(), 1);
    assert_eq!(effective[0].inherited_depth, 0);
    assert_eq!(effective[0].risk_level, AdminPermissionRiskLevel::High);

    let of_admin = w
        .admin()
        .roles()
        .admin_permissions(&at_mid.actor, at_mid.user)
        .await
        .expect("own permissions");
    assert_eq!(of_admin.len(), 2);
}

#[tokio::test]
async fn has_permission_is_false_for_unknown_codes_non_admins_and_locked_or_deactivated_admins() {
    let w = World::new().await;
    let code = unique("thing") + ":read";
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let holder = w.admin_with(&[&code]).await;
    let stranger = w.user().await;
    let admin = w.admin();
    assert!(admin.has_permission(holder.user, &code).await.expect("check"));
    assert!(
        !admin
            .has_permission(holder.user, "nothing:registered")
            .await
            .expect("check")
    );
    assert!(!admin.has_permission(stranger, &code).await.expect("check"));

    for _ in 0..quotedb_repository::admin::users::DEFAULT_MAX_FAILED_LOGINS {
        admin
            .users()
            .record_login_failure(&Actor::System, holder.account.id)
            .await
            .expect("failure");
    }
    assert!(
        !admin.has_permission(holder.user, &code).await.expect("check"),
        "locked admins hold nothing"
    );
    assert!(
        admin
            .roles()
            .admin_permissions(&Actor::System, holder.user)
            .await
            .expect("list")
            .is_empty(),
        "a locked admin's effective permissions are empty"
    );
    admin
        .users()
        .unlock(&Actor::System, holder.account.id)
        .await
        .expect("unlock");
    assert!(admin.has_permission(holder.user, &code).await.expect("check"));

    let reason = DeactivationReason::parse("left the company in March").expect("reason");
    admin
        .users()
        .deactivate(&manager.actor, holder.account.id, &reason)
        .await
        .expect("deactivate");
    assert!(
        !admin.has_permission(holder.user, &code).await.expect("check"),
        "deactivated admins hold nothing"
    );
}

#[tokio::test]
async fn a_role_cannot_become_its_own_ancestor() {
    let w = World::new().await;
    let roles = w.admin().roles();
    let root = w.role(None, &[]).await;
    let child = w.role(Some(root.id), &[]).await;
    let grandchild = w.role(Some(child.id), &[]).await;

    let err = roles
        .reparent(&Actor::System, root.id, Some(grandchild.id))
        .await
        .expect_err("cycle");
    assert!(
        matches!(err, RoleError::CycleRefused { role, parent } if role == root.id && parent == grandchild.id),
        "{err:?}"
    );
    let err = roles
        .reparent(&Actor::System, child.id, Some(child.id))
        .await
        .expect_err("own parent");
    assert!(matches!(err, RoleError::CycleRefused { .. }), "{err:?}");
    // Nothing changed.
    assert_eq!(roles.get(root.id).await.expect("root").parent_id, None);

    // A legal move: the grandchild becomes a root, then goes under the root directly.
    let moved = roles
        .reparent(&Actor::System, grandchild.id, None)
        .await
        .expect("to root");
    assert_eq!(moved.parent_id, None);
    let moved = roles
        .reparent(&Actor::System, grandchild.id, Some(root.id))
        .await
        .expect("under root");
    assert_eq!(moved.parent_id, Some(root.id));

    let missing = AdminRoleId(uuid::Uuid::new_v4());
    let err = roles
        .reparent(&Actor::System, child.id, Some(missing))
        .await
        .expect_err("missing parent");
    assert!(matches!(err, RoleError::ParentNotFound(id) if id == missing), "{err:?}");
    let err = roles
        .reparent(&Actor::System, missing, None)
        .await
        .expect_err("missing role");
    assert!(matches!(err, RoleError::NotFound(id) if id == missing), "{err:?}");
}

#[tokio::test]
async fn role_names_are_validated_and_unique_and_parents_must_exist() {
    let w = World::new().await;
    let roles = w.admin().roles();
    assert!(RoleName::parse("Bad Name").is_err());
    let name = RoleName::parse(&unique("desk")).expect("name");
    let role = roles
        .create(&Actor::System, &name, "the desk", None)
        .await
        .expect("create");
    assert_eq!(roles.by_name(&name).await.expect("by name"), Some(role.clone()));
    let err = roles
        .create(&Actor::System, &name, "again", None)
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, RoleError::NameTaken(ref n) if n == name.as_str()),
        "{err:?}"
    );
    let err = roles
        .create(&Actor::System, &name, "  ", None)
        .await
        .expect_err("blank description");
    assert!(
        matches!(err, RoleError::Invalid(ref i) if i.field == "description"),
        "{err:?}"
    );
    let other = RoleName::parse(&unique("desk")).expect("name");
    let missing = AdminRoleId(uuid::Uuid::new_v4());
    let err = roles
        .create(&Actor::System, &other, "orphan", Some(missing))
        .await
        .expect_err("no parent");
    assert!(matches!(err, RoleError::ParentNotFound(id) if id == missing), "{err:?}");
    let err = roles.effective_permissions(missing).await.expect_err("unknown role");
    assert!(matches!(err, RoleError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn registering_a_permission_validates_the_code_and_refuses_duplicates() {
    let w = World::new().await;
    let roles = w.admin().roles();
    for bad in ["rates", "rates:", "Rates:approve", "rates:approve:now", "rates approve"] {
        let err = PermissionCode::parse(bad).expect_err(bad);
        assert_eq!(err.field, "permission_code");
    }
    let code = PermissionCode::parse(&(unique("rates") + ":approve")).expect("code");
    let registered = roles
        .register_permission(
            &Actor::System,
            &code,
            "approve rate changes",
            AdminPermissionRiskLevel::Critical,
        )
        .await
        .expect("register");
    assert_eq!(registered.risk_level, AdminPermissionRiskLevel::Critical);
    assert_eq!(roles.permission(&code).await.expect("lookup"), Some(registered));
    let err = roles
        .register_permission(&Actor::System, &code, "again", AdminPermissionRiskLevel::Low)
        .await
        .expect_err("duplicate");
    assert!(matches!(err, RoleError::PermissionAlreadyRegistered(_)), "{err:?}");
}

#[tokio::test]
async fn granting_and_revoking_change_what_the_role_holds() {
    let w = World::new().await;
    let roles = w.admin().roles();
    let code = w
        .permission(&(unique("reports") + ":export"), AdminPermissionRiskLevel::Medium)
        .await;
    let role = w.role(None, &[]).await;
    let admin = w.admin_in(&role).await;
    let manager = w.admin_with(&[permissions::ROLES_MANAGE]).await;

    assert!(roles.grant(&manager.actor, role.id, &code).await.expect("grant"));
    assert!(
        !roles.grant(&manager.actor, role.id, &code).await.expect("grant twice"),
        "idempotent"
    );
    assert!(
        w.admin()
            .has_permission(admin.user, code.as_str())
            .await
            .expect("check")
    );
    assert!(roles.revoke(&manager.actor, role.id, &code).await.expect("revoke"));
    assert!(
        !roles
            .revoke(&manager.actor, role.id, &code)
            .await
            .expect("revoke twice")
    );
    assert!(
        !w.admin()
            .has_permission(admin.user, code.as_str())
            .await
            .expect("check")
    );

    let unknown = PermissionCode::parse(&(unique("nothing") + ":here")).expect("code");
    let err = roles
        .grant(&Actor::System, role.id, &unknown)
        .await
        .expect_err("unknown code");
    assert!(matches!(err, RoleError::PermissionNotFound(_)), "{err:?}");
    let missing = AdminRoleId(uuid::Uuid::new_v4());
    let err = roles
        .grant(&Actor::System, missing, &code)
        .await
        .expect_err("unknown role");
    assert!(matches!(err, RoleError::NotFound(id) if id == missing), "{err:?}");
}

#[tokio::test]
async fn role_management_needs_the_system_or_roles_manage() {
    let w = World::new().await;
    let roles = w.admin().roles();
    let clerk = w.admin_with(&[]).await;
    let account_manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let customer = Actor::Customer(w.user().await);
    let code = w.permission(&(unique("x") + ":y"), AdminPermissionRiskLevel::Low).await;
    let name = RoleName::parse(&unique("sneaky")).expect("name");

    // admin_users:manage is not enough: role management is roles:manage.
    for actor in [&clerk.actor, &account_manager.actor, &customer] {
        let err = roles.create(actor, &name, "nope", None).await.expect_err("create");
        assert!(matches!(err, RoleError::Forbidden), "{err:?}");
        // No self-promotion: a clerk cannot grant their own role anything.
        let err = roles.grant(actor, clerk.role.id, &code).await.expect_err("grant");
        assert!(matches!(err, RoleError::Forbidden), "{err:?}");
        let err = roles.revoke(actor, clerk.role.id, &code).await.expect_err("revoke");
        assert!(matches!(err, RoleError::Forbidden), "{err:?}");
        let err = roles.reparent(actor, clerk.role.id, None).await.expect_err("reparent");
        assert!(matches!(err, RoleError::Forbidden), "{err:?}");
        let other = PermissionCode::parse(&(unique("p") + ":q")).expect("code");
        let err = roles
            .register_permission(actor, &other, "nope", AdminPermissionRiskLevel::Low)
            .await
            .expect_err("register");
        assert!(matches!(err, RoleError::Forbidden), "{err:?}");
    }
    assert_eq!(roles.by_name(&name).await.expect("lookup"), None);

    let manager = w.admin_with(&[permissions::ROLES_MANAGE]).await;
    roles
        .create(&manager.actor, &name, "allowed", None)
        .await
        .expect("manager creates");
}

#[tokio::test]
async fn the_effective_permissions_of_an_admin_are_visible_to_them_and_to_managers_only() {
    let w = World::new().await;
    let code = unique("claims") + ":read";
    let holder = w.admin_with(&[&code]).await;
    let peer = w.admin_with(&[]).await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let roles = w.admin().roles();

    let own = roles.admin_permissions(&holder.actor, holder.user).await.expect("own");
    assert_eq!(own.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), [code.as_str()]);
    let seen = roles
        .admin_permissions(&manager.actor, holder.user)
        .await
        .expect("manager");
    assert_eq!(seen, own);
    let err = roles
        .admin_permissions(&peer.actor, holder.user)
        .await
        .expect_err("peer");
    assert!(
        matches!(err, RoleError::AdminNotFound(u) if u == holder.user),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_seeded_super_admin_holds_everything_the_roles_below_it_hold() {
    let w = World::new().await;
    let roles = w.admin().roles();
    let seeded = |name: &str| {
        let name = RoleName::parse(name).expect("name");
        async move { roles.by_name(&name).await.expect("lookup").expect("seeded role") }
    };
    let (super_admin, admin, support) = (
        seeded("super_admin").await,
        seeded("admin").await,
        seeded("support").await,
    );
    assert_eq!(support.parent_id, Some(admin.id));
    assert_eq!(admin.parent_id, Some(super_admin.id));
    let codes = |role| async move {
        let held = roles.effective_permissions(role).await.expect("effective");
        held.into_iter()
            .map(|p| p.code)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (top, middle, bottom) = (
        codes(super_admin.id).await,
        codes(admin.id).await,
        codes(support.id).await,
    );
    assert!(bottom.is_subset(&middle) && middle.is_subset(&top));
    assert!(top.contains(permissions::RATES_APPROVE) && !bottom.contains(permissions::RATES_APPROVE));
    for code in permissions::ALL {
        assert!(top.contains(*code), "super_admin holds {code}");
    }

    let helper = w.admin_in(&support).await;
    assert!(
        w.admin()
            .has_permission(helper.user, permissions::SESSIONS_MANAGE)
            .await
            .expect("check")
    );
    assert!(
        !w.admin()
            .has_permission(helper.user, permissions::RATES_APPROVE)
            .await
            .expect("check")
    );
}
