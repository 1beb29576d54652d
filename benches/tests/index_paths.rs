//! Every benchmarked query uses the index it was built for, on a volume-seeded database, for its
//! custom plan AND its generic plan (prepared statements switch to the generic plan after five
//! executions; a partial index must still match then), and no plan reads a large table with a
//! sequential scan. Keyset pages must also read their index in order (an Index Scan, not a
//! Bitmap Index Scan and a sort of every matching row).

use quotedb_benches::explain::PlanMode;
use quotedb_benches::paths::{LARGE_TABLE_ROWS, check, index_paths, large_seq_scans, table_rows};
use quotedb_benches::{TEST_SCALE, bench_db, connect, params::params};

#[tokio::test]
async fn every_benchmarked_query_uses_its_index_in_custom_and_generic_plans() {
    let env = bench_db(TEST_SCALE).await.expect("volume-seeded bench database");
    let p = params(&env.pool).await.expect("parameters");
    let mut conn = connect(&env.url).await.expect("connect");
    let mut failures = Vec::new();
    let mut checked_indexes = 0;
    for path in index_paths(&p) {
        let large = table_rows(&mut conn, path.table).await.expect("table size") >= LARGE_TABLE_ROWS;
        for mode in [PlanMode::Custom, PlanMode::Generic] {
            let plan = check(&env.url, &path, mode).await.expect("explain");
            if large {
                checked_indexes += 1;
            }
            if large && !path.indexes.iter().any(|i| plan.uses(i)) {
                failures.push(format!(
                    "{} ({mode:?}): expected one of {:?}, used {:?}\n{:#}",
                    path.bench, path.indexes, plan.indexes, plan.plan
                ));
            }
            if large && path.ordered && !path.indexes.iter().any(|i| plan.reads_in_order(i)) {
                failures.push(format!(
                    "{} ({mode:?}): expected one of {:?} read in index order (Index Scan), read in order: {:?}\n{:#}",
                    path.bench, path.indexes, plan.ordered_indexes, plan.plan
                ));
            }
            let seq = large_seq_scans(&mut conn, &plan).await.expect("table sizes");
            if !seq.is_empty() {
                failures.push(format!(
                    "{} ({mode:?}): sequential scan of {seq:?}\n{:#}",
                    path.bench, plan.plan
                ));
            }
        }
    }
    assert!(failures.is_empty(), "index paths:\n{}", failures.join("\n\n"));
    // Quotes, the high-risk activity and the notification queue are large at this scale.
    assert!(
        checked_indexes >= 6,
        "the paths on large tables were checked ({checked_indexes} plans)"
    );
}
