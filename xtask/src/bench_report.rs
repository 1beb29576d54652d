//! `cargo xtask bench-report`: criterion's results as a graded table, printed and written to
//! docs/performance.md. Every path is compared with the `SELECT 1` floor measured in the same run
//! (only ratios mean anything on a shared machine).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// One benchmarked path: criterion group/function, what it is, its goal (ratio to the floor).
struct BenchPath {
    id: &'static str,
    label: &'static str,
    goal: Option<f64>,
}

const FLOOR: &str = "floor/sqlx_select_1";

const PATHS: &[BenchPath] = &[
    BenchPath {
        id: "floor/sqlx_select_1",
        label: "SELECT 1 (sqlx pool) — the floor",
        goal: None,
    },
    BenchPath {
        id: "floor/sqlx_select_1_held_connection",
        label: "SELECT 1 (sqlx, one held connection: no release ping)",
        goal: None,
    },
    BenchPath {
        id: "floor/tokio_postgres_select_1",
        label: "SELECT 1 (tokio-postgres peer)",
        goal: None,
    },
    BenchPath {
        id: "floor/sqlx_21_quote_rows",
        label: "21 quote rows, plain query (sqlx): the row floor of a page",
        goal: None,
    },
    BenchPath {
        id: "floor/tokio_postgres_21_quote_rows",
        label: "21 quote rows, plain query (tokio-postgres peer)",
        goal: None,
    },
    BenchPath {
        id: "quote_paths/quote_by_number",
        label: "quote by number (RLS, customer)",
        goal: Some(1.5),
    },
    BenchPath {
        id: "quote_paths/keyset_page_20",
        label: "keyset page of 20 (RLS, customer)",
        goal: Some(2.0),
    },
    BenchPath {
        id: "quote_paths/create_with_rating",
        label: "create quote with rating",
        goal: Some(4.0),
    },
    BenchPath {
        id: "quote_paths/rerate",
        label: "re-rate a quote",
        goal: None,
    },
    BenchPath {
        id: "rate_paths/resolve",
        label: "rate resolution (one round trip)",
        goal: Some(1.5),
    },
    BenchPath {
        id: "rate_paths/price_pure",
        label: "price() alone (pure CPU)",
        goal: None,
    },
    BenchPath {
        id: "admin_paths/permission_check",
        label: "permission check (role hierarchy)",
        goal: Some(1.5),
    },
    BenchPath {
        id: "admin_paths/high_risk_page",
        label: "high-risk activity page",
        goal: Some(2.0),
    },
    BenchPath {
        id: "admin_paths/pending_rate_changes",
        label: "pending rate change requests",
        goal: Some(2.0),
    },
    BenchPath {
        id: "admin_paths/settings_read",
        label: "settings read",
        goal: None,
    },
    BenchPath {
        id: "analytics_paths/metrics_upsert",
        label: "metrics upsert",
        goal: None,
    },
    BenchPath {
        id: "analytics_paths/dashboard_24h",
        label: "24-hour dashboard aggregation",
        goal: None,
    },
    BenchPath {
        id: "analytics_paths/notification_claim_batch",
        label: "notification claim batch",
        goal: None,
    },
    BenchPath {
        id: "testkit/seeded_test_db",
        label: "a test's own seeded database (TestDb: pre-cloned claim + first connection; goal 10 ms absolute)",
        goal: None,
    },
];

/// The scale-curve pairs: (small, large) criterion ids.
const CURVE: &[(&str, &str, &str)] = &[
    (
        "quote by number",
        "scale_curve/quote_by_number_small",
        "scale_curve/quote_by_number_large",
    ),
    (
        "keyset page of 20",
        "scale_curve/keyset_page_20_small",
        "scale_curve/keyset_page_20_large",
    ),
    (
        "permission check",
        "scale_curve/permission_check_small",
        "scale_curve/permission_check_large",
    ),
];

fn grade(ratio: f64) -> &'static str {
    match ratio {
        r if r <= 1.5 => "A",
        r if r <= 2.0 => "B",
        r if r <= 4.0 => "C",
        r if r <= 8.0 => "D",
        _ => "F",
    }
}

/// Median point estimate in nanoseconds of `target/criterion/<id>/new/estimates.json`.
fn median_ns(criterion: &Path, id: &str) -> anyhow::Result<Option<f64>> {
    let path = criterion.join(id).join("new/estimates.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(json
        .pointer("/median/point_estimate")
        .and_then(serde_json::Value::as_f64))
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.1} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| quotedb_testkit::workspace_root().join("target"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB")
}

