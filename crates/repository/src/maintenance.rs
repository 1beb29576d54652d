//! Maintenance the platform's scheduler runs as the system role: the monthly partitions of
//! `audit_logs`, `analytics_events` and `admin_activity_logs` (migration 0021's
//! `maintain_partitions()` and `partition_status()`).
//!
//! [`Maintenance::run`] is one call, one transaction: strays caught by a DEFAULT partition move
//! into their month's new partition (the default ends empty), the partitions of the current month
//! and the next `partitions.months_ahead` (setting, 3) exist, and the months older than the table's
//! retention setting leave it (`analytics.retention_months`: dropped; `audit.retention_months` and
//! `admin_activity.retention_months`: detached, kept as append-only tables for archiving). Run it
//! daily (at least monthly); running it twice changes nothing the second time.

use sqlx::types::time::OffsetDateTime;

use crate::Db;
use crate::actor::{Actor, begin_as};

/// What the maintenance did to one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionAction {
    /// Rows found in the DEFAULT partition were moved into their month's new partition.
    MovedStrays,
    /// A month's partition was created ahead.
    Created,
    /// A month past retention was detached and kept as a standalone table (audit trails).
    Detached,
    /// A month past retention was detached and dropped (analytics).
    Dropped,
}

impl PartitionAction {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "moved_strays" => Self::MovedStrays,
            "created" => Self::Created,
            "detached" => Self::Detached,
            "dropped" => Self::Dropped,
            _ => return None,
        })
    }
}

/// One action of [`Maintenance::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionChange {
    /// The partitioned table.
    pub table: String,
    /// What happened.
    pub action: PartitionAction,
    /// The partition (table name).
    pub partition: String,
    /// Its lower bound; `None` for `MINVALUE` (the table's rows from before partitioning).
    pub from: Option<OffsetDateTime>,
    /// Its upper bound.
    pub to: Option<OffsetDateTime>,
    /// Rows moved ([`PartitionAction::MovedStrays`]), 0 for a created partition, `None` when
    /// not counted (detached or dropped months).
    pub rows: Option<i64>,
}

/// The state of one partitioned table, from [`Maintenance::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionStatus {
    /// The partitioned table.
    pub table: String,
    /// Partitions attached, the DEFAULT partition aside.
    pub partitions: i32,
    /// Upper bound of the newest partition: rows from there on fall into the DEFAULT partition.
    pub runway_to: Option<OffsetDateTime>,
    /// Whole months after the current one the partitions cover (3 after maintenance by default).
    pub runway_months: Option<i32>,
    /// Rows in the DEFAULT partition (0 when healthy).
    pub default_rows: i64,
}

/// Errors of the maintenance API.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// The database answered an action this version does not know.
    #[error("unknown partition action {0:?}")]
    UnknownAction(String),
    /// Any other database error (a lock not obtained within 5 s, a setting out of range, a
    /// login without `quotedb_system`).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The maintenance API, from [`Db::maintenance`].
#[derive(Debug, Clone, Copy)]
pub struct Maintenance<'a> {
    db: &'a Db,
}

impl<'a> Maintenance<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Run the partition maintenance as the system role (the pool's login must hold
    /// `quotedb_system`) with the clock at `now` (`None`: the database's `now()`); returns what
    /// it changed, nothing when all was in order.
    #[tracing::instrument(skip_all, err)]
    pub async fn run(&self, now: Option<OffsetDateTime>) -> Result<Vec<PartitionChange>, MaintenanceError> {
        let mut tx = begin_as(self.db, &Actor::System).await?;
        let rows = sqlx::query!(
            r#"SELECT table_name AS "table_name!", action AS "action!", partition_name AS "partition_name!",
                      CASE WHEN isfinite(range_from) THEN range_from END AS range_from,
                      CASE WHEN isfinite(range_to) THEN range_to END AS range_to, row_count
               FROM maintain_partitions(coalesce($1, now()))"#,
            now,
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(PartitionChange {
                    action: PartitionAction::parse(&r.action).ok_or(MaintenanceError::UnknownAction(r.action))?,
                    table: r.table_name,
                    partition: r.partition_name,
                    from: r.range_from,
                    to: r.range_to,
                    rows: r.row_count,
                })
            })
            .collect()
    }

    /// Each partitioned table's runway and DEFAULT partition rows at `now` (`None`: `now()`).
    #[tracing::instrument(skip_all, err)]
    pub async fn status(&self, now: Option<OffsetDateTime>) -> Result<Vec<PartitionStatus>, MaintenanceError> {
        let mut tx = begin_as(self.db, &Actor::System).await?;
        let rows = sqlx::query!(
            r#"SELECT table_name AS "table_name!", partitions AS "partitions!",
                      CASE WHEN isfinite(runway_to) THEN runway_to END AS runway_to, runway_months,
                      default_rows AS "default_rows!"
               FROM partition_status(coalesce($1, now()))"#,
            now,
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| PartitionStatus {
                table: r.table_name,
                partitions: r.partitions,
                runway_to: r.runway_to,
                runway_months: r.runway_months,
                default_rows: r.default_rows,
            })
            .collect())
    }
}
