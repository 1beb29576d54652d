//! admin accounts and their activity

use super::*;

#[tokio::test]
async fn an_admin_sees_their_own_account_and_cannot_promote_themselves() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let (mut tx, visible) = sees(db.pool(), w.clerk, "SELECT user_id FROM admin_users").await;
    assert_eq!(visible, vec![w.clerk]);
    let promote =
        "UPDATE admin_users SET role_id = (SELECT id FROM admin_roles WHERE name = 'boss') WHERE user_id = $1";
    assert_eq!(touched(&mut tx, promote, w.clerk).await, 0);
    let mut tx = acting_as(db.pool(), Some(w.boss)).await;
    assert_eq!(
        count(&mut tx, "SELECT count(*) FROM admin_users").await,
        2,
        "admin_users:manage sees every admin"
    );
    assert_eq!(
        touched(&mut tx, promote, w.boss).await,
        0,
        "not even a manager changes their own account"
    );
    assert_eq!(
        touched(&mut tx, promote, w.clerk).await,
        1,
        "a manager changes another admin"
    );
    assert_eq!(
        count(
            &mut *acting_as(db.pool(), Some(w.carol)).await,
            "SELECT count(*) FROM admin_users"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_admin_logs_activity_only_under_their_own_id_and_reads_only_their_own() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let admin_id = |user: Uuid| {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM admin_users WHERE user_id = $1")
            .bind(user)
            .fetch_one(db.pool())
    };
    let (clerk, boss) = (
        admin_id(w.clerk).await.expect("clerk"),
        admin_id(w.boss).await.expect("boss"),
    );
    let log =
        "INSERT INTO admin_activity_logs (admin_user_id, action, resource_type, details, risk_score, risk_factors)
               VALUES ($1, 'settings.read', 'system_setting', '{}', 5, '[]')";
    let mut tx = acting_as(db.pool(), Some(w.clerk)).await;
    assert_eq!(touched(&mut tx, log, clerk).await, 1);
    tx.commit().await.expect("commit");
    sqlx::query(log)
        .bind(boss)
        .execute(db.pool())
        .await
        .expect("boss entry (superuser)");
    let mut tx = acting_as(db.pool(), Some(w.clerk)).await;
    assert_eq!(
        count(&mut tx, "SELECT count(*) FROM admin_activity_logs").await,
        1,
        "own activity only"
    );
    refused_by_policy(&mut tx, log, boss).await;
    refused_by_policy(&mut *acting_as(db.pool(), Some(w.carol)).await, log, clerk).await;
    assert_eq!(
        count(
            &mut *acting_as(db.pool(), Some(w.boss)).await,
            "SELECT count(*) FROM admin_activity_logs"
        )
        .await,
        2
    );
}
