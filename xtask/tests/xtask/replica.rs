//! `cargo xtask db-start --replica` starts a streaming replica of the local cluster, and
//! `db-status` reads its replication state from the primary.

#[tokio::test]
async fn db_start_with_replica_starts_a_streaming_standby_that_status_shows() {
    let server = quotedb_testkit::server().await.expect("server");
    if !matches!(server.backend(), quotedb_testkit::Backend::LocalCluster(_)) {
        eprintln!("skipped: the server is not the project-local cluster");
        return;
    }
    xtask::db_start(true).await.expect("db-start --replica");
    let replica = quotedb_testkit::replica().await.expect("the replica");
    // Something to replay, then wait for it: the standby is streaming and caught up.
    let mut conn = server.admin_connection().await.expect("primary");
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(&mut conn)
        .await
        .expect("lsn");
    replica
        .wait_for_replay(&lsn, std::time::Duration::from_secs(30))
        .await
        .expect("replayed");
    let status = xtask::standby_status().await.expect("status");
    let shared = status
        .iter()
        .find(|s| s.name == xtask::REPLICA)
        .unwrap_or_else(|| panic!("the replica is listed: {status:?}"));
    assert!(shared.running, "{shared:?}");
    assert_eq!(shared.state.as_deref(), Some("streaming"), "{shared:?}");
    assert!(shared.lag_bytes.is_some(), "{shared:?}");
    assert!(
        replica.admin_url().contains(&format!(":{}/", shared.port)),
        "{shared:?}"
    );
}
