//! sessions and OAuth clients

use super::*;

#[tokio::test]
async fn a_user_sees_and_revokes_only_their_own_sessions() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let revoke = "UPDATE user_sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE user_id = $1";
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    assert_eq!(count(&mut tx, "SELECT count(*) FROM user_sessions").await, 1);
    assert_eq!(touched(&mut tx, revoke, w.dave).await, 0);
    assert_eq!(touched(&mut tx, revoke, w.carol).await, 1);
    let mut tx = acting_as(db.pool(), Some(w.boss)).await;
    assert_eq!(
        touched(&mut tx, revoke, w.dave).await,
        1,
        "sessions:manage revokes any session"
    );
}

#[tokio::test]
async fn an_oauth_client_is_managed_by_its_owner_and_by_admins_holding_the_permission() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    sqlx::query(
        "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id)
         VALUES ('carols-app', 'Carol''s app', '{https://app.example.com/cb}', '{quotes.read}', '{authorization_code}', $1)",
    )
    .bind(w.carol)
    .execute(db.pool())
    .await
    .expect("client");
    let revoke = "UPDATE oauth2_clients SET revoked_at = now() WHERE owner_user_id = $1";
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.dave)).await, revoke, w.carol).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.clerk)).await, revoke, w.carol).await,
        0
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.carol)).await, revoke, w.carol).await,
        1
    );
    assert_eq!(
        touched(&mut *acting_as(db.pool(), Some(w.boss)).await, revoke, w.carol).await,
        1
    );
    let give_away = "UPDATE oauth2_clients SET owner_user_id = $1 WHERE client_id = 'carols-app'";
    // Who owns a client is not a column the application may write (0007).
    refused_by_grant(&mut *acting_as(db.pool(), Some(w.carol)).await, give_away, w.dave).await;
}
