//! Rules of migration 0006 on admin roles, permissions, admin users, system settings, the
//! activity log and dashboards: each rule refused with its name, and its valid case accepted.
//! (Rate change requests: rate_changes.rs; Row Level Security: rls.rs.)

use crate::common::refused;
use quotedb_schema::admin::rules;
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

async fn user(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO users (email, full_name, role) VALUES ($1, $1, 'agent') RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("insert user")
}

async fn role(pool: &PgPool, name: &str, parent: Option<Uuid>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO admin_roles (name, description, parent_id) VALUES ($1, 'a test role', $2) RETURNING id",
    )
    .bind(name)
    .bind(parent)
    .fetch_one(pool)
    .await
    .expect("insert role")
}

/// An admin account (admin_users.id) for a new user with this e-mail.
async fn admin(pool: &PgPool, email: &str, role_id: Uuid) -> Uuid {
    let user_id = user(pool, email).await;
    sqlx::query_scalar("INSERT INTO admin_users (user_id, role_id, mfa_required) VALUES ($1, $2, true) RETURNING id")
        .bind(user_id)
        .bind(role_id)
        .fetch_one(pool)
        .await
        .expect("insert admin")
}

async fn grant(pool: &PgPool, role_id: Uuid, code: &str) {
    sqlx::query(
        "WITH p AS (INSERT INTO admin_permissions (code, description, risk_level) VALUES ($2, 'test', 'low')
                    ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id)
         INSERT INTO admin_role_permissions (role_id, permission_id) SELECT $1, id FROM p",
    )
    .bind(role_id)
    .bind(code)
    .execute(pool)
    .await
    .expect("grant");
}

async fn has_permission(pool: &PgPool, admin_id: Uuid, code: &str) -> bool {
    sqlx::query_scalar("SELECT admin_has_permission((SELECT user_id FROM admin_users WHERE id = $1), $2)")
        .bind(admin_id)
        .bind(code)
        .fetch_one(pool)
        .await
        .expect("admin_has_permission")
}

/// super_admin (root) > admin > support.
async fn hierarchy(pool: &PgPool) -> (Uuid, Uuid, Uuid) {
    let root = role(pool, "super_admin", None).await;
    let middle = role(pool, "admin", Some(root)).await;
    let leaf = role(pool, "support", Some(middle)).await;
    (root, middle, leaf)
}

#[tokio::test]
async fn a_role_cannot_become_its_own_ancestor() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let (root, _, leaf) = hierarchy(db.pool()).await;
    let err = sqlx::query("UPDATE admin_roles SET parent_id = $1 WHERE id = $2")
        .bind(leaf)
        .bind(root)
        .execute(db.pool())
        .await;
    assert_eq!(refused(err), rules::ADMIN_ROLES_NO_CYCLE);
}

#[tokio::test]
async fn a_role_can_move_to_another_branch_of_the_tree() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let (root, _, leaf) = hierarchy(db.pool()).await;
    let other = role(db.pool(), "analyst", Some(root)).await;
    sqlx::query("UPDATE admin_roles SET parent_id = $1 WHERE id = $2")
        .bind(other)
        .bind(leaf)
        .execute(db.pool())
        .await
        .expect("re-parent");
}

#[tokio::test]
async fn a_role_cannot_be_its_own_parent() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let (root, _, _) = hierarchy(db.pool()).await;
    let err = sqlx::query("UPDATE admin_roles SET parent_id = id WHERE id = $1")
        .bind(root)
        .execute(db.pool())
        .await;
    assert_eq!(refused(err), rules::ADMIN_ROLES_NOT_OWN_PARENT);
}

#[tokio::test]
async fn a_role_holds_the_permissions_of_the_roles_below_it_but_not_above_it() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let (root, middle, leaf) = hierarchy(db.pool()).await;
    grant(db.pool(), root, "settings:write").await;
    grant(db.pool(), leaf, "quotes:read").await;
    let (top, mid, low) = (
        admin(db.pool(), "top@example.com", root).await,
        admin(db.pool(), "mid@example.com", middle).await,
        admin(db.pool(), "low@example.com", leaf).await,
    );
    // quotes:read is granted to the junior role: every role above it holds it too.
    assert!(has_permission(db.pool(), mid, "quotes:read").await && has_permission(db.pool(), top, "quotes:read").await);
    assert!(has_permission(db.pool(), low, "quotes:read").await);
    // settings:write is granted to the root: it does not flow down to junior roles.
    assert!(has_permission(db.pool(), top, "settings:write").await);
    assert!(
        !has_permission(db.pool(), mid, "settings:write").await
            && !has_permission(db.pool(), low, "settings:write").await
    );
}

