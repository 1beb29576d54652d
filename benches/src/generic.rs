//! The generic plan of EVERY query the workspace compiles, not only the benchmarked ones: the
//! query text and parameter types of each `.sqlx/query-*.json` (the workspace's and each
//! self-contained crate's), prepared on the bench database with `plan_cache_mode =
//! force_generic_plan` and explained with NULL parameters (`EXPLAIN` without `ANALYZE` plans and
//! does not execute, so NULLs are fine, data-modifying statements included). A pooled prepared
//! statement ends up on that plan after five executions, whatever the values.
//!
//! What it checks: no plan reads a large table (at least [`LARGE_TABLE_ROWS`] rows; the partitions
//! of one partitioned table that a plan scans count together) with a sequential scan, unless the query's text
//! carries a written reason for that table ([`ALLOW_MARKER`]).
//!
//! Roles: the repository runs actor calls as `quotedb_app` (acting user in `app.user_id`) or as
//! `quotedb_system` ([`quotedb_repository::Actor`]), and row level security adds each role's
//! policies (filters, and subplans of their own) to the plan. A query is planned under both roles
//! ([`PlanRole`]); a role refused the statement (`insufficient_privilege`) never runs it and is
//! skipped. A query neither role may run is planned as the connection's login (no policies).
//!
//! What it leaves out: a query calling one of quotedb's plpgsql functions (`app_quote_by_number`,
//! `app_resolve_rates`, ...) plans as a Function Scan; the statements inside the function are
//! planned when the function runs, and a plain EXPLAIN does not show them. Those are checked
//! separately by [`function_plans`] (executed with `auto_explain`, see [`crate::explain`]), as far
//! as NULL arguments reach into the function: a statement after an early `RETURN` or `RAISE` on
//! NULL input is not planned there. Statements the repository sends without the query macros
//! (`sqlx::query(...)` with a string, `raw_sql`) have no `.sqlx` entry and are not checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::BoxError;
use crate::explain::{PlanMode, PlanSummary, logged_plans, summarize};
use crate::paths::LARGE_TABLE_ROWS;

/// The comment that allows a sequential scan of one large table in a query's generic plan:
/// `-- plan: seq scan of <table> allowed: <reason>`, on a line of its own in the query text (for an
/// inline `query!("...")`, inside the string, ended by `\n`). The reason is required; the table is
/// the one the plan names (a partitioned table's root name covers its partitions).
pub const ALLOW_MARKER: &str = "-- plan: seq scan of ";

/// One query of the offline query data.
#[derive(Debug, Clone)]
pub struct StoredQuery {
    /// The `.sqlx` file (relative to the workspace root) it was read from first.
    pub file: String,
    /// The query text, as compiled.
    pub query: String,
    /// The SQL type of each parameter (`uuid`, `text[]`, `coverage_type[]`, ...).
    pub param_types: Vec<String>,
}

impl StoredQuery {
    /// The first non-blank, non-comment line of the query, for messages.
    pub fn first_line(&self) -> &str {
        self.query
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("--"))
            .unwrap_or("")
    }

    /// The tables the query's text allows a sequential scan of ([`ALLOW_MARKER`]), with the reason.
    /// A marker without a reason is returned with an empty one (the check refuses it).
    pub fn allowed_seq_scans(&self) -> Vec<(String, String)> {
        self.query
            .lines()
            .filter_map(|line| {
                let rest = &line[line.find(ALLOW_MARKER)? + ALLOW_MARKER.len()..];
                let (table, reason) = rest.split_once(" allowed:").unwrap_or((rest, ""));
                Some((table.trim().to_string(), reason.trim().to_string()))
            })
            .collect()
    }
}

/// The `.sqlx` directories of the workspace: its own and each crate's (self-contained crates carry
/// their own offline data).
pub fn sqlx_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join(".sqlx")];
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        let mut crate_dirs: Vec<PathBuf> = crates
            .filter_map(Result::ok)
            .map(|e| e.path().join(".sqlx"))
            .filter(|d| d.is_dir())
            .collect();
        crate_dirs.sort();
        dirs.extend(crate_dirs);
    }
    dirs
}

/// Every distinct query of the workspace's `.sqlx/query-*.json` files (the same text compiled by
/// two crates is one query).
pub fn stored_queries(root: &Path) -> Result<Vec<StoredQuery>, BoxError> {
    let mut by_text: BTreeMap<String, StoredQuery> = BTreeMap::new();
    for dir in sqlx_dirs(root) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("query-") && n.ends_with(".json"))
            })
            .collect();
        files.sort();
        for path in files {
            let file = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path)?).map_err(|e| format!("{file}: {e}"))?;
            let query = doc
                .get("query")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{file}: no query"))?
                .to_string();
            let params = doc.pointer("/describe/parameters").unwrap_or(&Value::Null);
            // sqlx writes the types as a list, or as {"Left": [...]} (types) / {"Right": n} (count).
            let list = params.get("Left").unwrap_or(params);
            let param_types = match (list.as_array(), params.get("Right").and_then(Value::as_u64)) {
                (Some(types), _) => types
                    .iter()
                    .map(sql_type)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("{file}: unknown parameter type in {list}"))?,
                (None, Some(n)) => vec!["unknown".to_string(); usize::try_from(n)?],
                (None, None) => Vec::new(),
            };
            by_text.entry(query.clone()).or_insert(StoredQuery {
                file,
                query,
                param_types,
            });
        }
    }
    let mut queries: Vec<StoredQuery> = by_text.into_values().collect();
    queries.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(queries)
}

