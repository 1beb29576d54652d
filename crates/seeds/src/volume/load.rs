//! The load: [`load`] runs the steps of the data set in one transaction against a live database.

use std::sync::Arc;
use std::time::Instant;

use sqlx::{Connection as _, PgConnection};

use super::actions::{ANALYZE, Action, actions};
use super::pipeline::{self, CopyStep};
use super::report::count;
use super::{LoadReport, Plan, VolumeConfig, VolumeError, context};

/// One progress bar per label: consecutive steps of one table share it.
#[derive(Default)]
pub(crate) struct Bars {
    current: Option<(String, indicatif::ProgressBar)>,
}

impl Bars {
    pub(crate) fn for_step(&mut self, step: &CopyStep, visible: bool) -> indicatif::ProgressBar {
        if let Some((label, bar)) = &self.current
            && *label == step.label
        {
            return bar.clone();
        }
        self.finish();
        let bar = pipeline::bar(&step.label, step.units, visible);
        self.current = Some((step.label.clone(), bar.clone()));
        bar
    }

    pub(crate) fn finish(&mut self) {
        if let Some((_, bar)) = self.current.take() {
            bar.finish();
        }
    }
}

/// Generate and load the volume data set into the database behind `conn` (migrated; reference
/// seeds optional - the states, ZIPs and admin roles it needs are created when missing).
///
/// Runs as the connection's role: a superuser, or a login holding `quotedb_owner` (which holds
/// `quotedb_system`, whose policies let it write every row of the FORCEd tables).
pub async fn load(conn: &mut PgConnection, cfg: &VolumeConfig) -> Result<LoadReport, VolumeError> {
    let started = Instant::now();
    let ctx = Arc::new(context::prepare(conn, cfg).await?);
    let prepare = started.elapsed();

    let started = Instant::now();
    let mut tables = Vec::new();
    let mut bars = Bars::default();
    let mut tx = conn.begin().await?;
    for action in actions(&ctx.plan) {
        match action {
            Action::Copy(step) => {
                let bar = bars.for_step(&step, cfg.progress);
                let result = pipeline::copy_live(&mut tx, &ctx, &step, bar).await?;
                count(&mut tables, step.table, result.rows, result.seconds);
            }
            Action::Sql { step, sql } => {
                bars.finish();
                let t = Instant::now();
                // Statements on temporary staging tables: sqlx's macros cannot check them at
                // compile time (the tables exist only inside this transaction).
                sqlx::raw_sql(sql)
                    .execute(&mut *tx)
                    .await
                    .map_err(|source| VolumeError::Statement { step, source })?;
                tracing::debug!(step, seconds = t.elapsed().as_secs_f64(), "volume statement");
            }
        }
    }
    bars.finish();
    let load = started.elapsed();
    let started = Instant::now();
    tx.commit().await.map_err(|source| VolumeError::Statement {
        step: "commit (deferred constraint checks)",
        source,
    })?;
    let commit = started.elapsed();
    let started = Instant::now();
    sqlx::raw_sql(ANALYZE).execute(&mut *conn).await?;
    let analyze = started.elapsed();
    Ok(LoadReport {
        plan: ctx.plan,
        tables,
        prepare,
        load,
        commit,
        analyze,
    })
}

/// Only the preparation [`load`] does before its transaction (states, admin roles, audit_logs
/// partitions; refuses a database already holding the data set): what a database needs before
/// the script of [`write_psql_script`](super::write_psql_script) can run in it.
pub async fn prepare(conn: &mut PgConnection, cfg: &VolumeConfig) -> Result<Plan, VolumeError> {
    Ok(context::prepare(conn, cfg).await?.plan)
}