/// admin_role_held_permissions (what admin_has_permission reads) equals the recursive walk.
async fn assert_held_matches_the_walk(pool: &PgPool, after: &str) {
    let differences: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             (SELECT role_id, code FROM admin_role_held_permissions
              EXCEPT SELECT role_id, code FROM admin_role_effective_permissions)
             UNION ALL
             (SELECT role_id, code FROM admin_role_effective_permissions
              EXCEPT SELECT role_id, code FROM admin_role_held_permissions)) d",
    )
    .fetch_one(pool)
    .await
    .expect("compare");
    assert_eq!(
        differences, 0,
        "stored holdings differ from the role tree walk after {after}"
    );
}

#[tokio::test]
async fn what_a_role_holds_follows_every_change_of_grants_tree_and_codes() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let pool = db.pool();
    let (root, middle, leaf) = hierarchy(pool).await;
    let other = role(pool, "analyst", Some(root)).await;
    let (top, mid) = (
        admin(pool, "top@example.com", root).await,
        admin(pool, "mid@example.com", middle).await,
    );
    grant(pool, leaf, "sessions:manage").await;
    assert!(has_permission(pool, mid, "sessions:manage").await);
    assert_held_matches_the_walk(pool, "a grant").await;

    // The leaf moves to another branch: the middle role no longer holds its grant; the root does.
    sqlx::query("UPDATE admin_roles SET parent_id = $1 WHERE id = $2")
        .bind(other)
        .bind(leaf)
        .execute(pool)
        .await
        .expect("re-parent");
    assert!(!has_permission(pool, mid, "sessions:manage").await);
    assert!(has_permission(pool, top, "sessions:manage").await);
    assert_held_matches_the_walk(pool, "a re-parenting").await;

    // A renamed code is held under its new name only.
    sqlx::query("UPDATE admin_permissions SET code = 'sessions:revoke' WHERE code = 'sessions:manage'")
        .execute(pool)
        .await
        .expect("rename");
    assert!(!has_permission(pool, top, "sessions:manage").await);
    assert!(has_permission(pool, top, "sessions:revoke").await);
    assert_held_matches_the_walk(pool, "a renamed code").await;

    // Revoking the grant and deleting a role take their holdings with them.
    sqlx::query("DELETE FROM admin_role_permissions WHERE role_id = $1")
        .bind(leaf)
        .execute(pool)
        .await
        .expect("revoke");
    assert!(!has_permission(pool, top, "sessions:revoke").await);
    grant(pool, other, "reports:read").await;
    assert!(has_permission(pool, top, "reports:read").await);
    sqlx::query("DELETE FROM admin_roles WHERE id = $1")
        .bind(leaf)
        .execute(pool)
        .await
        .expect("delete the unused leaf");
    assert_held_matches_the_walk(pool, "a revocation and a role deletion").await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_role_held_permissions WHERE role_id = $1")
        .bind(leaf)
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn role_names_permission_codes_and_descriptions_are_validated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    role(p, "admin", None).await;
    let roles = "INSERT INTO admin_roles (name, description) VALUES ($1, $2)";
    let perms = "INSERT INTO admin_permissions (code, description, risk_level) VALUES ($1, $2, 'low')";
    for (sql, a, b, rule) in [
        (roles, "Bad Name", "ok", rules::ADMIN_ROLES_NAME_FORMAT),
        (roles, "admin", "ok", rules::ADMIN_ROLES_NAME_UNIQUE),
        (roles, "analyst", "  ", rules::ADMIN_ROLES_DESCRIPTION_PRESENT),
        (perms, "quotes.read", "ok", rules::ADMIN_PERMISSIONS_CODE_FORMAT),
        (perms, "quotes:", "ok", rules::ADMIN_PERMISSIONS_CODE_FORMAT),
        (perms, "quotes:read", "", rules::ADMIN_PERMISSIONS_DESCRIPTION_PRESENT),
    ] {
        assert_eq!(
            refused(sqlx::query(sql).bind(a).bind(b).execute(p).await),
            rule,
            "{a:?} {b:?}"
        );
    }
    sqlx::query(roles)
        .bind("analyst")
        .bind("Reads reports")
        .execute(p)
        .await
        .expect("valid role");
    sqlx::query(perms)
        .bind("quotes:read")
        .bind("See every quote")
        .execute(p)
        .await
        .expect("valid permission");
    assert_eq!(
        refused(sqlx::query(perms).bind("quotes:read").bind("again").execute(p).await),
        rules::ADMIN_PERMISSIONS_CODE_UNIQUE
    );
}