/// The SQL type of a parameter as sqlx stores it: a built-in by name (`"Uuid"`, `"TextArray"`) or
/// a custom type (`{"Custom": {"name": "coverage_type[]", ...}}`).
fn sql_type(stored: &Value) -> Option<String> {
    if let Some(name) = stored.as_str() {
        let lower = name.to_ascii_lowercase();
        return Some(match lower.strip_suffix("array") {
            Some(element) => format!("{element}[]"),
            None => lower,
        });
    }
    let custom = stored.get("Custom")?;
    let name = custom.get("name")?.as_str()?;
    let (base, array) = name.strip_suffix("[]").map_or((name, ""), |b| (b, "[]"));
    Some(format!("{}{array}", quotedb_testkit::quote_ident(base)))
}

/// The role a query is planned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanRole {
    /// `quotedb_app` acting as this user (an admin: the policies are the same for every user; the
    /// acting user only feeds their `(SELECT app_user_id())` subplans).
    App(uuid::Uuid),
    /// `quotedb_system`, the workers' and maintenance role.
    System,
    /// The connection's login, without a role switch (no row level security for a superuser).
    Login,
}

impl PlanRole {
    /// The statements that make a transaction run as this role (what `Actor::begin_statement`
    /// sends; the only interpolated value is a UUID).
    fn begin(self) -> String {
        match self {
            Self::App(user) => format!(
                "BEGIN; SET LOCAL ROLE {}; SELECT set_config('{}', '{user}', true)",
                quotedb_schema::base::APP_ROLE,
                quotedb_schema::base::ACTING_USER_SETTING
            ),
            Self::System => format!(
                "BEGIN; SET LOCAL ROLE {}; SELECT set_config('{}', '', true)",
                quotedb_schema::base::SYSTEM_ROLE,
                quotedb_schema::base::ACTING_USER_SETTING
            ),
            Self::Login => "BEGIN".to_string(),
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::App(_) => quotedb_schema::base::APP_ROLE,
            Self::System => quotedb_schema::base::SYSTEM_ROLE,
            Self::Login => "the login",
        }
    }
}

/// A connection that plans stored queries.
#[derive(Debug)]
pub struct Planner {
    client: Client,
    driver: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
}

/// Why a query has no plan under a role.
#[derive(Debug)]
pub enum PlanError {
    /// The role may not run it (`insufficient_privilege`): it is not that role's query.
    Refused(String),
    /// Anything else (the query no longer prepares, ...).
    Failed(String),
}

impl Planner {
    /// Connect to `url`.
    pub async fn connect(url: &str) -> Result<Self, BoxError> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        let driver = tokio::spawn(connection);
        Ok(Self { client, driver })
    }

    /// Close the connection.
    pub async fn close(self) -> Result<(), BoxError> {
        drop(self.client);
        self.driver.await??;
        Ok(())
    }

    /// The generic plan of `q` as `role`, in a rolled-back transaction.
    pub async fn generic_plan(&self, q: &StoredQuery, role: PlanRole) -> Result<PlanSummary, PlanError> {
        let types = if q.param_types.is_empty() {
            String::new()
        } else {
            format!("({})", q.param_types.join(", "))
        };
        let nulls = if q.param_types.is_empty() {
            String::new()
        } else {
            format!("({})", vec!["NULL"; q.param_types.len()].join(", "))
        };
        // Test-harness SQL assembled from the workspace's own compiled query text. The newline
        // ends a trailing `--` comment of the query.
        let setup = format!(
            "{}; SET LOCAL plan_cache_mode = force_generic_plan; PREPARE quotedb_generic{types} AS {}\n",
            role.begin(),
            q.query
        );
        let result = async {
            self.client.batch_execute(&setup).await?;
            self.client
                .simple_query(&format!("EXPLAIN (FORMAT JSON) EXECUTE quotedb_generic{nulls}"))
                .await
        }
        .await;
        let cleanup = self.client.batch_execute("ROLLBACK; DEALLOCATE ALL").await;
        let messages = result.map_err(|e| {
            let text = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
                PlanError::Refused(text)
            } else {
                PlanError::Failed(text)
            }
        })?;
        cleanup.map_err(|e| PlanError::Failed(e.to_string()))?;
        let json = messages
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .ok_or_else(|| PlanError::Failed("EXPLAIN returned no row".into()))?;
        let plans: Vec<Value> = serde_json::from_str(&json).map_err(|e| PlanError::Failed(e.to_string()))?;
        Ok(summarize(plans))
    }

    /// The names of quotedb's plpgsql functions (trigger functions aside): a query calling one
    /// plans as a Function Scan or a Result, without the statements inside.
    pub async fn plpgsql_functions(&self) -> Result<Vec<String>, BoxError> {
        let rows = self
            .client
            .simple_query(
                "SELECT DISTINCT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                 WHERE l.lanname = 'plpgsql' AND p.pronamespace = 'public'::regnamespace
                   AND p.prorettype <> 'trigger'::regtype ORDER BY 1",
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect())
    }

    /// The planner's row counts of the schema's tables, partitions with their partitioned table.
    pub async fn table_sizes(&self) -> Result<TableSizes, BoxError> {
        let rows = self
            .client
            .simple_query(
                "SELECT c.relname, coalesce(r.relname, c.relname), greatest(c.reltuples, 0)::float8
                 FROM pg_class c
                 LEFT JOIN LATERAL pg_partition_root(c.oid) pr(oid) ON c.relispartition
                 LEFT JOIN pg_class r ON r.oid = pr.oid
                 WHERE c.relkind IN ('r', 'm') AND c.relnamespace = 'public'::regnamespace",
            )
            .await?;
        let mut sizes = TableSizes::default();
        for m in rows {
            if let SimpleQueryMessage::Row(row) = m {
                let (Some(rel), Some(root), Some(n)) = (row.get(0), row.get(1), row.get(2)) else {
                    continue;
                };
                sizes.tables.insert(rel.to_string(), (root.to_string(), n.parse()?));
            }
        }
        Ok(sizes)
    }
}

