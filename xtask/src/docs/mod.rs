//! `cargo xtask docs [--check]`: two documents generated from the live catalog of one freshly
//! migrated scratch database:
//!
//! - docs/database_schema.md, merged into the hand-written `docs/database_schema.template.md` (its
//!   `{{GENERATED}}` line is replaced);
//! - docs/security.md, the hand-written [`SECURITY_PREAMBLE`] (role model, trust model,
//!   deployment) followed by the role × table × command matrix, the SECURITY DEFINER functions and
//!   every policy.
//!
//! Catalog queries are dynamic SQL: xtask reads pg_catalog, which the compile-time checked macros
//! gain nothing from. Every generated list is ordered by name, so the output is deterministic.
mod schema;
mod security;
mod security_preamble;

use anyhow::{Context as _, bail};
use quotedb_testkit::Server;
use sqlx::{Connection as _, PgConnection};

use schema::generate;
use security::generate_security;
pub use security_preamble::SECURITY_PREAMBLE;

const TEMPLATE: &str = "docs/database_schema.template.md";
const OUTPUT: &str = "docs/database_schema.md";
const SECURITY_OUTPUT: &str = "docs/security.md";

/// Generate (or check) docs/database_schema.md and docs/security.md.
pub async fn docs(server: &Server, check: bool) -> anyhow::Result<()> {
    let root = quotedb_testkit::workspace_root();
    let scratch = format!("quotedb_docs_{}", std::process::id());
    eprintln!("xtask: reading the catalog of a freshly migrated scratch database ({scratch})");
    server.create_database_from(&scratch, &crate::migrated_recipe()).await?;
    let generated = async {
        let mut conn = PgConnection::connect(&server.url_for(&scratch)).await?;
        let schema = generate(&mut conn).await;
        let security = generate_security(&mut conn).await;
        conn.close().await?;
        anyhow::Ok((schema?, security?))
    }
    .await;
    server.drop_database(&scratch).await?;
    let (schema, security) = generated?;
    let template = std::fs::read_to_string(root.join(TEMPLATE)).with_context(|| format!("reading {TEMPLATE}"))?;
    if !template.contains("{{GENERATED}}") {
        bail!("{TEMPLATE} has no {{{{GENERATED}}}} line to replace");
    }
    let outputs = [
        (OUTPUT, template.replace("{{GENERATED}}", schema.trim_end())),
        (
            SECURITY_OUTPUT,
            format!("{}\n\n{}\n", SECURITY_PREAMBLE.trim(), security.trim_end()),
        ),
    ];
    if check {
        let stale: Vec<&str> = outputs
            .iter()
            .filter(|(file, doc)| std::fs::read_to_string(root.join(file)).unwrap_or_default() != *doc)
            .map(|(file, _)| *file)
            .collect();
        if !stale.is_empty() {
            let verb = if stale.len() == 1 { "is" } else { "are" };
            bail!(
                "{} {verb} stale: run `cargo xtask docs` and commit",
                stale.join(" and ")
            );
        }
        for (file, _) in &outputs {
            eprintln!("xtask: {file} is up to date");
        }
    } else {
        for (file, doc) in &outputs {
            std::fs::write(root.join(file), doc).with_context(|| format!("writing {file}"))?;
            eprintln!("xtask: wrote {file}");
        }
    }
    Ok(())
}

async fn rows(conn: &mut PgConnection, sql: &'static str) -> anyhow::Result<Vec<Vec<String>>> {
    let raw: Vec<serde_json::Value> = sqlx::query_scalar(sql)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| sql)?;
    Ok(raw
        .into_iter()
        .map(|v| match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect())
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
