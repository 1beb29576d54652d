//! `cargo xtask compat`: the queries of a release described against a changed schema.

use quotedb_testkit::TestDb;
use xtask::compat::{check, queries_at};

async fn findings_after(change: &str) -> Vec<xtask::compat::Finding> {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(change.to_string()))
        .execute(db.pool())
        .await
        .expect("apply the change");
    let queries = queries_at("HEAD").expect("the committed offline data");
    let mut conn = db.pool().acquire().await.expect("connection");
    check(&mut conn, &queries).await
}

#[tokio::test]
async fn an_additive_change_keeps_every_query_of_the_release() {
    let findings = findings_after(
        "ALTER TABLE vehicles ADD COLUMN colour text; CREATE TABLE vehicle_notes (id bigint PRIMARY KEY, note text)",
    )
    .await;
    assert!(findings.is_empty(), "{findings:?}");
}

#[tokio::test]
async fn a_dropped_column_breaks_the_queries_that_read_it() {
    let findings = findings_after("ALTER TABLE vehicles DROP COLUMN model_year CASCADE").await;
    assert!(!findings.is_empty(), "dropping a column the release reads is flagged");
    assert!(
        findings
            .iter()
            .all(|f| f.problem.contains("no longer prepares") && f.problem.contains("model_year")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn a_retyped_column_is_flagged_with_both_types() {
    let findings = findings_after("ALTER TABLE vehicles ALTER COLUMN make TYPE varchar(120)").await;
    assert!(
        findings
            .iter()
            .any(|f| f.problem.contains("make") && f.problem.contains("Varchar")),
        "{findings:?}"
    );
}