/// Row counts by relation, and the partitioned table each partition belongs to.
#[derive(Debug, Clone, Default)]
pub struct TableSizes {
    /// relation -> (its table: itself, or the partitioned table of a partition; its rows).
    tables: BTreeMap<String, (String, f64)>,
}

impl TableSizes {
    /// The table a relation belongs to (itself, or the partitioned table of a partition).
    pub fn table_of<'a>(&'a self, relation: &'a str) -> &'a str {
        self.tables.get(relation).map_or(relation, |(t, _)| t.as_str())
    }

    /// The rows of a relation (one partition: its own).
    pub fn rows(&self, relation: &str) -> f64 {
        self.tables.get(relation).map_or(0.0, |(_, n)| *n)
    }
}

/// The large tables a plan reads with sequential scans, with the rows read that way: the
/// partitions of one partitioned table scanned by the plan count together, under its name (a
/// generic plan that cannot prune scans them all).
pub fn large_seq_scans(plan: &PlanSummary, sizes: &TableSizes) -> Vec<(String, f64)> {
    let mut relations: Vec<&str> = plan.seq_scans.iter().map(|(r, _)| r.as_str()).collect();
    relations.sort_unstable();
    relations.dedup();
    let mut tables: BTreeMap<&str, f64> = BTreeMap::new();
    for relation in relations {
        *tables.entry(sizes.table_of(relation)).or_insert(0.0) += sizes.rows(relation);
    }
    tables
        .into_iter()
        .filter(|(_, rows)| *rows >= LARGE_TABLE_ROWS)
        .map(|(t, rows)| (t.to_string(), rows))
        .collect()
}

/// The tables a plan reads with a sequential scan, large or not (a reason naming a table the plan
/// no longer scans is stale).
pub fn seq_scanned_tables(plan: &PlanSummary, sizes: &TableSizes) -> Vec<String> {
    let mut tables: Vec<String> = plan
        .seq_scans
        .iter()
        .map(|(relation, _)| sizes.table_of(relation).to_string())
        .collect();
    tables.sort();
    tables.dedup();
    tables
}

/// Whether `query` calls the function `name` (its name as a word, followed by `(`).
pub fn calls(query: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    query.match_indices(name).any(|(at, _)| {
        let before = query[..at].chars().next_back();
        let after = query[at + name.len()..].trim_start();
        !before.is_some_and(ident) && after.starts_with('(')
    })
}

/// The plans of the statements run inside the plpgsql functions `q` calls: `q` is executed (not
/// only explained) with NULL arguments as `role`, with a forced generic plan (plpgsql caches its
/// statements' plans like prepared statements), in a rolled-back transaction, and `auto_explain`
/// logs every nested statement. A function that raises on NULL input stops there: the plans of
/// the statements it finished are returned, with the error.
pub async fn function_plans(
    url: &str,
    q: &StoredQuery,
    role: PlanRole,
) -> Result<(PlanSummary, Option<String>), BoxError> {
    // The acting user of an `app_*` function is its first argument (NULL: the system actor, which
    // would switch the function to quotedb_system): as quotedb_app, pass the role's user.
    let mut args = vec!["NULL".to_string(); q.param_types.len()];
    if let (PlanRole::App(user), Some("uuid")) = (role, q.param_types.first().map(String::as_str)) {
        args[0] = format!("'{user}'");
    }
    let (plans, ran) = logged_plans(
        url,
        &role.begin(),
        &q.query,
        Some(&q.param_types),
        &args,
        PlanMode::Generic,
    )
    .await?;
    let error = ran.err().map(|e| {
        e.as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_string())
    });
    Ok((summarize(plans), error))
}
