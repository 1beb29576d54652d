//! `cargo xtask bench-report`: criterion's results as a graded table, printed and written to
//! docs/performance.md. Every path is compared with the `SELECT 1` floor measured in the same run
//! (only ratios mean anything on a shared machine), and the capacity group's calls/s at 1 to 64
//! concurrent callers (`target/criterion/quotedb-capacity.json`) as a table and Mermaid charts.

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
        goal: Some(6.0),
    },
    BenchPath {
        id: "quote_paths/rerate",
        label: "re-rate a quote",
        goal: Some(6.0),
    },
    BenchPath {
        id: "rate_paths/resolve",
        label: "rate resolution (reference data cache)",
        goal: Some(0.1),
    },
    BenchPath {
        id: "rate_paths/resolve_database",
        label: "rate resolution from the database (one round trip; the cache's fallback)",
        goal: None,
    },
    BenchPath {
        id: "rate_paths/price_pure",
        label: "price() alone (pure CPU)",
        goal: None,
    },
    BenchPath {
        id: "admin_paths/permission_check",
        label: "permission check (role hierarchy)",
        goal: Some(1.3),
    },
    BenchPath {
        id: "admin_paths/high_risk_page",
        label: "high-risk activity page",
        goal: Some(2.5),
    },
    BenchPath {
        id: "admin_paths/pending_rate_changes",
        label: "pending rate change requests",
        goal: Some(2.0),
    },
    BenchPath {
        id: "admin_paths/session_get",
        label: "session lookup (RLS, customer; one round trip)",
        goal: None,
    },
    BenchPath {
        id: "admin_paths/settings_read",
        label: "settings read (reference data cache)",
        goal: Some(0.1),
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
        goal: Some(4.0),
    },
    BenchPath {
        id: "pgbouncer/select_1",
        label: "SELECT 1 through PgBouncer (transaction pooling, simple protocol)",
        goal: None,
    },
    BenchPath {
        id: "pgbouncer/quote_by_number",
        label: "quote by number through PgBouncer (Db::connect_via_pgbouncer)",
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
    let scales: serde_json::Value = std::fs::read_to_string(criterion.join("quotedb-scale-curve.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let scale_of = |key: &str| {
        scales
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("{key} scale"), |s| format!("scale {s}"))
    };
    let mut curve = String::new();
    writeln!(
        curve,
        "| path | {} | {} | large ÷ small (goal ≤1.2×) |",
        scale_of("small"),
        scale_of("large")
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

    let pgbouncer_line = match (
        median_ns(&criterion, "pgbouncer/quote_by_number")?,
        median_ns(&criterion, "quote_paths/quote_by_number")?,
        median_ns(&criterion, "pgbouncer/select_1")?,
    ) {
        (Some(through), Some(direct), Some(select_1)) => format!(
            "\n\nThrough PgBouncer (transaction pooling, `Db::connect_via_pgbouncer`): quote by number {} against \
             {} direct (×{:.2}); `SELECT 1` {} against {} (×{:.2}).",
            human(through),
            human(direct),
            through / direct,
            human(select_1),
            human(floor),
            select_1 / floor
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

    let capacity = match std::fs::read_to_string(criterion.join("quotedb-capacity.json")) {
        Ok(text) => capacity_section(&serde_json::from_str(&text).context("parsing quotedb-capacity.json")?)?,
        Err(_) => "Not measured: `cargo bench -p quotedb-benches --bench paths -- capacity` measures it.\n".into(),
    };

    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let body = format!(
        "Measured {date} on {}; bench database at scale {scale}. Floor = `SELECT 1` through the same \
         sqlx pool ({}). Grades: A ≤1.5×, B ≤2×, C ≤4×, D ≤8×, F beyond.\n\n{table}\n{peer_line}{rows_line}{pgbouncer_line}\n\n\
         ### Scale curve\n\nThe same paths on two bench databases 10× apart, in one run (a scale-curve-only run, \
         `QUOTEDB_BENCH_SCALE=100 cargo bench -p quotedb-benches --bench paths -- scale_curve`, measures 10 → 100 \
         and leaves the rest of the report as it was).\n\n{curve}\n### Capacity\n\n{capacity}",
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

/// The capacity paths in the report's order: id in `quotedb-capacity.json`, label, goal (share of
/// the floor's calls/s at [`GOAL_CALLERS`]).
const CAPACITY_PATHS: &[(&str, &str, Option<f64>)] = &[
    ("select_1", "SELECT 1 (same pool), before the paths", None),
    ("quote_by_number", "quote by number", Some(0.5)),
    ("keyset_page_20", "keyset page of 20", Some(0.3)),
    ("create_with_rating", "create quote with rating", Some(0.1)),
    ("rerate", "re-rate a quote (one quote per caller)", None),
    ("permission_check", "permission check", None),
    (
        "notification_claim",
        "notification claim of 10 (pre-filled queue)",
        None,
    ),
    ("select_1_after", "SELECT 1 again, after the paths", None),
];

/// The floor at a concurrency is the mean of `SELECT 1` before and after the paths.
const CAPACITY_FLOORS: [&str; 2] = ["select_1", "select_1_after"];

/// The concurrency the capacity goals are set at.
const GOAL_CALLERS: u64 = 16;

/// A line of a chart: path id, colour, colour's name.
type ChartLine = (&'static str, &'static str, &'static str);

/// The charts: a title and the paths drawn, each with its line colour (xychart-beta has no legend:
/// the text under each chart names the colours). Reads and writes apart: on one linear axis the
/// writes would lie flat under the `SELECT 1` line.
const CAPACITY_CHARTS: &[(&str, &[ChartLine])] = &[
    (
        "Reads: calls/s by concurrent callers",
        &[
            ("select_1", "#000000", "black"),
            ("quote_by_number", "#1f77b4", "blue"),
            ("keyset_page_20", "#ff7f0e", "orange"),
            ("permission_check", "#2ca02c", "green"),
        ],
    ),
    (
        "Writes: calls/s by concurrent callers",
        &[
            ("create_with_rating", "#d62728", "red"),
            ("rerate", "#9467bd", "purple"),
            ("notification_claim", "#8c564b", "brown"),
        ],
    ),
];

fn capacity_label(id: &str) -> &str {
    CAPACITY_PATHS
        .iter()
        .find(|(p, _, _)| *p == id)
        .map_or(id, |(_, label, _)| label)
}

/// One measured capacity point, as the bench writes it.
struct CapacityPoint {
    path: String,
    callers: u64,
    connections: u64,
    calls_per_sec: f64,
    p50_ns: f64,
    p99_ns: f64,
    client_cpu: Option<f64>,
    server_cpu: Option<f64>,
    machine_cpu: Option<f64>,
    drained: bool,
}

fn capacity_points(doc: &serde_json::Value) -> anyhow::Result<Vec<CapacityPoint>> {
    let points = doc
        .get("points")
        .and_then(serde_json::Value::as_array)
        .context("capacity results: no points")?;
    points
        .iter()
        .map(|p| {
            let num = |key: &str| p.get(key).and_then(serde_json::Value::as_f64);
            Ok(CapacityPoint {
                path: p
                    .get("path")
                    .and_then(serde_json::Value::as_str)
                    .context("capacity point without a path")?
                    .to_string(),
                callers: p
                    .get("callers")
                    .and_then(serde_json::Value::as_u64)
                    .context("capacity point without callers")?,
                connections: p.get("connections").and_then(serde_json::Value::as_u64).unwrap_or(0),
                calls_per_sec: num("calls_per_sec").context("capacity point without calls_per_sec")?,
                p50_ns: num("p50_ns").unwrap_or(0.0),
                p99_ns: num("p99_ns").unwrap_or(0.0),
                client_cpu: num("client_cpu"),
                server_cpu: num("server_cpu"),
                machine_cpu: num("machine_cpu"),
                drained: p.get("drained").and_then(serde_json::Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

/// `12345.6` → `12,346`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A round axis maximum above `max` (1, 2 or 5 times a power of ten).
fn axis_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&top| top >= max)
        .unwrap_or(10.0 * magnitude)
}

/// The "Capacity" section from `quotedb-capacity.json`: a table per path and concurrency, the
/// goals at 16 callers, and calls/s against callers drawn as Mermaid `xychart-beta` charts.
pub fn capacity_section(doc: &serde_json::Value) -> anyhow::Result<String> {
    let points = capacity_points(doc)?;
    let mut callers: Vec<u64> = points.iter().map(|p| p.callers).collect();
    callers.sort_unstable();
    callers.dedup();
    let point = |path: &str, n: u64| points.iter().find(|p| p.path == path && p.callers == n);
    let floor = |n: u64| {
        let measured: Vec<f64> = CAPACITY_FLOORS
            .iter()
            .filter_map(|id| point(id, n))
            .map(|p| p.calls_per_sec)
            .collect();
        (!measured.is_empty()).then(|| measured.iter().sum::<f64>() / measured.len() as f64)
    };
    let share = |p: &CapacityPoint| floor(p.callers).filter(|&f| f > 0.0).map(|f| p.calls_per_sec / f);
    let cores = |c: Option<f64>| c.map_or_else(|| "?".to_string(), |c| format!("{c:.2}"));

    let num = |key: &str| doc.get(key).and_then(serde_json::Value::as_f64);
    let mut out = String::new();
    let when = doc
        .get("measured_at_unix")
        .and_then(serde_json::Value::as_i64)
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "?".into());
    writeln!(
        out,
        "Measured {when}; bench database at scale {}. Closed loop: each caller is a tokio task that calls \
         the path again as soon as its last call returned, on a {}-thread runtime in the bench process, \
         through one pool of min(callers, {}) connections (callers beyond it wait in the pool, and their \
         latency includes that wait). Each point: {} s warm-up, then the calls completed in a {} s window. \
         `SELECT 1` goes through the same pool at the same concurrency, before and after the paths; \
         the floor is their mean. The whole group took {:.0} s.\n",
        doc.get("scale").and_then(serde_json::Value::as_str).unwrap_or("?"),
        num("client_threads").unwrap_or(0.0),
        num("pool_cap").unwrap_or(0.0),
        num("warm_up_secs").unwrap_or(0.0),
        num("window_secs").unwrap_or(0.0),
        num("elapsed_secs").unwrap_or(0.0),
    )?;
    writeln!(
        out,
        "The bench process and the server share the same {} cores: CPU is in cores used during the \
         window, by the client (the bench process), the server (the postmaster and its children) and \
         the whole machine (other builds and tests included).\n",
        num("cores").unwrap_or(0.0)
    )?;
    writeln!(
        out,
        "| path | callers | pool | calls/s | p50 | p99 | % of SELECT 1 | CPU client / server / machine |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|")?;
    for (id, label, _) in CAPACITY_PATHS {
        for &n in &callers {
            let Some(p) = point(id, n) else {
                writeln!(out, "| {label} | {n} | | not measured | | | | |")?;
                continue;
            };
            writeln!(
                out,
                "| {label} | {n} | {} | {}{} | {} | {} | {} | {} / {} / {} |",
                p.connections,
                thousands(p.calls_per_sec),
                if p.drained { " (queue drained early)" } else { "" },
                human(p.p50_ns),
                human(p.p99_ns),
                share(p).map_or_else(String::new, |s| format!("{:.0} %", 100.0 * s)),
                cores(p.client_cpu),
                cores(p.server_cpu),
                cores(p.machine_cpu),
            )?;
        }
    }

    writeln!(
        out,
        "\nGoals at {GOAL_CALLERS} callers (calls/s as a share of `SELECT 1`'s):\n"
    )?;
    for (id, label, goal) in CAPACITY_PATHS {
        let Some(goal) = goal else { continue };
        let line = match point(id, GOAL_CALLERS).and_then(|p| share(p).map(|s| (p, s))) {
            Some((p, s)) => format!(
                "{} {label}: {:.0} % ({} calls/s; goal ≥{:.0} %)",
                if s >= *goal { "✓" } else { "✗" },
                100.0 * s,
                thousands(p.calls_per_sec),
                100.0 * goal
            ),
            None => format!("✗ {label}: not measured (goal ≥{:.0} %)", 100.0 * goal),
        };
        writeln!(out, "- {line}")?;
    }

    let axis = callers
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    for (title, lines) in CAPACITY_CHARTS {
        let drawn: Vec<_> = lines
            .iter()
            .filter_map(|&(id, colour, name)| {
                let values: Option<Vec<f64>> = callers
                    .iter()
                    .map(|&n| {
                        if id == CAPACITY_FLOORS[0] {
                            floor(n)
                        } else {
                            point(id, n).map(|p| p.calls_per_sec)
                        }
                    })
                    .collect();
                values.map(|v| (id, colour, name, v))
            })
            .collect();
        if drawn.is_empty() {
            continue;
        }
        let top = axis_max(drawn.iter().flat_map(|d| d.3.iter().copied()).fold(0.0, f64::max));
        let palette = drawn.iter().map(|d| d.1).collect::<Vec<_>>().join(", ");
        writeln!(out, "\n```mermaid")?;
        writeln!(
            out,
            "%%{{init: {{\"themeVariables\": {{\"xyChart\": {{\"plotColorPalette\": \"{palette}\"}}}}}}}}%%"
        )?;
        writeln!(out, "xychart-beta")?;
        writeln!(out, "    title \"{title}\"")?;
        writeln!(out, "    x-axis \"concurrent callers\" [{axis}]")?;
        writeln!(out, "    y-axis \"calls/s\" 0 --> {top:.0}")?;
        for (_, _, _, values) in &drawn {
            let values = values.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(", ");
            writeln!(out, "    line [{values}]")?;
        }
        writeln!(out, "```\n")?;
        let legend = drawn
            .iter()
            .map(|(id, _, name, _)| {
                if *id == CAPACITY_FLOORS[0] {
                    format!("{name}: SELECT 1, the floor (mean of before and after)")
                } else {
                    format!("{name}: {}", capacity_label(id))
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        writeln!(out, "Lines: {legend}.")?;
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> serde_json::Value {
        let point = |path: &str, callers: u64, calls_per_sec: f64| {
            serde_json::json!({
                "path": path, "callers": callers, "connections": callers.min(16), "calls": 1000,
                "seconds": 4.0, "calls_per_sec": calls_per_sec, "p50_ns": 150_000, "p99_ns": 2_500_000,
                "client_cpu": 0.5, "server_cpu": 1.25, "machine_cpu": 1.9, "drained": false,
            })
        };
        let mut points = Vec::new();
        for (callers, floor) in [(1, 10_000.0), (4, 30_000.0), (16, 28_000.0), (64, 27_000.0)] {
            points.push(point("select_1", callers, floor));
            points.push(point("quote_by_number", callers, floor * 0.6));
            points.push(point("keyset_page_20", callers, floor * 0.2));
            points.push(point("create_with_rating", callers, floor * 0.05));
            points.push(point("select_1_after", callers, floor));
        }
        serde_json::json!({
            "scale": "10", "callers": [1, 4, 16, 64], "pool_cap": 16, "warm_up_secs": 1.0,
            "window_secs": 4.0, "client_threads": 2, "cores": 2, "elapsed_secs": 150.0,
            "measured_at_unix": 1_800_000_000, "points": points,
        })
    }

    #[test]
    fn capacity_table_and_goals() {
        let section = capacity_section(&fixture()).expect("section");
        assert!(section.contains("Measured 2027-01-15 08:00 UTC; bench database at scale 10"));
        assert!(
            section.contains("| quote by number | 16 | 16 | 16,800 | 150.0 µs | 2.50 ms | 60 % | 0.50 / 1.25 / 1.90 |"),
            "{section}"
        );
        assert!(section.contains("| re-rate a quote (one quote per caller) | 4 | | not measured |"));
        assert!(section.contains("- ✓ quote by number: 60 % (16,800 calls/s; goal ≥50 %)"));
        assert!(section.contains("- ✗ keyset page of 20: 20 % (5,600 calls/s; goal ≥30 %)"));
        assert!(section.contains("- ✗ create quote with rating: 5 % (1,400 calls/s; goal ≥10 %)"));
    }

    #[test]
    fn capacity_charts_are_mermaid_xycharts() {
        let section = capacity_section(&fixture()).expect("section");
        let reads = "```mermaid\n\
            %%{init: {\"themeVariables\": {\"xyChart\": {\"plotColorPalette\": \"#000000, #1f77b4, #ff7f0e\"}}}}%%\n\
            xychart-beta\n    \
            title \"Reads: calls/s by concurrent callers\"\n    \
            x-axis \"concurrent callers\" [\"1\", \"4\", \"16\", \"64\"]\n    \
            y-axis \"calls/s\" 0 --> 50000\n    \
            line [10000, 30000, 28000, 27000]\n    \
            line [6000, 18000, 16800, 16200]\n    \
            line [2000, 6000, 5600, 5400]\n\
            ```\n";
        assert!(section.contains(reads), "{section}");
        // Paths without points at every concurrency are not drawn.
        assert!(section.contains(
            "Lines: black: SELECT 1, the floor (mean of before and after); blue: quote by number; orange: keyset page of 20."
        ));
        assert!(section.contains("Lines: red: create quote with rating."));
        assert!(section.contains("y-axis \"calls/s\" 0 --> 2000\n    line [500, 1500, 1400, 1350]"));
    }

    #[test]
    fn thousands_and_axis() {
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(axis_max(28_000.0), 50_000.0);
        assert_eq!(axis_max(1_500.0), 2_000.0);
        assert_eq!(axis_max(100.0), 100.0);
    }
}
