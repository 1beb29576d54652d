//! Admin accounts: creation, visibility (RLS), deactivation, logins and lockout, role changes.

use std::net::IpAddr;

use quotedb_repository::admin::users::{
    DEFAULT_LOCKOUT_MINUTES, DEFAULT_MAX_FAILED_LOGINS, LOCKOUT_MINUTES_SETTING, MAX_FAILED_LOGINS_SETTING,
};
use quotedb_repository::admin::{AdminUserError, DeactivationReason, NewAdminUser, SettingKey};
use quotedb_repository::schema::admin::permissions;
use quotedb_repository::{Actor, AdminRoleId, AdminUserId, UserId};

use crate::common::admins::World;

fn reason() -> DeactivationReason {
    DeactivationReason::parse("  role ended with the Q3 reorganisation  ").expect("reason")
}

#[tokio::test]
async fn a_manager_creates_an_admin_account_that_both_can_read() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let role = w.role(None, &[]).await;
    let user = w.user().await;
    let range = "10.20.0.0/16".parse().expect("cidr");
    let created = w
        .admin()
        .users()
        .create(
            &manager.actor,
            &NewAdminUser {
                user_id: user,
                role_id: role.id,
                mfa_required: false,
                allowed_ip_ranges: Some(vec![range]),
            },
        )
        .await
        .expect("manager creates");
    assert_eq!((created.user_id, created.role_id), (user, role.id));
    assert!(created.is_active && !created.mfa_required);
    assert_eq!(created.failed_login_attempts, 0);
    assert_eq!(created.allowed_ip_ranges, Some(vec![range]));

    let users = w.admin().users();
    assert_eq!(
        users.get(&manager.actor, created.id).await.expect("manager reads"),
        created
    );
    assert_eq!(users.get(&Actor::Admin(user), created.id).await.expect("own"), created);
    assert_eq!(
        users.get_by_user(&Actor::Admin(user), user).await.expect("own by user"),
        created
    );
}

