//! `cargo xtask db-reset` is idempotent and is not blocked by an open session.

use sqlx::Connection as _;

#[tokio::test]
async fn db_reset_twice_in_a_row_and_with_a_session_open_succeeds() {
    let server = quotedb_testkit::server().await.expect("server");
    // A database of its own, so the test never clobbers the developer's quotedb_dev.
    let name = format!("quotedb_dev_reset_test_{}", std::process::id());
    let url = xtask::db_reset(server, &name).await.expect("first db-reset");
    let url_again = xtask::db_reset(server, &name).await.expect("second db-reset in a row");
    assert_eq!(url, url_again);

    // A psql-like session left open on the dev database must not block the reset.
    let mut open_session = sqlx::PgConnection::connect(&url).await.expect("open a session");
    sqlx::query("INSERT INTO states (code, name) VALUES ('ZZ', 'Scratch')")
        .execute(&mut open_session)
        .await
        .expect("write something the reset must remove");
    xtask::db_reset(server, &name)
        .await
        .expect("db-reset with a session open");
    assert!(
        sqlx::query("SELECT 1").execute(&mut open_session).await.is_err(),
        "the open session was terminated by the reset"
    );

    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect after reset");
    let scratch: i64 = sqlx::query_scalar("SELECT count(*) FROM states WHERE code = 'ZZ'")
        .fetch_one(&mut conn)
        .await
        .expect("states");
    assert_eq!(scratch, 0, "the reset database starts from the seeds again");
    let migrations: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .expect("migrations table");
    assert_eq!(
        migrations,
        quotedb_schema::MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count() as i64
    );
    conn.close().await.expect("close");
    server.drop_database(&name).await.expect("clean up");
}
