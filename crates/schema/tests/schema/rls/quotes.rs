//! quotes, their versions and coverages

use super::*;

// ---------------------------------------------------------------------------------------------
// quotes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_reads_only_their_own_quotes() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let (_tx, owners) = sees(db.pool(), w.carol, "SELECT customer_id FROM quotes").await;
    assert_eq!(owners, vec![w.carol, w.carol]);
}

#[tokio::test]
async fn a_customer_cannot_change_or_take_another_customers_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    let cancel = "UPDATE quotes SET status = 'cancelled' WHERE id = $1";
    assert_eq!(
        touched(&mut tx, cancel, w.daves_quote).await,
        0,
        "dave's quote is invisible to carol"
    );
    assert_eq!(
        touched(&mut tx, cancel, w.carols_quote).await,
        1,
        "her own quote changes"
    );
    // Who a quote belongs to is not a column the application may write at all (0007).
    refused_by_grant(
        &mut tx,
        "UPDATE quotes SET customer_id = $1 WHERE customer_id = app_user_id()",
        w.dave,
    )
    .await;
}

#[tokio::test]
async fn a_customer_creates_quotes_only_for_themselves() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let insert = "INSERT INTO quotes (customer_id, state_code, zip, effective_date, expires_at, metadata)
                  VALUES ($1, 'CA', '90001', current_date, now() + interval '1 day', '{}')";
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    refused_by_policy(&mut tx, insert, w.dave).await;
    let mut tx = acting_as(db.pool(), Some(w.carol)).await;
    assert_eq!(touched(&mut tx, insert, w.carol).await, 1);
}

#[tokio::test]
async fn an_agent_sees_only_the_quotes_assigned_to_them() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let (mut tx, ids) = sees(db.pool(), w.frank, "SELECT id FROM quotes").await;
    assert_eq!(ids, vec![w.carols_quote]);
    refused_by_grant(
        &mut tx,
        "UPDATE quotes SET agent_id = NULL WHERE id = $1",
        w.carols_quote,
    )
    .await;
}

#[tokio::test]
async fn only_admins_holding_quotes_read_see_every_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let w = world(db.pool()).await;
    let sql = "SELECT count(*) FROM quotes";
    assert_eq!(count(&mut *acting_as(db.pool(), Some(w.boss)).await, sql).await, 3);
    assert_eq!(count(&mut *acting_as(db.pool(), Some(w.clerk)).await, sql).await, 0);
}

#[tokio::test]
async fn without_an_acting_user_nothing_is_visible_and_the_system_sees_everything() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    world(db.pool()).await;
    let sql = "SELECT (SELECT count(*) FROM quotes) + (SELECT count(*) FROM system_settings) + (SELECT count(*) FROM user_sessions)";
    let mut tx = acting_as(db.pool(), None).await;
    assert_eq!(count(&mut tx, sql).await, 0);
    // The setting that made a session the system up to 0006 changes nothing any more.
    sqlx::query("SELECT set_config('app.system', 'on', true)")
        .execute(&mut *tx)
        .await
        .expect("the old system switch");
    assert_eq!(count(&mut tx, sql).await, 0);
    // The system is a role (0007).
    sqlx::query("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("system role");
    assert_eq!(count(&mut tx, sql).await, 3 + 2 + 2);
}

// ---------------------------------------------------------------------------------------------
// quote versions and coverages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn quote_versions_and_coverages_are_as_visible_as_their_quote() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let pool = db.pool();
    let ann = user(pool, "ann@example.com", "customer").await;
    let bob = user(pool, "bob@example.com", "customer").await;
    sqlx::query("INSERT INTO states (code, name) VALUES ('XV', 'Versionland')")
        .execute(pool)
        .await
        .expect("state");
    let mut tx = pool.begin().await.expect("begin");
    let quote: Uuid = sqlx::query_scalar(
        "INSERT INTO quotes (customer_id, state_code, zip, status, premium, current_version, effective_date, expires_at, metadata)
         VALUES ($1, 'XV', '12345', 'rated', 100.00, 1, current_date, now() + interval '30 days', '{}') RETURNING id",
    )
    .bind(ann)
    .fetch_one(&mut *tx)
    .await
    .expect("quote");
    sqlx::query(
        "INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown) VALUES ($1, 1, 100.00, '{}', '{}')",
    )
    .bind(quote)
    .execute(&mut *tx)
    .await
    .expect("version");
    sqlx::query(
        "INSERT INTO quote_coverages (quote_id, coverage_type, deductible, premium) VALUES ($1, 'collision', 500, 100)",
    )
    .bind(quote)
    .execute(&mut *tx)
    .await
    .expect("coverage");
    tx.commit().await.expect("commit");

    for (who, expected) in [(ann, 1_i64), (bob, 0)] {
        let mut tx = acting_as(pool, Some(who)).await;
        let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM quote_versions")
            .fetch_one(&mut *tx)
            .await
            .expect("versions");
        let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM quote_coverages")
            .fetch_one(&mut *tx)
            .await
            .expect("coverages");
        assert_eq!(
            (versions, lines),
            (expected, expected),
            "visibility follows the quote's owner"
        );
        tx.rollback().await.expect("rollback");
    }
}
