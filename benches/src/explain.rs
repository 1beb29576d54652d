//! EXPLAIN (FORMAT JSON) of a repository query, for its custom plan and for its generic plan
//! (`plan_cache_mode = force_generic_plan`): prepared statements switch to the generic plan after
//! five executions, and a partial index whose predicate depends on a parameter is useless there.
//!
//! The SQL explained is the repository's own text (its `.sql` files or the constants it exposes),
//! so what is validated is what runs.

use serde_json::Value;
use sqlx::{Connection as _, PgConnection};

use crate::BoxError;

/// Which plan to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    /// Planned for the given parameter values.
    Custom,
    /// Planned once for any values (what a prepared statement ends up with).
    Generic,
}

/// The context a query runs in.
#[derive(Debug, Clone)]
pub enum RunAs {
    /// The connection's own role (no RLS involved, or the definer functions handle it).
    Owner,
    /// `SET LOCAL ROLE quotedb_app` with `app.user_id` set, as the repository does for an actor.
    AppUser(uuid::Uuid),
    /// `SET LOCAL ROLE quotedb_app` with `app.system = on`.
    AppSystem,
}

/// What a plan touches.
#[derive(Debug, Clone, Default)]
pub struct PlanSummary {
    /// Index names used by any node (Index Scan, Index Only Scan, Bitmap Index Scan).
    pub indexes: Vec<String>,
    /// Relations read by a Seq Scan, with the planner's row estimate.
    pub seq_scans: Vec<(String, f64)>,
    /// The whole plan, for failure messages.
    pub plan: Value,
}

impl PlanSummary {
    /// Whether `index` is used.
    pub fn uses(&self, index: &str) -> bool {
        self.indexes.iter().any(|i| i == index)
    }
}

fn walk(node: &Value, out: &mut PlanSummary) {
    if let Some(index) = node.get("Index Name").and_then(Value::as_str) {
        out.indexes.push(index.to_string());
    }
    if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan") {
        let rel = node
            .get("Relation Name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let rows = node.get("Plan Rows").and_then(Value::as_f64).unwrap_or(0.0);
        out.seq_scans.push((rel, rows));
    }
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for child in children {
            walk(child, out);
        }
    }
}

/// Quote a value as an SQL literal (EXECUTE takes literals; these come from the bench data).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// EXPLAIN `sql` (with `$1…` parameters) for `params` (SQL literals, see [`literal`]) in `mode`,
/// run as `run_as`. Everything happens in a rolled-back transaction.
pub async fn explain(
    conn: &mut PgConnection,
    sql: &str,
    params: &[String],
    mode: PlanMode,
    run_as: &RunAs,
) -> Result<PlanSummary, BoxError> {
    let mut tx = conn.begin().await?;
    let setup = match run_as {
        RunAs::Owner => String::new(),
        RunAs::AppUser(id) => {
            format!("SET LOCAL ROLE quotedb_app; SELECT set_config('app.user_id', '{id}', true);")
        }
        RunAs::AppSystem => "SET LOCAL ROLE quotedb_app; SELECT set_config('app.system', 'on', true);".into(),
    };
    let mode_sql = match mode {
        PlanMode::Custom => "force_custom_plan",
        PlanMode::Generic => "force_generic_plan",
    };
    // Test-harness SQL assembled from the repository's own query text and literal parameters.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "quotedb_explained_{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let script = format!("{setup} SET LOCAL plan_cache_mode = {mode_sql}; PREPARE {name} AS {sql};");
    sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&mut *tx).await?;
    let explain = if params.is_empty() {
        format!("EXPLAIN (FORMAT JSON) EXECUTE {name}")
    } else {
        format!("EXPLAIN (FORMAT JSON) EXECUTE {name}({})", params.join(", "))
    };
    let plan: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .fetch_one(&mut *tx)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DEALLOCATE {name}")))
        .execute(&mut *tx)
        .await?;
    tx.rollback().await?;
    let mut summary = PlanSummary {
        plan: plan.clone(),
        ..Default::default()
    };
    if let Some(root) = plan.get(0).and_then(|p| p.get("Plan")) {
        walk(root, &mut summary);
    }
    Ok(summary)
}
