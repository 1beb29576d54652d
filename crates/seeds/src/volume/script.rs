//! The psql script: the rows [`load`](super::load::load) would send, written to files, and a
//! script replaying the same transaction with `\copy`.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::PgConnection;

use super::actions::{ANALYZE, Action, actions};
use super::load::Bars;
use super::report::count;
use super::{TableCount, VolumeConfig, VolumeError, context, pipeline};

/// A psql script equivalent to [`load`](super::load::load), with its data files.
#[derive(Debug, Clone)]
pub struct Script {
    /// The script (`psql -v ON_ERROR_STOP=1 -f <path>`).
    pub path: PathBuf,
    /// Rows per table in the data files (staging tables excluded).
    pub tables: Vec<TableCount>,
    /// Bytes of data written.
    pub bytes: u64,
    /// Time spent generating the files.
    pub generate: Duration,
}

impl Script {
    /// Rows in all data files.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Prepare the database behind `conn` exactly as [`load`](super::load::load) does, then write to
/// `dir` the rows [`load`](super::load::load) would send (one binary COPY file per COPY) and a
/// psql script replaying the same transaction with `\copy` - for comparing the loader with psql
/// on the same rows.
pub async fn write_psql_script(conn: &mut PgConnection, cfg: &VolumeConfig, dir: &Path) -> Result<Script, VolumeError> {
    let ctx = context::prepare(conn, cfg).await?;
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let path = dir.join("load.sql");
    let mut script = String::from("\\set ON_ERROR_STOP on\nBEGIN;\n");
    let mut tables = Vec::new();
    let mut bars = Bars::default();
    let mut bytes = 0;
    for (n, action) in actions(&ctx.plan).into_iter().enumerate() {
        match action {
            Action::Copy(step) => {
                let file = dir.join(format!("{n:02}_{}.bin", step.table));
                let bar = bars.for_step(&step, cfg.progress);
                let result = pipeline::copy_to_file(&ctx, &step, File::create(&file)?, bar)?;
                bytes += std::fs::metadata(&file)?.len();
                count(&mut tables, step.table, result.rows, result.seconds);
                script.push_str(&format!(
                    "\\copy {} ({}) from '{}' with (format binary)\n",
                    step.table,
                    step.columns,
                    file.display()
                ));
            }
            Action::Sql { sql, .. } => {
                bars.finish();
                script.push_str(sql.trim_end());
                script.push_str(";\n");
            }
        }
    }
    bars.finish();
    script.push_str("COMMIT;\n");
    script.push_str(ANALYZE);
    script.push_str(";\n");
    File::create(&path)?.write_all(script.as_bytes())?;
    Ok(Script {
        path,
        tables,
        bytes,
        generate: started.elapsed(),
    })
}
