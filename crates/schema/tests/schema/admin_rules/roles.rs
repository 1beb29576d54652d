//! admin roles, permissions and grants

use super::*;

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
