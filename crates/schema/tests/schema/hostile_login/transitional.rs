//! Attack class 10, the transitional objects of the state-code migration (0011–0013): while a
//! deployment sits between 0011 and 0013, the backfill procedure and the text copy of
//! `quotes.state_code` exist; neither the application nor a worker login can run the procedure
//! or write the copy.

use super::{APP_LOGIN, WORKER_LOGIN, connect, refused};
use quotedb_testkit::TestDb;

#[tokio::test]
async fn between_0011_and_0013_the_backfill_and_the_text_copy_are_not_the_logins() {
    let db = TestDb::empty().await;
    let mut owner = db.pool().acquire().await.expect("connection");
    quotedb_schema::MIGRATOR
        .run_to(11, &mut *owner)
        .await
        .expect("migrate to 0011");
    drop(owner);
    for login in [APP_LOGIN, WORKER_LOGIN] {
        let mut conn = connect(&db, login).await;
        let err = refused(&mut conn, None, "CALL quotedb_backfill_quotes_state_code_text(1)").await;
        assert!(err.contains("permission denied"), "{login}: {err}");
        let err = refused(&mut conn, None, "UPDATE quotes SET state_code_text = 'ZZ'").await;
        assert!(err.contains("permission denied"), "{login}: {err}");
    }
}

#[tokio::test]
async fn after_0013_nothing_transitional_is_left() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proname LIKE '%state_code_text%'
         UNION ALL
         SELECT attname::text FROM pg_attribute WHERE attrelid = 'quotes'::regclass AND attname = 'state_code_text'",
    )
    .fetch_all(db.pool())
    .await
    .expect("catalog");
    assert!(left.is_empty(), "left over: {left:?}");
}
