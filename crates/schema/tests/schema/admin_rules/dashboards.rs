//! dashboards

use super::*;

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