#[tokio::test]
async fn an_admin_without_admin_users_manage_can_neither_create_nor_see_other_admins() {
    let w = World::new().await;
    let clerk = w.admin_with(&[]).await;
    let other = w.admin_with(&[]).await;
    let users = w.admin().users();
    let user = w.user().await;
    let new = NewAdminUser {
        user_id: user,
        role_id: clerk.role.id,
        mfa_required: true,
        allowed_ip_ranges: None,
    };
    let err = users.create(&clerk.actor, &new).await.expect_err("clerk creates");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    let err = users
        .create(&Actor::Customer(user), &new)
        .await
        .expect_err("customer creates");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    let err = users.get(&clerk.actor, other.account.id).await.expect_err("hidden");
    assert!(
        matches!(err, AdminUserError::NotFound(id) if id == other.account.id),
        "{err:?}"
    );
    let err = users
        .deactivate(&clerk.actor, other.account.id, &reason())
        .await
        .expect_err("hidden");
    assert!(matches!(err, AdminUserError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn an_admin_cannot_manage_their_own_account() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let bigger = w.role(None, &[permissions::SETTINGS_WRITE]).await;
    let users = w.admin().users();
    let me = manager.account.id;
    let err = users
        .deactivate(&manager.actor, me, &reason())
        .await
        .expect_err("self deactivate");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    let err = users
        .change_role(&manager.actor, me, bigger.id)
        .await
        .expect_err("self promote");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    let err = users.unlock(&manager.actor, me).await.expect_err("self unlock");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    // A second account for oneself is refused too.
    let new = NewAdminUser {
        user_id: manager.user,
        role_id: bigger.id,
        mfa_required: true,
        allowed_ip_ranges: None,
    };
    let err = users.create(&manager.actor, &new).await.expect_err("self create");
    assert!(matches!(err, AdminUserError::Forbidden), "{err:?}");
    assert_eq!(
        users.get(&manager.actor, me).await.expect("still there").role_id,
        manager.role.id
    );
}

#[tokio::test]
async fn deactivation_records_when_why_and_by_whom() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let target = w.admin_with(&[]).await;
    let users = w.admin().users();

    assert!(
        DeactivationReason::parse("  too short ").is_err(),
        "9 characters once trimmed"
    );
    let done = users
        .deactivate(&manager.actor, target.account.id, &reason())
        .await
        .expect("deactivate");
    assert!(!done.is_active);
    assert!(done.deactivated_at.is_some());
    assert_eq!(
        done.deactivation_reason.as_deref(),
        Some("role ended with the Q3 reorganisation")
    );
    assert_eq!(done.deactivated_by, Some(manager.account.id));

    let err = users
        .deactivate(&manager.actor, target.account.id, &reason())
        .await
        .expect_err("twice");
    assert!(
        matches!(err, AdminUserError::AlreadyDeactivated(id) if id == target.account.id),
        "{err:?}"
    );
    let missing = AdminUserId(uuid::Uuid::new_v4());
    let err = users
        .deactivate(&manager.actor, missing, &reason())
        .await
        .expect_err("missing");
    assert!(matches!(err, AdminUserError::NotFound(id) if id == missing), "{err:?}");
}

#[tokio::test]
async fn the_system_cannot_deactivate_an_admin_anonymously() {
    let w = World::new().await;
    let target = w.admin_with(&[]).await;
    let err = w
        .admin()
        .users()
        .deactivate(&Actor::System, target.account.id, &reason())
        .await
        .expect_err("no one to answer for it");
    assert!(matches!(err, AdminUserError::DeactivationNeedsAnAdmin), "{err:?}");
    let still = w
        .admin()
        .users()
        .get(&Actor::System, target.account.id)
        .await
        .expect("get");
    assert!(still.is_active);
}

/// Sets the lockout policy settings (as the System).
async fn lockout_policy(w: &World, max_failed: i32, minutes: i32) {
    let settings = w.admin().settings();
    for (key, value) in [
        (MAX_FAILED_LOGINS_SETTING, max_failed),
        (LOCKOUT_MINUTES_SETTING, minutes),
    ] {
        let key = SettingKey::parse(key).expect("key");
        settings
            .set(&Actor::System, &key, value, "admin lockout policy", false)
            .await
            .expect("set lockout setting");
    }
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_as_the_settings_say_until_unlocked() {
    let w = World::new().await;
    lockout_policy(&w, 3, 10).await;
    let target = w.admin_with(&[]).await;
    let users = w.admin().users();
    let id = target.account.id;
    let ip: IpAddr = [10, 0, 0, 7].into();

    for n in 1..3 {
        let state = users.record_login_failure(&Actor::System, id).await.expect("failure");
        assert_eq!((state.failed_login_attempts, state.locked_until), (n, None));
    }
    let locked = users
        .record_login_failure(&Actor::System, id)
        .await
        .expect("last failure");
    assert_eq!(locked.failed_login_attempts, 3);
    let until = locked.locked_until.expect("locked");
    let account = users.get(&Actor::System, id).await.expect("get");
    assert_eq!(
        until - account.updated_at,
        time::Duration::minutes(10),
        "locked for admin.lockout_minutes"
    );
    assert!(account.is_locked_at(account.updated_at));

    let err = users
        .record_login_success(&Actor::System, id, ip)
        .await
        .expect_err("locked");
    assert!(
        matches!(err, AdminUserError::Locked { until: u } if u == until),
        "{err:?}"
    );
    assert_eq!(
        users.get(&Actor::System, id).await.expect("get").last_login_at,
        None,
        "nothing written"
    );

    let cleared = users.unlock(&Actor::System, id).await.expect("unlock");
    assert_eq!((cleared.failed_login_attempts, cleared.locked_until), (0, None));
    users
        .record_login_failure(&Actor::System, id)
        .await
        .expect("one more failure");
    let ok = users.record_login_success(&Actor::System, id, ip).await.expect("login");
    assert_eq!(ok.failed_login_attempts, 0, "a success resets the counter");
    assert_eq!(ok.last_login_ip, Some(ip));
    assert!(ok.last_login_at.is_some());
}

#[tokio::test]
async fn a_login_from_outside_the_allowed_ranges_is_refused() {
    let w = World::new().await;
    let role = w.role(None, &[]).await;
    let user = w.user().await;
    let users = w.admin().users();
    let account = users
        .create(
            &Actor::System,
            &NewAdminUser {
                user_id: user,
                role_id: role.id,
                mfa_required: true,
                allowed_ip_ranges: Some(vec!["192.168.10.0/24".parse().expect("cidr")]),
            },
        )
        .await
        .expect("create");
    let outside: IpAddr = [192, 168, 11, 1].into();
    let err = users
        .record_login_success(&Actor::System, account.id, outside)
        .await
        .expect_err("outside");
    assert!(
        matches!(err, AdminUserError::IpNotAllowed(ip) if ip == outside),
        "{err:?}"
    );
    let inside: IpAddr = [192, 168, 10, 99].into();
    let ok = users
        .record_login_success(&Actor::System, account.id, inside)
        .await
        .expect("inside");
    assert_eq!(ok.last_login_ip, Some(inside));

    let err = users
        .create(
            &Actor::System,
            &NewAdminUser {
                user_id: w.user().await,
                role_id: role.id,
                mfa_required: true,
                allowed_ip_ranges: Some(vec![]),
            },
        )
        .await
        .expect_err("empty allow-list");
    assert!(
        matches!(err, AdminUserError::Invalid(ref i) if i.field == "allowed_ip_ranges"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_deactivated_admin_cannot_log_in() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let target = w.admin_with(&[]).await;
    let users = w.admin().users();
    users
        .deactivate(&manager.actor, target.account.id, &reason())
        .await
        .expect("deactivate");
    let err = users
        .record_login_success(&Actor::System, target.account.id, [10, 0, 0, 1].into())
        .await
        .expect_err("deactivated");
    assert!(
        matches!(err, AdminUserError::Deactivated(id) if id == target.account.id),
        "{err:?}"
    );
}

#[tokio::test]
async fn changing_the_role_changes_the_permissions() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let target = w.admin_with(&[]).await;
    let writer_role = w.role(None, &[permissions::SETTINGS_WRITE]).await;
    let users = w.admin().users();
    assert!(
        !w.admin()
            .has_permission(target.user, permissions::SETTINGS_WRITE)
            .await
            .expect("check")
    );
    let changed = users
        .change_role(&manager.actor, target.account.id, writer_role.id)
        .await
        .expect("change role");
    assert_eq!(changed.role_id, writer_role.id);
    assert!(
        w.admin()
            .has_permission(target.user, permissions::SETTINGS_WRITE)
            .await
            .expect("check")
    );

    let missing = AdminRoleId(uuid::Uuid::new_v4());
    let err = users
        .change_role(&manager.actor, target.account.id, missing)
        .await
        .expect_err("unknown role");
    assert!(
        matches!(err, AdminUserError::RoleNotFound(id) if id == missing),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_user_has_at_most_one_admin_account_and_must_exist() {
    let w = World::new().await;
    let existing = w.admin_with(&[]).await;
    let users = w.admin().users();
    let again = NewAdminUser {
        user_id: existing.user,
        role_id: existing.role.id,
        mfa_required: true,
        allowed_ip_ranges: None,
    };
    let err = users.create(&Actor::System, &again).await.expect_err("second account");
    assert!(
        matches!(err, AdminUserError::AlreadyAdmin(u) if u == existing.user),
        "{err:?}"
    );
    let ghost = UserId(uuid::Uuid::new_v4());
    let err = users
        .create(
            &Actor::System,
            &NewAdminUser {
                user_id: ghost,
                ..again.clone()
            },
        )
        .await
        .expect_err("no such user");
    assert!(matches!(err, AdminUserError::UserNotFound(u) if u == ghost), "{err:?}");
    let err = users
        .create(
            &Actor::System,
            &NewAdminUser {
                user_id: w.user().await,
                role_id: AdminRoleId(uuid::Uuid::new_v4()),
                ..again
            },
        )
        .await
        .expect_err("no such role");
    assert!(matches!(err, AdminUserError::RoleNotFound(_)), "{err:?}");
    let err = users.get_by_user(&Actor::System, ghost).await.expect_err("no account");
    assert!(
        matches!(err, AdminUserError::NotFoundForUser(u) if u == ghost),
        "{err:?}"
    );
}

#[tokio::test]
async fn without_the_lockout_settings_the_defaults_apply() {
    let w = World::new().await;
    for key in [MAX_FAILED_LOGINS_SETTING, LOCKOUT_MINUTES_SETTING] {
        let key = SettingKey::parse(key).expect("key");
        match w.admin().settings().delete(&Actor::System, &key).await {
            Ok(()) | Err(quotedb_repository::admin::SettingError::NotFound(_)) => {}
            Err(e) => panic!("delete {key}: {e}"),
        }
    }
    let target = w.admin_with(&[]).await;
    let users = w.admin().users();
    let mut state = None;
    for _ in 0..DEFAULT_MAX_FAILED_LOGINS {
        assert_eq!(
            state.and_then(|s: quotedb_repository::admin::LoginState| s.locked_until),
            None
        );
        state = Some(
            users
                .record_login_failure(&Actor::System, target.account.id)
                .await
                .expect("failure"),
        );
    }
    let until = state.and_then(|s| s.locked_until).expect("locked at the default count");
    let account = users.get(&Actor::System, target.account.id).await.expect("get");
    assert_eq!(
        until - account.updated_at,
        time::Duration::minutes(i64::from(DEFAULT_LOCKOUT_MINUTES))
    );
}
