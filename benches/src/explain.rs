//! The plans of a repository query as it runs, for its custom plan and for its generic plan
//! (`plan_cache_mode = force_generic_plan`): prepared statements switch to the generic plan after
//! five executions, and a partial index whose predicate depends on a parameter is useless there.
//!
//! The SQL is the repository's own text (its `.sql` files or the constants it exposes), so what is
//! validated is what runs. It is executed (in a rolled-back transaction) with `auto_explain`
//! logging every plan to the client, nested statements included: a query that calls one of the
//! one-round-trip plpgsql functions (`app_quote_by_number`, ...) is judged by the plans of the
//! statements inside the function, which a plain EXPLAIN (a Function Scan) would hide. Loading
//! `auto_explain` needs a superuser, which the testkit's own cluster provides.

use futures_util::StreamExt as _;
use serde_json::Value;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::BoxError;

/// Which plan to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    /// Planned for the given parameter values.
    Custom,
    /// Planned once for any values (what a prepared statement ends up with).
    Generic,
}

/// What a plan touches.
#[derive(Debug, Clone, Default)]
pub struct PlanSummary {
    /// Index names used by any node (Index Scan, Index Only Scan, Bitmap Index Scan).
    pub indexes: Vec<String>,
    /// Indexes read by an Index Scan or Index Only Scan: they deliver rows in index order (a
    /// Bitmap Index Scan does not; its rows must be fetched in full and sorted).
    pub ordered_indexes: Vec<String>,
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

    /// Whether `index` is read in index order (Index Scan or Index Only Scan).
    pub fn reads_in_order(&self, index: &str) -> bool {
        self.ordered_indexes.iter().any(|i| i == index)
    }
}

/// The summary of plans as PostgreSQL prints them in JSON (each an object with a `"Plan"` root,
/// as `EXPLAIN (FORMAT JSON)` and `auto_explain` write them).
pub fn summarize(plans: Vec<Value>) -> PlanSummary {
    let mut summary = PlanSummary::default();
    for plan in &plans {
        if let Some(root) = plan.get("Plan") {
            walk(root, &mut summary);
        }
    }
    summary.plan = Value::Array(plans);
    summary
}

fn walk(node: &Value, out: &mut PlanSummary) {
    if let Some(index) = node.get("Index Name").and_then(Value::as_str) {
        out.indexes.push(index.to_string());
        if matches!(
            node.get("Node Type").and_then(Value::as_str),
            Some("Index Scan" | "Index Only Scan")
        ) {
            out.ordered_indexes.push(index.to_string());
        }
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

/// Run `sql` (with `$1…` parameters) for `params` (SQL literals, see [`literal`]) in `mode`, as
/// the connection's login (no role switch: the superuser of the testkit's cluster, so row level
/// security adds nothing), in a rolled-back transaction on a new session (no plan cached from
/// earlier runs), and collect the plans of everything it executed.
pub async fn explain(url: &str, sql: &str, params: &[String], mode: PlanMode) -> Result<PlanSummary, BoxError> {
    let (plans, ran) = logged_plans(url, "BEGIN", sql, None, params, mode).await?;
    ran?;
    if plans.is_empty() {
        return Err("auto_explain reported no plan (is auto_explain installed with the server?)".into());
    }
    with_partition_roots(url, summarize(plans)).await
}

/// A partitioned table's plan names the indexes of its partitions (`<partition>_<columns>_idx`):
/// each is also listed under the partitioned index it belongs to (`pg_partition_root`), the
/// name a path declares.
async fn with_partition_roots(url: &str, mut summary: PlanSummary) -> Result<PlanSummary, BoxError> {
    if summary.indexes.is_empty() {
        return Ok(summary);
    }
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    let driver = tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT i, pg_partition_root(to_regclass(i))::text FROM unnest($1::text[]) AS i",
            &[&summary.indexes],
        )
        .await?;
    drop(client);
    driver.await??;
    for row in rows {
        let (index, root): (String, Option<String>) = (row.get(0), row.get(1));
        let Some(root) = root.filter(|r| *r != index) else {
            continue;
        };
        if summary.ordered_indexes.contains(&index) {
            summary.ordered_indexes.push(root.clone());
        }
        summary.indexes.push(root);
    }
    Ok(summary)
}

/// The plans `auto_explain` logs while `sql` runs for `params` in `mode`, nested statements
/// included, in a transaction opened by `begin` (`BEGIN`, then any `SET LOCAL ROLE ...`) and
/// rolled back; prepared with `param_types` when given. Returns the plans logged and how the
/// statement ended: the plans of statements that finished before an error are kept.
pub async fn logged_plans(
    url: &str,
    begin: &str,
    sql: &str,
    param_types: Option<&[String]>,
    params: &[String],
    mode: PlanMode,
) -> Result<(Vec<Value>, Result<(), tokio_postgres::Error>), BoxError> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let (sender, mut notices) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(notice)) => {
                    // The receiver lives until the driver ends; a send cannot fail before that.
                    let _ = sender.send(notice.message().to_string());
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    let mode_sql = match mode {
        PlanMode::Custom => "force_custom_plan",
        PlanMode::Generic => "force_generic_plan",
    };
    let execute = if params.is_empty() {
        "EXECUTE quotedb_explained".to_string()
    } else {
        format!("EXECUTE quotedb_explained({})", params.join(", "))
    };
    let types = param_types
        .filter(|t| !t.is_empty())
        .map_or_else(String::new, |t| format!("({})", t.join(", ")));
    // Test-harness SQL assembled from the repository's own query text and literal parameters.
    let script = format!(
        "LOAD 'auto_explain'; \
         SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; \
         SET auto_explain.log_format = json; SET auto_explain.log_level = notice; \
         SET client_min_messages = notice; \
         {begin}; SET LOCAL plan_cache_mode = {mode_sql}; \
         PREPARE quotedb_explained{types} AS {sql}\n; {execute}; ROLLBACK;"
    );
    let ran = client.batch_execute(&script).await;
    drop(client);
    driver.await??;
    let mut plans = Vec::new();
    while let Ok(notice) = notices.try_recv() {
        // auto_explain's message: "duration: 0.042 ms  plan:\n{ \"Query Text\": ..., \"Plan\": ... }".
        let Some((_, json)) = notice.split_once("plan:\n") else {
            continue;
        };
        plans.push(serde_json::from_str(json)?);
    }
    Ok((plans, ran))
}
