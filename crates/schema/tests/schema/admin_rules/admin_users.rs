//! admin users: accounts, deactivation, locks, login state

use super::*;

#[tokio::test]
async fn a_user_has_at_most_one_admin_account_and_keeps_it_until_deactivated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    let dup = "INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT user_id, role_id, false FROM admin_users WHERE id = $1";
    assert_eq!(
        refused(sqlx::query(dup).bind(a).execute(p).await),
        rules::ADMIN_USERS_USER_UNIQUE
    );
    let erase = "DELETE FROM users WHERE id = (SELECT user_id FROM admin_users WHERE id = $1)";
    assert_eq!(
        refused(sqlx::query(erase).bind(a).execute(p).await),
        rules::ADMIN_USERS_USER_FK
    );
}

#[tokio::test]
async fn deactivation_records_when_why_and_by_whom() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    grant(p, root, "quotes:read").await;
    let (boss, leaver) = (
        admin(p, "boss@example.com", root).await,
        admin(p, "leaver@example.com", root).await,
    );
    let deactivate =
        "UPDATE admin_users SET deactivated_at = $2, deactivation_reason = $3, deactivated_by = $4 WHERE id = $1";
    let now = Some(time::OffsetDateTime::now_utc());
    for (at, reason, by, rule) in [
        (now, None, None, rules::ADMIN_USERS_DEACTIVATION_COMPLETE),
        (
            now,
            Some("left the company"),
            None,
            rules::ADMIN_USERS_DEACTIVATION_COMPLETE,
        ),
        (
            None,
            Some("left the company"),
            Some(boss),
            rules::ADMIN_USERS_DEACTIVATION_COMPLETE,
        ),
        (
            now,
            Some("   bye     "),
            Some(boss),
            rules::ADMIN_USERS_DEACTIVATION_REASON_MEANINGFUL,
        ),
    ] {
        let err = sqlx::query(deactivate)
            .bind(leaver)
            .bind(at)
            .bind(reason)
            .bind(by)
            .execute(p)
            .await;
        assert_eq!(refused(err), rule, "{reason:?}");
    }
    assert!(has_permission(p, leaver, "quotes:read").await);
    sqlx::query(deactivate)
        .bind(leaver)
        .bind(now)
        .bind(Some("left the company"))
        .bind(Some(boss))
        .execute(p)
        .await
        .expect("complete deactivation");
    let active: bool = sqlx::query_scalar("SELECT is_active FROM admin_users WHERE id = $1")
        .bind(leaver)
        .fetch_one(p)
        .await
        .expect("is_active");
    assert!(
        !active && !has_permission(p, leaver, "quotes:read").await,
        "a deactivated admin holds no permission"
    );
    let err = sqlx::query("DELETE FROM admin_users WHERE id = $1")
        .bind(boss)
        .execute(p)
        .await;
    assert_eq!(refused(err), rules::ADMIN_USERS_DEACTIVATED_BY_FK);
}

#[tokio::test]
async fn a_locked_admin_holds_no_permission_until_the_lock_ends() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    grant(p, root, "quotes:read").await;
    let a = admin(p, "a@example.com", root).await;
    let lock = "UPDATE admin_users SET locked_until = now() + $2::interval WHERE id = $1";
    sqlx::query(lock).bind(a).bind("1 hour").execute(p).await.expect("lock");
    assert!(!has_permission(p, a, "quotes:read").await);
    sqlx::query(lock)
        .bind(a)
        .bind("-1 minute")
        .execute(p)
        .await
        .expect("lock over");
    assert!(has_permission(p, a, "quotes:read").await);
}

#[tokio::test]
async fn admin_login_state_is_consistent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    let set = "UPDATE admin_users SET failed_login_attempts = $2, allowed_ip_ranges = $3::cidr[], last_login_ip = $4::inet, last_login_at = CASE WHEN $5 THEN now() END WHERE id = $1";
    for (attempts, ranges, ip, logged_in, rule) in [
        (
            -1,
            None,
            None,
            false,
            rules::ADMIN_USERS_FAILED_LOGIN_ATTEMPTS_NON_NEGATIVE,
        ),
        (0, Some("{}"), None, false, rules::ADMIN_USERS_ALLOWED_IP_RANGES_VALID),
        (
            0,
            Some("{10.0.0.0/8,NULL}"),
            None,
            false,
            rules::ADMIN_USERS_ALLOWED_IP_RANGES_VALID,
        ),
        (
            0,
            None,
            Some("203.0.113.9"),
            false,
            rules::ADMIN_USERS_LAST_LOGIN_COMPLETE,
        ),
    ] {
        let err = sqlx::query(set)
            .bind(a)
            .bind(attempts)
            .bind(ranges)
            .bind(ip)
            .bind(logged_in)
            .execute(p)
            .await;
        assert_eq!(refused(err), rule);
    }
    sqlx::query(set)
        .bind(a)
        .bind(3)
        .bind(Some("{10.0.0.0/8,192.168.1.0/24}"))
        .bind(Some("10.1.2.3"))
        .bind(true)
        .execute(p)
        .await
        .expect("valid login state");
}
