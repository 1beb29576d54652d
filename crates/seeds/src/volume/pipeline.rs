//! Streaming a generated table into COPY (or into a file for `psql \copy`).
//!
//! A generator runs on its own thread and fills ~1 MiB buffers of binary COPY data; full
//! buffers go through a bounded channel (a few buffers deep) to the async side, which sends
//! them as CopyData messages. Generation thus overlaps with the server's work, and memory stays
//! at a handful of buffers whatever the table size.

use std::fs::File;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqlx::PgConnection;
use tokio::sync::mpsc;

use super::copy::{CopyEncode as _, HEADER, TRAILER};
use super::{Ctx, VolumeError};

/// Size at which a buffer is handed over.
pub(crate) const CHUNK: usize = 1 << 20;
/// Buffers in flight between the generator and the sender.
const DEPTH: usize = 3;

/// A generator: writes the rows of one COPY.
pub(crate) type GenFn = fn(&Ctx, &mut Out, Part);

/// Which part of a table a COPY step generates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    /// Step argument (the version round of quote_versions).
    pub(crate) arg: u32,
    /// Parent units `from..to` (generators that support splitting; others do all).
    pub(crate) from: u64,
    pub(crate) to: u64,
}

impl Part {
    pub(crate) const ALL: Part = Part {
        arg: 0,
        from: 0,
        to: u64::MAX,
    };

    /// The units of `0..n` this part covers.
    pub(crate) fn units(self, n: u64) -> std::ops::Range<u64> {
        self.from.min(n)..self.to.min(n)
    }
}

/// One COPY of the load.
#[derive(Debug, Clone)]
pub(crate) struct CopyStep {
    /// Label in progress bars and reports (the table, plus the round for repeated tables).
    pub(crate) label: String,
    pub(crate) table: &'static str,
    pub(crate) columns: &'static str,
    /// Parent units of the whole table (progress bar length; a table split into several COPY
    /// steps shares one bar).
    pub(crate) units: u64,
    pub(crate) generator: GenFn,
    pub(crate) part: Part,
}

impl CopyStep {
    pub(crate) fn statement(&self) -> String {
        format!("COPY {} ({}) FROM STDIN (FORMAT binary)", self.table, self.columns)
    }
}

enum Target {
    Channel(mpsc::Sender<Vec<u8>>),
    File(File),
}

/// Where a generator writes its rows.
pub(crate) struct Out {
    buf: Vec<u8>,
    target: Target,
    rows: u64,
    units: u64,
    bar: ProgressBar,
    /// Units before this part (progress of a table loaded in several steps).
    offset: u64,
    failed: Option<std::io::Error>,
    closed: bool,
}

impl Out {
    fn new(target: Target, bar: ProgressBar, offset: u64) -> Self {
        let mut buf = Vec::with_capacity(CHUNK + CHUNK / 4);
        buf.extend_from_slice(HEADER);
        Self {
            buf,
            target,
            rows: 0,
            units: 0,
            bar,
            offset,
            failed: None,
            closed: false,
        }
    }

    /// Start a row of `fields` fields; returns the buffer to encode them into.
    #[inline]
    pub(crate) fn row(&mut self, fields: i16) -> &mut Vec<u8> {
        self.rows += 1;
        self.buf.row(fields);
        &mut self.buf
    }

    /// A parent unit is done (a user, a quote...): hand over the buffer if it is full. Returns
    /// false when the consumer has gone away (the generator should stop).
    #[inline]
    pub(crate) fn unit_done(&mut self) -> bool {
        self.units += 1;
        if self.units & 0x3ff == 0 {
            self.bar.set_position(self.offset + self.units);
        }
        if self.buf.len() >= CHUNK {
            self.flush();
        }
        !self.closed
    }

