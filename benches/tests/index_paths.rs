//! Every benchmarked query uses the index it was built for, on a volume-seeded database, for its
//! custom plan AND its generic plan (prepared statements switch to the generic plan after five
//! executions; a partial index must still match then), and no plan reads a large table with a
//! sequential scan. Keyset pages must also read their index in order (an Index Scan, not a
//! Bitmap Index Scan and a sort of every matching row).

use quotedb_benches::explain::PlanMode;
use quotedb_benches::generic::{
    PlanError, PlanRole, Planner, calls, function_plans, large_seq_scans as large_generic_seq_scans,
    seq_scanned_tables, stored_queries,
};
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

/// Every query the workspace compiles (each `.sqlx/query-*.json`), prepared with its stored
/// parameter types and explained with a forced generic plan as `quotedb_app` and as
/// `quotedb_system`, reads no large table with a sequential scan, unless its text carries a
/// written reason for that table (`-- plan: seq scan of <table> allowed: <reason>`, see
/// `docs/conventions.md`); a reason for a table the plan does not scan is stale and fails too.
///
/// A query calling one of quotedb's plpgsql functions plans as a Function Scan (or a Result): it
/// is also executed, rolled back, with NULL arguments (as `quotedb_app`, a leading uuid argument is
/// the role's user: the acting user of an `app_*` function) and `auto_explain` logging the generic plans
/// of the statements inside the function, which are held to the same rule. That reaches only as
/// far as NULL arguments do (a function raising or returning early on NULL input hides the rest),
/// and trigger functions run only for rows a statement changes (none, with NULLs). Statements
/// sent without the query macros have no `.sqlx` entry and are not covered.
#[tokio::test]
async fn no_generic_plan_of_any_query_scans_a_large_table() {
    let env = bench_db(TEST_SCALE).await.expect("volume-seeded bench database");
    let p = params(&env.pool).await.expect("parameters");
    let queries = stored_queries(&quotedb_testkit::workspace_root()).expect("the .sqlx query data");
    let planner = Planner::connect(&env.url).await.expect("connect");
    let sizes = planner.table_sizes().await.expect("table sizes");
    let functions = planner.plpgsql_functions().await.expect("plpgsql functions");
    let mut failures = Vec::new();
    let mut planned = 0;
    let mut by_role = std::collections::BTreeMap::new();
    for q in &queries {
        let allowed = q.allowed_seq_scans();
        let mut scanned = Vec::new();
        let mut plans = Vec::new();
        for role in [PlanRole::App(p.admin.0), PlanRole::System] {
            match planner.generic_plan(q, role).await {
                Ok(plan) => plans.push((role, plan)),
                Err(PlanError::Refused(_)) => {}
                Err(PlanError::Failed(e)) => {
                    failures.push(format!("{} `{}`: as {}: {e}", q.file, q.first_line(), role.name()))
                }
            }
        }
        if plans.is_empty() {
            match planner.generic_plan(q, PlanRole::Login).await {
                Ok(plan) => plans.push((PlanRole::Login, plan)),
                Err(PlanError::Refused(e) | PlanError::Failed(e)) => {
                    failures.push(format!("{} `{}`: as the login: {e}", q.file, q.first_line()));
                }
            }
        }
        // The statements inside the plpgsql functions it calls, as far as NULL arguments reach.
        let mut function_runs = Vec::new();
        if functions.iter().any(|f| calls(&q.query, f)) {
            for (role, _) in &plans {
                let (plan, error) = function_plans(&env.url, q, *role).await.expect("auto_explain");
                let statements = plan.plan.as_array().map_or(0, Vec::len);
                eprintln!(
                    "{} as {}: {statements} plan(s) logged{}",
                    q.file,
                    role.name(),
                    error.map_or_else(String::new, |e| format!(", stopped: {e}"))
                );
                function_runs.push((*role, plan));
            }
        }
        for (role, plan) in plans.iter().chain(&function_runs) {
            planned += 1;
            *by_role.entry(role.name()).or_insert(0) += 1;
            scanned.extend(seq_scanned_tables(plan, &sizes));
            for (table, rows) in large_generic_seq_scans(plan, &sizes) {
                if !allowed.iter().any(|(t, reason)| *t == table && !reason.is_empty()) {
                    failures.push(format!(
                        "{} `{}`: the generic plan as {} reads {table} ({rows} rows) with a Seq Scan\n{:#}",
                        q.file,
                        q.first_line(),
                        role.name(),
                        plan.plan
                    ));
                }
            }
        }
        for (table, reason) in &allowed {
            if reason.is_empty() {
                failures.push(format!(
                    "{} `{}`: the allowance for {table} gives no reason",
                    q.file,
                    q.first_line()
                ));
            } else if !plans.is_empty() && !scanned.contains(table) {
                failures.push(format!(
                    "{} `{}`: stale allowance, no plan scans {table} sequentially",
                    q.file,
                    q.first_line()
                ));
            }
        }
    }
    eprintln!("{} queries, generic plans by role: {by_role:?}", queries.len());
    assert!(
        failures.is_empty(),
        "{} finding(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    planner.close().await.expect("close");
    assert!(
        queries.len() >= 100 && planned >= queries.len(),
        "{} queries, {planned} plans",
        queries.len()
    );
}
