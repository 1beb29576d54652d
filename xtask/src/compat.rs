//! `cargo xtask compat --against <rev>`: does the release at `<rev>` still work against the
//! schema of this tree? Its queries are in its committed offline data (`.sqlx/`, and the library
//! crates' own `crates/*/.sqlx/`); each is described again (sqlx's own `describe`, what the query
//! macros ran when the data was written) against a database migrated to this tree's migrations.
//! A query that no longer prepares, a result column whose type changed, or one that was NOT NULL
//! and may now be NULL breaks that release during a rolling deploy: the expand/contract check.

use std::process::Command;

use anyhow::{Context as _, bail};
use sqlx::{Connection as _, Executor as _, PgConnection, SqlSafeStr as _};

/// A query as the offline data of a revision recorded it.
#[derive(Debug, Clone)]
pub struct StoredQuery {
    /// The file it came from (`<rev>:<path>`).
    pub file: String,
    /// The SQL text.
    pub query: String,
    /// Result columns: (name, type as sqlx serialises it).
    pub columns: Vec<(String, serde_json::Value)>,
    /// Whether each result column may be NULL (`None`: unknown).
    pub nullable: Vec<Option<bool>>,
}

/// A way the schema breaks a stored query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The offline data file of the query.
    pub file: String,
    /// The start of the query, for the report.
    pub query: String,
    /// What broke.
    pub problem: String,
}

/// Parse one offline data file (`query-<hash>.json`).
pub fn parse(file: &str, json: &str) -> anyhow::Result<StoredQuery> {
    let v: serde_json::Value = serde_json::from_str(json).with_context(|| format!("{file}: not JSON"))?;
    let query = v["query"]
        .as_str()
        .with_context(|| format!("{file}: no query"))?
        .to_string();
    let columns = v["describe"]["columns"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_string(),
                        c["type_info"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let nullable = v["describe"]["nullable"]
        .as_array()
        .map(|n| n.iter().map(serde_json::Value::as_bool).collect())
        .unwrap_or_default();
    Ok(StoredQuery {
        file: file.to_string(),
        query,
        columns,
        nullable,
    })
}

fn git(args: &[&str]) -> anyhow::Result<String> {
    let root = quotedb_testkit::workspace_root();
    let out = Command::new("git")
        .current_dir(&root)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every query of the offline data committed at `rev` (each query once).
pub fn queries_at(rev: &str) -> anyhow::Result<Vec<StoredQuery>> {
    let files = git(&["ls-tree", "-r", "--name-only", rev])?;
    let mut queries: Vec<StoredQuery> = Vec::new();
    for path in files
        .lines()
        .filter(|p| p.ends_with(".json") && (p.starts_with(".sqlx/") || p.contains("/.sqlx/")))
    {
        let text = git(&["show", &format!("{rev}:{path}")])?;
        let q = parse(&format!("{rev}:{path}"), &text)?;
        if !queries.iter().any(|known| known.query == q.query) {
            queries.push(q);
        }
    }
    if queries.is_empty() {
        bail!("{rev} has no offline query data (.sqlx/)");
    }
    Ok(queries)
}

/// Describe every query on `conn` and compare with what was stored.
pub async fn check(conn: &mut PgConnection, queries: &[StoredQuery]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for q in queries {
        let finding = |problem: String| Finding {
            file: q.file.clone(),
            query: q
                .query
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(90)
                .collect(),
            problem,
        };
        // sqlx's `describe` (used by the query macros and `cargo sqlx prepare`) prepares the
        // statement and infers nullability the way the stored data was inferred.
        let described = match (&mut *conn)
            .describe(sqlx::AssertSqlSafe(q.query.clone()).into_sql_str())
            .await
        {
            Ok(d) => d,
            Err(e) => {
                findings.push(finding(format!("no longer prepares: {e}")));
                continue;
            }
        };
        let now: Vec<(String, serde_json::Value)> = described
            .columns
            .iter()
            .map(|c| {
                use sqlx::{Column as _, TypeInfo as _};
                let ty = serde_json::to_value(c.type_info()).unwrap_or_else(|_| c.type_info().name().into());
                (c.name().to_string(), ty)
            })
            .collect();
        if now.len() != q.columns.len() {
            findings.push(finding(format!(
                "returns {} columns, the release reads {}",
                now.len(),
                q.columns.len()
            )));
            continue;
        }
        for (i, ((name, ty), (_, old_ty))) in now.iter().zip(&q.columns).enumerate() {
            if ty != old_ty {
                findings.push(finding(format!("column {name}: type {old_ty} is now {ty}")));
            }
            let was_not_null = q.nullable.get(i).copied().flatten() == Some(false);
            if was_not_null && described.nullable.get(i).copied().flatten() != Some(false) {
                findings.push(finding(format!(
                    "column {name} was NOT NULL and may now be NULL (the release decodes it as non-optional)"
                )));
            }
        }
    }
    findings
}

/// `compat --against rev`: the queries of `rev` described against a scratch database migrated to
/// this tree's migrations on `server`.
pub async fn compat(server: &quotedb_testkit::Server, rev: &str) -> anyhow::Result<(usize, Vec<Finding>)> {
    let queries = queries_at(rev)?;
    let scratch = format!("quotedb_compat_{}", std::process::id());
    server.drop_database(&scratch).await?;
    server.create_database_from(&scratch, &crate::migrated_recipe()).await?;
    let result = async {
        let mut conn = PgConnection::connect(&server.url_for(&scratch)).await?;
        let findings = check(&mut conn, &queries).await;
        conn.close().await?;
        anyhow::Ok(findings)
    }
    .await;
    server.drop_database(&scratch).await?;
    Ok((queries.len(), result?))
}