#[tokio::test]
async fn roles_in_use_cannot_be_deleted_but_their_grants_go_with_them() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, leaf) = hierarchy(p).await;
    admin(p, "a@example.com", leaf).await;
    let delete = "DELETE FROM admin_roles WHERE id = $1";
    assert_eq!(
        refused(sqlx::query(delete).bind(root).execute(p).await),
        rules::ADMIN_ROLES_PARENT_FK
    );
    assert_eq!(
        refused(sqlx::query(delete).bind(leaf).execute(p).await),
        rules::ADMIN_USERS_ROLE_FK
    );
    let unused = role(p, "analyst", Some(root)).await;
    grant(p, unused, "quotes:read").await;
    sqlx::query(delete)
        .bind(unused)
        .execute(p)
        .await
        .expect("an unused role is deleted with its grants (CASCADE)");
    grant(p, leaf, "quotes:read").await;
    sqlx::query("DELETE FROM admin_permissions WHERE code = 'quotes:read'")
        .execute(p)
        .await
        .expect("a permission is retired with its grants");
}

#[tokio::test]
async fn grants_name_an_existing_role_permission_and_granting_admin() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    grant(p, root, "quotes:read").await;
    let insert = "INSERT INTO admin_role_permissions (role_id, permission_id, granted_by)
                  VALUES ($1, coalesce($2, (SELECT id FROM admin_permissions LIMIT 1)), $3)";
    let (ghost, none) = (Some(Uuid::new_v4()), None::<Uuid>);
    assert_eq!(
        refused(
            sqlx::query(insert)
                .bind(Uuid::new_v4())
                .bind(none)
                .bind(none)
                .execute(p)
                .await
        ),
        rules::ADMIN_ROLE_PERMISSIONS_ROLE_FK
    );
    assert_eq!(
        refused(sqlx::query(insert).bind(root).bind(ghost).bind(none).execute(p).await),
        rules::ADMIN_ROLE_PERMISSIONS_PERMISSION_FK
    );
    let other = role(p, "analyst", Some(root)).await;
    assert_eq!(
        refused(sqlx::query(insert).bind(other).bind(none).bind(ghost).execute(p).await),
        rules::ADMIN_ROLE_PERMISSIONS_GRANTED_BY_FK
    );
    let granter = admin(p, "g@example.com", root).await;
    sqlx::query(insert)
        .bind(other)
        .bind(none)
        .bind(Some(granter))
        .execute(p)
        .await
        .expect("valid grant");
}

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

#[tokio::test]
async fn a_setting_value_has_the_type_it_declares() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let insert = "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
                  VALUES ($1, $2::jsonb, $3::system_setting_value_type, $4, false)";
    for (key, value, ty) in [
        ("a.s", r#""x""#, "string"),
        ("a.n", "0.25", "number"),
        ("a.b", "true", "boolean"),
        ("a.o", "{}", "object"),
        ("a.a", "[1]", "array"),
    ] {
        sqlx::query(insert)
            .bind(key)
            .bind(value)
            .bind(ty)
            .bind("a setting")
            .execute(p)
            .await
            .expect(key);
    }
    for (key, value, ty, description, rule) in [
        (
            "quote.validity_days",
            r#""30""#,
            "number",
            "days",
            rules::SYSTEM_SETTINGS_VALUE_TYPE_MATCHES,
        ),
        (
            "quote.validity_days",
            "null",
            "number",
            "days",
            rules::SYSTEM_SETTINGS_VALUE_TYPE_MATCHES,
        ),
        (
            "Quote Validity",
            "30",
            "number",
            "days",
            rules::SYSTEM_SETTINGS_KEY_FORMAT,
        ),
        (
            "quote.validity_days",
            "30",
            "number",
            " ",
            rules::SYSTEM_SETTINGS_DESCRIPTION_PRESENT,
        ),
    ] {
        assert_eq!(
            refused(
                sqlx::query(insert)
                    .bind(key)
                    .bind(value)
                    .bind(ty)
                    .bind(description)
                    .execute(p)
                    .await
            ),
            rule
        );
    }
}

#[tokio::test]
async fn a_setting_forgets_its_writer_when_the_admin_account_is_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let writer = admin(p, "w@example.com", root).await;
    let insert = "INSERT INTO system_settings (key, value, value_type, description, is_sensitive, updated_by)
                  VALUES ('rating.discount_cap', '0.25', 'number', 'cap', false, $1)";
    assert_eq!(
        refused(sqlx::query(insert).bind(Uuid::new_v4()).execute(p).await),
        rules::SYSTEM_SETTINGS_UPDATED_BY_FK
    );
    sqlx::query(insert).bind(writer).execute(p).await.expect("setting");
    sqlx::query("DELETE FROM admin_users WHERE id = $1")
        .bind(writer)
        .execute(p)
        .await
        .expect("delete admin");
    let by: Option<Uuid> = sqlx::query_scalar("SELECT updated_by FROM system_settings")
        .fetch_one(p)
        .await
        .expect("setting");
    assert_eq!(by, None);
}

const LOG: &str = "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
                   VALUES ($1, $2, $3, 'rating.discount_cap', $4::jsonb, '10.1.1.1', $5, $6::jsonb)";