/// Build the report from criterion's results; write docs/performance.md unless `print_only`.
pub fn bench_report(print_only: bool) -> anyhow::Result<()> {
    let criterion = target_dir().join("criterion");
    let Some(floor) = median_ns(&criterion, FLOOR)? else {
        bail!(
            "no criterion results for {FLOOR} under {}: run `cargo bench` first",
            criterion.display()
        );
    };
    let index_paths: serde_json::Value = std::fs::read_to_string(criterion.join("quotedb-index-paths.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let scale = index_paths
        .get("scale")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?")
        .to_string();

    let mut table = String::new();
    writeln!(table, "| path | median | × floor | goal | grade | index used |")?;
    writeln!(table, "|---|---:|---:|---:|:-:|---|")?;
    for p in PATHS {
        let Some(ns) = median_ns(&criterion, p.id)? else {
            writeln!(table, "| {} | not measured | | | | |", p.label)?;
            continue;
        };
        let ratio = ns / floor;
        let goal = p.goal.map(|g| format!("≤{g}×")).unwrap_or_default();
        let met = match p.goal {
            Some(g) if ratio <= g => " ✓",
            Some(_) => " ✗",
            None => "",
        };
        let index = index_paths
            .get("paths")
            .and_then(|m| m.get(p.id))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let grade = if p.id.ends_with("price_pure") || p.id.starts_with("floor/") {
            ""
        } else {
            grade(ratio)
        };
        writeln!(
            table,
            "| {} | {} | {ratio:.2} | {goal}{met} | {grade} | {index} |",
            p.label,
            human(ns)
        )?;
    }
    let mut curve = String::new();
    writeln!(
        curve,
        "| path | small scale | large scale (10×) | large ÷ small (goal ≤1.2×) |"
    )?;
    writeln!(curve, "|---|---:|---:|---:|")?;
    for (label, small, large) in CURVE {
        match (median_ns(&criterion, small)?, median_ns(&criterion, large)?) {
            (Some(s), Some(l)) => {
                let r = l / s;
                let met = if r <= 1.2 { "✓" } else { "✗" };
                writeln!(curve, "| {label} | {} | {} | {r:.2} {met} |", human(s), human(l))?;
            }
            _ => writeln!(curve, "| {label} | not measured | | |")?,
        }
    }
    let peer = median_ns(&criterion, "floor/tokio_postgres_select_1")?;
    let held = median_ns(&criterion, "floor/sqlx_select_1_held_connection")?;
    let peer_line = match (peer, held) {
        (Some(p), Some(h)) => format!(
            "sqlx `SELECT 1` ÷ tokio-postgres `SELECT 1` (goal ≤1.3): {:.2} through the pool, {:.2} on a held \
             connection (the difference is the pool's ping on release, see below).",
            floor / p,
            h / p
        ),
        (Some(p), None) => format!(
            "sqlx `SELECT 1` ÷ tokio-postgres `SELECT 1` = {:.2} (goal ≤1.3).",
            floor / p
        ),
        _ => String::new(),
    };

    let rows_line = match (
        median_ns(&criterion, "floor/sqlx_21_quote_rows")?,
        median_ns(&criterion, "floor/tokio_postgres_21_quote_rows")?,
        median_ns(&criterion, "quote_paths/keyset_page_20")?,
    ) {
        (Some(sqlx_rows), Some(peer_rows), Some(page)) => format!(
            "\n\nThe same 21 quote rows by a plain query: sqlx ÷ tokio-postgres = {:.2}; the keyset page ÷ \
             this row floor = {:.2} (what the one-round-trip function and the policies add).",
            sqlx_rows / peer_rows,
            page / sqlx_rows
        ),
        _ => String::new(),
    };

    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let body = format!(
        "Measured {date} on {}; bench database at scale {scale}. Floor = `SELECT 1` through the same \
         sqlx pool ({}). Grades: A ≤1.5×, B ≤2×, C ≤4×, D ≤8×, F beyond.\n\n{table}\n{peer_line}{rows_line}\n\n\
         ### Scale curve\n\n{curve}",
        machine(),
        human(floor)
    );
    let body = format!("{body}{}", bulk_writes_section(&criterion)?);
    println!("{body}");
    if !print_only {
        let root = quotedb_testkit::workspace_root();
        let template = std::fs::read_to_string(root.join("docs/performance.template.md")).unwrap_or_else(|_| {
            "# quotedb — performance\n\nGenerated by `cargo xtask bench-report` from `cargo bench`.\n\n{{REPORT}}\n"
                .into()
        });
        std::fs::write(root.join("docs/performance.md"), template.replace("{{REPORT}}", &body))
            .context("writing docs/performance.md")?;
        eprintln!("xtask: wrote docs/performance.md");
    }
    Ok(())
}

/// Goal of the batch insert paths, rows per second.
const BULK_GOAL_ROWS_PER_S: f64 = 150_000.0;

/// The batch insert paths of the highest-volume writes (benches `bulk/*`, one statement of
/// `rows` rows per iteration): criterion group/function, rows per batch, label.
const BULK: &[(&str, f64, &str)] = &[
    (
        "bulk/analytics_events_batch_1000",
        1_000.0,
        "analytics events, `Events::record_batch` (1,000 rows)",
    ),
    (
        "bulk/audit_logs_batch_1000",
        1_000.0,
        "audit rows, `AuditLog::append_batch` via `append_audit_logs()` (1,000 rows)",
    ),
];

/// The "Bulk writes" section: rows per second of each batch path against the goal.
fn bulk_writes_section(criterion: &Path) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "\n\n### Bulk writes\n")?;
    writeln!(
        out,
        "| path | median per batch | rows/s | goal ≥{:.0}k rows/s |",
        BULK_GOAL_ROWS_PER_S / 1_000.0
    )?;
    writeln!(out, "|---|---:|---:|:-:|")?;
    for (id, rows, label) in BULK {
        match median_ns(criterion, id)? {
            Some(ns) if ns > 0.0 => {
                let per_s = rows / (ns / 1e9);
                let met = if per_s >= BULK_GOAL_ROWS_PER_S { "✓" } else { "✗" };
                writeln!(out, "| {label} | {} | {:.0}k | {met} |", human(ns), per_s / 1_000.0)?;
            }
            _ => writeln!(out, "| {label} | not measured | | |")?,
        }
    }
    Ok(out)
}
