//! The benchmarked queries with the index each was built for: the repository's own SQL files
//! (`include_str!` of the files its `query_file*!` macros compile), realistic parameters, and the
//! context they run in. Used by the index-path test (custom AND generic plans) and by the benches,
//! which record the index each path uses for `cargo xtask bench-report`.

use crate::BoxError;
use crate::explain::{PlanMode, PlanSummary, explain, literal};
use crate::params::Params;

/// A table with at least this many rows (planner estimate) is large: a sequential scan of it on a
/// hot path is a defect, and a path driven by it must use its index. Below that (reference data
/// such as territory factors, a review queue of a few hundred requests) a sequential scan is the
/// planner's right choice and is not flagged.
pub const LARGE_TABLE_ROWS: f64 = 5_000.0;

/// One benchmarked query.
#[derive(Debug, Clone)]
pub struct IndexPath {
    /// The criterion id of the bench measuring it.
    pub bench: &'static str,
    /// The SQL the repository runs.
    pub sql: &'static str,
    /// Parameters as SQL literals.
    pub params: Vec<String>,
    /// The table driving the query.
    pub table: &'static str,
    /// The index it must use when `table` is large (any one of these).
    pub indexes: &'static [&'static str],
    /// A page in index order (keyset pages, claim batches): the index must also deliver that order,
    /// through an Index Scan or Index Only Scan. A Bitmap Index Scan of the same index fetches every
    /// matching row and sorts them: cheap for a customer with five quotes, thousands of rows for a
    /// heavy one. A generic plan picks exactly that when the page size is a literal (the planner
    /// then assumes the average customer): 24 ms against 0.2 ms for a customer with 3,721 quotes.
    pub ordered: bool,
}

/// The benchmarked queries with realistic parameters.
pub fn index_paths(p: &Params) -> Vec<IndexPath> {
    let far_future = literal("9999-12-31T00:00:00Z");
    let far_past = literal("0001-01-01T00:00:00Z");
    vec![
        IndexPath {
            bench: "quote_paths/quote_by_number",
            table: "quotes",
            sql: include_str!("../../crates/repository/src/quotes/get_by_number.sql"),
            params: vec![literal(&p.customer.0.to_string()), literal(p.quote_number.as_str())],
            indexes: &["quotes_number_unique"],
            ordered: false,
        },
        IndexPath {
            bench: "quote_paths/keyset_page_20",
            table: "quotes",
            sql: include_str!("../../crates/repository/src/quotes/list_for_customer.sql"),
            params: vec![
                literal(&p.customer.0.to_string()),
                literal(&p.customer.0.to_string()),
                "NULL".into(),
                "NULL".into(),
                "21".into(),
            ],
            indexes: &["quotes_customer_id_created_at_id_idx"],
            ordered: true,
        },
        IndexPath {
            bench: "rate_paths/resolve_database",
            table: "territory_factors",
            sql: include_str!("../../crates/repository/src/rating/resolve.sql"),
            params: vec![
                literal("CA"),
                literal(p.zip),
                literal("{bodily_injury,property_damage,collision,comprehensive}"),
                "current_date".into(),
            ],
            indexes: &[
                "territory_factors_state_code_zip_active_idx",
                "territory_factors_no_overlap",
            ],
            ordered: false,
        },
        IndexPath {
            bench: "admin_paths/high_risk_page",
            table: "admin_activity_logs",
            sql: include_str!("../../crates/repository/src/admin/high_risk_page.sql"),
            params: vec![
                literal(&p.admin.0.to_string()),
                far_future,
                "9223372036854775807".into(),
                "21".into(),
            ],
            indexes: &["admin_activity_logs_occurred_at_high_risk_idx"],
            ordered: true,
        },
        IndexPath {
            bench: "admin_paths/pending_rate_changes",
            table: "rate_change_requests",
            sql: include_str!("../../crates/repository/src/admin/pending_rate_changes.sql"),
            params: vec![far_past, literal("00000000-0000-0000-0000-000000000000"), "21".into()],
            indexes: &["rate_change_requests_submitted_at_pending_idx"],
            ordered: true,
        },
        IndexPath {
            bench: "analytics_paths/notification_claim_batch",
            table: "notification_queue",
            sql: include_str!("../../crates/repository/src/realtime/claim_notifications.sql"),
            params: vec!["10".into(), literal("bench-worker")],
            indexes: &["notification_queue_claim_idx"],
            ordered: true,
        },
    ]
}

/// The plans of one path in one mode on the bench database at `url`.
pub async fn check(url: &str, path: &IndexPath, mode: PlanMode) -> Result<PlanSummary, BoxError> {
    explain(url, path.sql, &path.params, mode).await
}

/// The planner's row count of `table`.
pub async fn table_rows(conn: &mut sqlx::PgConnection, table: &str) -> Result<f64, BoxError> {
    let rows: Option<f32> = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)")
        .bind(table)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(f64::from(rows.unwrap_or(0.0)))
}

/// The large tables a plan reads with a sequential scan.
pub async fn large_seq_scans(conn: &mut sqlx::PgConnection, plan: &PlanSummary) -> Result<Vec<String>, BoxError> {
    let mut large = Vec::new();
    for (rel, rows) in &plan.seq_scans {
        let size = table_rows(conn, rel).await?;
        if size >= LARGE_TABLE_ROWS {
            large.push(format!("{rel} ({size} rows, ~{rows} read)"));
        }
    }
    Ok(large)
}