    fn flush(&mut self) {
        if self.closed {
            self.buf.clear();
            return;
        }
        match &mut self.target {
            Target::Channel(tx) => {
                let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + CHUNK / 4));
                if tx.blocking_send(chunk).is_err() {
                    self.closed = true;
                }
            }
            Target::File(f) => {
                if let Err(e) = f.write_all(&self.buf) {
                    self.failed = Some(e);
                    self.closed = true;
                }
                self.buf.clear();
            }
        }
    }

    fn finish(mut self) -> (u64, Option<std::io::Error>) {
        self.buf.extend_from_slice(TRAILER);
        self.flush();
        self.bar.set_position(self.offset + self.units);
        (self.rows, self.failed)
    }
}

/// A progress bar for a step: drawn on stderr when it is a terminal and `visible`.
pub(crate) fn bar(label: &str, len: u64, visible: bool) -> ProgressBar {
    use std::io::IsTerminal as _;
    let target = if visible && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>28} [{bar:30}] {human_pos}/{human_len} {per_sec:>12} {elapsed:>4}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}

/// The outcome of one COPY.
#[derive(Debug, Clone)]
pub(crate) struct StepResult {
    pub(crate) rows: u64,
    pub(crate) seconds: f64,
}

/// Run one COPY on `conn`, generating its rows on a thread while they are sent.
pub(crate) async fn copy_live(
    conn: &mut PgConnection,
    ctx: &Arc<Ctx>,
    step: &CopyStep,
    bar: ProgressBar,
) -> Result<StepResult, VolumeError> {
    let started = Instant::now();
    let copy_err = |source| VolumeError::Copy {
        table: step.label.clone(),
        source,
    };
    // COPY statements cannot be checked by sqlx's macros (and copy_in_raw takes SQL text).
    let mut copy = conn.copy_in_raw(&step.statement()).await.map_err(copy_err)?;
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(DEPTH);
    let generator = {
        let ctx = Arc::clone(ctx);
        let (generate, part, bar) = (step.generator, step.part, bar.clone());
        std::thread::Builder::new()
            .name(format!("volume-{}", step.table))
            .spawn(move || {
                let mut out = Out::new(Target::Channel(tx), bar, part.from);
                generate(&ctx, &mut out, part);
                out.finish().0
            })
    };
    let generator = match generator {
        Ok(g) => g,
        Err(e) => {
            copy.abort("volume generator thread could not start")
                .await
                .map_err(copy_err)?;
            return Err(VolumeError::Io(e));
        }
    };
    let mut send_error = None;
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = copy.send(chunk).await {
            send_error = Some(e);
            break;
        }
    }
    // Closing the channel stops a generator still running (after a send error).
    drop(rx);
    let generated = generator.join();
    if let Some(e) = send_error {
        // The connection is likely broken; try to leave COPY mode anyway.
        let _ = copy.abort("volume loader: sending failed").await;
        return Err(copy_err(e));
    }
    let Ok(generated) = generated else {
        copy.abort("volume loader: generator panicked")
            .await
            .map_err(copy_err)?;
        return Err(VolumeError::Generator {
            table: step.label.clone(),
        });
    };
    let rows = copy.finish().await.map_err(copy_err)?;
    if rows != generated {
        return Err(VolumeError::RowCount {
            table: step.label.clone(),
            generated,
            loaded: rows,
        });
    }
    Ok(StepResult {
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Write one COPY's data to `file` (binary COPY format, what `\copy ... with (format binary)`
/// reads): exactly the bytes [`copy_live`] would send.
pub(crate) fn copy_to_file(
    ctx: &Ctx,
    step: &CopyStep,
    file: File,
    bar: ProgressBar,
) -> Result<StepResult, VolumeError> {
    let started = Instant::now();
    let mut out = Out::new(Target::File(file), bar, step.part.from);
    (step.generator)(ctx, &mut out, step.part);
    let (rows, failed) = out.finish();
    if let Some(e) = failed {
        return Err(VolumeError::Io(e));
    }
    Ok(StepResult {
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}
