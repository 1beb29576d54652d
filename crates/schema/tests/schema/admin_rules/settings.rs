//! system settings

use super::*;

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
