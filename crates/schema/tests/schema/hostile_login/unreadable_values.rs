//! 8. Values the Rust side could not read back

use super::*;

#[tokio::test]
async fn values_nobody_can_read_back_are_refused() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let big_name = "x".repeat(5 * 1024 * 1024);
    let big_json = format!("{{\"k\": \"{}\"}}", "x".repeat(20 * 1024 * 1024));
    for (sql, rule) in [
        // NaN passed `>= 0` and broke every later read of the row.
        (
            format!(
                "INSERT INTO public.quotes (id, customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{q}', '{}', 'CA', '90001', current_date, now() + interval '1 day', '{{}}');
                 INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
                 VALUES ('{q}', 'collision', NULL, 0, 'NaN')",
                w.victim,
                q = Uuid::new_v4()
            ),
            "quote_coverages_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', 'infinity', 'infinity', '{{}}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', current_date, '294276-01-01', '{{}}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                 VALUES ('{}', 'CA', '90001', current_date, now() + interval '1 day', '{big_json}')",
                w.victim
            ),
            "quotes_values_bounded",
        ),
        (
            format!(
                "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth) VALUES ('{}', '{big_name}', 'X', '1990-01-01')",
                w.victim
            ),
            "drivers_values_bounded",
        ),
    ] {
        let err = attempt(&mut conn, Some(w.victim), &sql).await.expect_err(rule);
        assert_eq!(
            err.as_database_error().and_then(|e| e.constraint()),
            Some(rule),
            "{}: {err}",
            &sql[..sql.len().min(120)]
        );
    }
    // The owner and a superuser are held to the same bounds.
    let err = sqlx::query("UPDATE users SET full_name = repeat('x', 201) WHERE id = $1")
        .bind(w.victim)
        .execute(db.pool())
        .await
        .expect_err("201 characters");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("users_values_bounded")
    );
    // Argon2 below OWASP's floor (m=1, t=1) is refused.
    let err = sqlx::query(
        "INSERT INTO oauth2_clients (client_id, name, secret_hash, redirect_uris, scopes, grant_types)
         VALUES ('weak-app', 'Weak', '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
                 ARRAY['https://app.example.com/cb'], ARRAY['quotes:read'], ARRAY['client_credentials']::oauth2_grant_type[])",
    )
    .execute(db.pool())
    .await
    .expect_err("weak argon2");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("oauth2_clients_secret_hash_owasp_minimum")
    );
}
