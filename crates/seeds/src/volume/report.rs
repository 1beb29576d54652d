//! What a load did: rows and time per table.

use std::fmt;
use std::time::Duration;

use super::Plan;

/// Rows loaded into one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableCount {
    /// Table name.
    pub table: &'static str,
    /// Rows COPY loaded (summed over the table's COPY steps).
    pub rows: u64,
    /// Time spent in its COPY steps.
    pub seconds: f64,
}

/// What a load did and how long it took.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The plan that was generated.
    pub plan: Plan,
    /// Rows per table, in load order (staging tables excluded).
    pub tables: Vec<TableCount>,
    /// Reference checks, states, roles and partitions (before the load transaction).
    pub prepare: Duration,
    /// BEGIN to the last statement of the load (COPYs and UPDATEs).
    pub load: Duration,
    /// COMMIT: the deferred constraint triggers run here.
    pub commit: Duration,
    /// ANALYZE of the loaded tables.
    pub analyze: Duration,
}

impl LoadReport {
    /// Rows loaded in all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Rows loaded into `table` (0 when not loaded).
    pub fn rows_of(&self, table: &str) -> u64 {
        self.tables.iter().filter(|t| t.table == table).map(|t| t.rows).sum()
    }

    /// Load + commit + analyze: what `psql` running the equivalent script does.
    pub fn load_total(&self) -> Duration {
        self.load + self.commit + self.analyze
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<24} {:>12} {:>9} {:>11}", "table", "rows", "seconds", "rows/s")?;
        for t in &self.tables {
            writeln!(
                f,
                "{:<24} {:>12} {:>9.2} {:>11.0}",
                t.table,
                t.rows,
                t.seconds,
                t.rows as f64 / t.seconds.max(1e-9)
            )?;
        }
        let total = self.load_total().as_secs_f64();
        writeln!(
            f,
            "{:<24} {:>12} {:>9.2} {:>11.0}",
            "total (load+commit+analyze)",
            self.rows(),
            total,
            self.rows() as f64 / total.max(1e-9)
        )?;
        write!(
            f,
            "prepare {:.2}s, load {:.2}s, commit (deferred checks) {:.2}s, analyze {:.2}s",
            self.prepare.as_secs_f64(),
            self.load.as_secs_f64(),
            self.commit.as_secs_f64(),
            self.analyze.as_secs_f64()
        )
    }
}

fn is_staging(table: &str) -> bool {
    table.starts_with("volume_")
}

pub(crate) fn count(tables: &mut Vec<TableCount>, table: &'static str, rows: u64, seconds: f64) {
    if is_staging(table) {
        return;
    }
    match tables.iter_mut().find(|t| t.table == table) {
        Some(t) => {
            t.rows += rows;
            t.seconds += seconds;
        }
        None => tables.push(TableCount { table, rows, seconds }),
    }
}