#[tokio::test]
async fn activity_log_entries_are_validated() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    for (who, action, resource, details, score, factors, rule) in [
        (
            Uuid::new_v4(),
            "settings.update",
            "system_setting",
            "{}",
            10_i16,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK,
        ),
        (
            a,
            " ",
            "system_setting",
            "{}",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_ACTION_PRESENT,
        ),
        (
            a,
            "settings.update",
            "",
            "{}",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RESOURCE_TYPE_PRESENT,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            101,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            -1,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "[]",
            10,
            "[]",
            rules::ADMIN_ACTIVITY_LOGS_DETAILS_IS_OBJECT,
        ),
        (
            a,
            "settings.update",
            "system_setting",
            "{}",
            10,
            "{}",
            rules::ADMIN_ACTIVITY_LOGS_RISK_FACTORS_IS_ARRAY,
        ),
    ] {
        let err = sqlx::query(LOG)
            .bind(who)
            .bind(action)
            .bind(resource)
            .bind(details)
            .bind(score)
            .bind(factors)
            .execute(p)
            .await;
        assert_eq!(
            refused(err),
            rule,
            "{action:?} {resource:?} {details} {score} {factors}"
        );
    }
    sqlx::query(LOG)
        .bind(a)
        .bind("settings.update")
        .bind("system_setting")
        .bind(r#"{"from":0.2}"#)
        .bind(85_i16)
        .bind(r#"["new_ip"]"#)
        .execute(p)
        .await
        .expect("valid entry");
    let err = sqlx::query("DELETE FROM admin_users WHERE id = $1")
        .bind(a)
        .execute(p)
        .await;
    assert_eq!(
        refused(err),
        rules::ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK,
        "the trail keeps its admins"
    );
}

#[tokio::test]
async fn admin_activity_logs_refuse_update_delete_and_truncate() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let a = admin(p, "a@example.com", root).await;
    sqlx::query(LOG)
        .bind(a)
        .bind("x")
        .bind("y")
        .bind("{}")
        .bind(1_i16)
        .bind("[]")
        .execute(p)
        .await
        .expect("append");
    for sql in [
        "UPDATE admin_activity_logs SET risk_score = 0",
        "DELETE FROM admin_activity_logs",
        "TRUNCATE admin_activity_logs",
    ] {
        assert_eq!(
            refused(sqlx::query(sql).execute(p).await),
            rules::ADMIN_ACTIVITY_LOGS_APPEND_ONLY,
            "{sql}"
        );
    }
}

#[tokio::test]
async fn admin_activity_logs_refuse_delete_as_the_system() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::raw_sql("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("act as the system");
    let err = sqlx::query("DELETE FROM admin_activity_logs")
        .execute(&mut *tx)
        .await
        .expect_err("no DELETE privilege");
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{err}"
    );
}

#[tokio::test]
async fn an_admin_has_at_most_one_default_dashboard() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let (root, _, _) = hierarchy(p).await;
    let (a, b) = (
        admin(p, "a@example.com", root).await,
        admin(p, "b@example.com", root).await,
    );
    let insert =
        "INSERT INTO admin_dashboards (admin_user_id, name, layout, is_default) VALUES ($1, $2, $3::jsonb, $4)";
    for (who, name, default) in [
        (a, "main", true),
        (a, "risk", false),
        (a, "rates", false),
        (b, "main", true),
    ] {
        sqlx::query(insert)
            .bind(who)
            .bind(name)
            .bind("{}")
            .bind(default)
            .execute(p)
            .await
            .expect(name);
    }
    for (name, layout, default, rule) in [
        ("second", "{}", true, rules::ADMIN_DASHBOARDS_ONE_DEFAULT),
        ("main", "{}", false, rules::ADMIN_DASHBOARDS_NAME_UNIQUE),
        (" ", "{}", false, rules::ADMIN_DASHBOARDS_NAME_PRESENT),
        ("grid", "[]", false, rules::ADMIN_DASHBOARDS_LAYOUT_IS_OBJECT),
    ] {
        assert_eq!(
            refused(
                sqlx::query(insert)
                    .bind(a)
                    .bind(name)
                    .bind(layout)
                    .bind(default)
                    .execute(p)
                    .await
            ),
            rule,
            "{name}"
        );
    }
    let err = sqlx::query(insert)
        .bind(Uuid::new_v4())
        .bind("x")
        .bind("{}")
        .bind(false)
        .execute(p)
        .await;
    assert_eq!(refused(err), rules::ADMIN_DASHBOARDS_ADMIN_USER_FK);
    sqlx::query("DELETE FROM admin_users WHERE id = $1")
        .bind(b)
        .execute(p)
        .await
        .expect("dashboards go with their admin");
}
