//! 5. Frozen columns, one-way revocations

use super::*;

#[tokio::test]
async fn priced_terms_are_frozen_and_revocations_are_final() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    let me = Some(w.victim);
    let quote = w.victim_quote;

    // The customer's own rated quote: no ZIP, effective date or expiry change, no premium change
    // without a version.
    for change in [
        "zip = '10001'",
        "effective_date = current_date + 300",
        "expires_at = 'infinity'",
        "premium = 0.01",
    ] {
        refused(
            &mut conn,
            me,
            &format!("UPDATE quotes SET {change} WHERE id = '{quote}'"),
        )
        .await;
    }
    // Not even the owner (or a superuser) changes them.
    let err = sqlx::query("UPDATE quotes SET zip = '10001', expires_at = 'infinity' WHERE id = $1")
        .bind(quote)
        .execute(db.pool())
        .await
        .expect_err("frozen for everyone");
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("quotes_priced_terms_frozen")
    );
    // A quote never starts bound, presented or closed.
    refused(
        &mut conn,
        me,
        &format!(
            "INSERT INTO quotes (customer_id, state_code, zip, status, premium, current_version, effective_date, expires_at, bound_at, metadata)
             VALUES ('{}', 'CA', '90001', 'bound', 0.01, 0, current_date, now() + interval '1 day', now(), '{{}}')",
            w.victim
        ),
    )
    .await;

    // A session revoked for suspicious activity stays revoked.
    let session: Uuid = sqlx::query_scalar(
        "INSERT INTO user_sessions (user_id, token_hash, expires_at, revoked_at, revoke_reason)
         VALUES ($1, sha256('t'::bytea), now() + interval '1 day', now(), 'suspicious_activity') RETURNING id",
    )
    .bind(w.victim)
    .fetch_one(db.pool())
    .await
    .expect("a revoked session");
    let err = refused(
        &mut conn,
        me,
        &format!("UPDATE user_sessions SET revoked_at = NULL, revoke_reason = NULL WHERE id = '{session}'"),
    )
    .await;
    assert!(
        err.contains("revocation is final") || err.contains("user_sessions_revocation"),
        "{err}"
    );
    refused(
        &mut conn,
        me,
        &format!("UPDATE user_sessions SET token_hash = sha256('u'::bytea) WHERE id = '{session}'"),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!("DELETE FROM user_sessions WHERE id = '{session}'"),
    )
    .await;

    // An OAuth client's owner cannot un-revoke it.
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id, revoked_at)
         VALUES ('victim-app', 'Victim app', ARRAY['https://app.example.com/cb'], ARRAY['quotes:read'],
                 ARRAY['authorization_code']::oauth2_grant_type[], $1, now()) RETURNING id",
    )
    .bind(w.victim)
    .fetch_one(db.pool())
    .await
    .expect("a revoked client");
    refused(
        &mut conn,
        me,
        &format!("UPDATE oauth2_clients SET revoked_at = NULL WHERE id = '{client}'"),
    )
    .await;
    refused(
        &mut conn,
        me,
        &format!(
            "UPDATE oauth2_clients SET redirect_uris = ARRAY['https://evil.example.com/cb'] WHERE id = '{client}'"
        ),
    )
    .await;
}
