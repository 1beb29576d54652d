//! `cargo xtask migrate status | new | lock`: what a database has applied, the next migration
//! with the conventions, and the lock file that freezes released migrations.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sqlx::PgConnection;
use sqlx::migrate::Migrator;

/// Where a migration stands in one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Applied, with the checksum of the file as it is now.
    Applied,
    /// In `migrations/`, not applied yet.
    Pending,
    /// Applied, but the file changed since (its checksum differs): the database holds what the
    /// file used to say.
    Edited,
    /// Applied in the database but not in `migrations/` (a newer release, or a deleted file).
    Unknown,
    /// Recorded as failed (`success = false`, as older sqlx releases recorded a broken
    /// migration). sqlx 0.9 records a migration only once it succeeded, so a `-- no-transaction`
    /// migration that broke half-way shows as pending: re-running it must be safe (0012 is).
    Failed,
}

impl State {
    /// Whether this state needs someone's attention before migrating.
    pub fn is_problem(self) -> bool {
        matches!(self, State::Edited | State::Unknown | State::Failed)
    }

    fn label(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Edited => "EDITED after being applied",
            State::Unknown => "UNKNOWN (not in migrations/)",
            State::Failed => "FAILED (half-applied)",
        }
    }
}

/// One line of `migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// Migration version.
    pub version: i64,
    /// Its description (from the file name, or as recorded for an unknown one).
    pub description: String,
    /// Where it stands.
    pub state: State,
}

/// Compare the up migrations of `migrator` with what `conn`'s database recorded in sqlx's
/// `_sqlx_migrations` (none recorded: everything is pending).
pub async fn status(conn: &mut PgConnection, migrator: &Migrator) -> anyhow::Result<Vec<StatusRow>> {
    let recorded: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    let applied: Vec<(i64, String, bool, Vec<u8>)> = if recorded {
        sqlx::query_as("SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    let mut rows: Vec<StatusRow> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| {
            let state = match applied.iter().find(|a| a.0 == m.version) {
                None => State::Pending,
                Some((_, _, false, _)) => State::Failed,
                Some((_, _, true, checksum)) if checksum.as_slice() != m.checksum.as_ref() => State::Edited,
                Some(_) => State::Applied,
            };
            StatusRow {
                version: m.version,
                description: m.description.to_string(),
                state,
            }
        })
        .collect();
    for (version, description, _, _) in &applied {
        if !rows.iter().any(|r| r.version == *version) {
            rows.push(StatusRow {
                version: *version,
                description: description.clone(),
                state: State::Unknown,
            });
        }
    }
    rows.sort_by_key(|r| r.version);
    Ok(rows)
}

/// `migrate status` as a table.
pub fn render_status(rows: &[StatusRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let _ = writeln!(out, "{:04}  {:<32} {}", r.version, r.description, r.state.label());
    }
    let count = |s: State| rows.iter().filter(|r| r.state == s).count();
    let _ = write!(
        out,
        "{} applied, {} pending, {} edited, {} unknown, {} failed",
        count(State::Applied),
        count(State::Pending),
        count(State::Edited),
        count(State::Unknown),
        count(State::Failed)
    );
    out
}

/// Create the next numbered `.up.sql` / `.down.sql` pair in `dir`, headed by the conventions.
/// `name` is snake_case (`replace_char_state_codes`). Returns the two paths.
pub fn new_migration(dir: &Path, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let valid = !name.is_empty()
        && name.len() <= 60
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        bail!("a migration name is snake_case (a-z, 0-9, _; starting with a letter; at most 60), not {name:?}");
    }
    let mut last = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let file = entry?.file_name();
        let file = file.to_string_lossy();
        if let Some(version) = file.split('_').next().and_then(|v| v.parse::<u32>().ok()) {
            last = last.max(version);
        }
    }
    let stem = format!("{:04}_{name}", last + 1);
    let (up, down) = (dir.join(format!("{stem}.up.sql")), dir.join(format!("{stem}.down.sql")));
    std::fs::write(&up, up_template(&stem)).with_context(|| format!("writing {}", up.display()))?;
    std::fs::write(&down, down_template(&stem)).with_context(|| format!("writing {}", down.display()))?;
    Ok((up, down))
}

fn up_template(stem: &str) -> String {
    format!(
        "\
-- {stem} (up): WHAT this changes and WHY.
--
-- Written for tables full of data while the previous release still runs (docs/conventions.md):
--   * expand / contract: add what the new code needs before it uses it; drop what the old code
--     reads only in a later migration, once no running release reads it (`cargo xtask compat`);
--   * a constraint on an existing table: ADD ... NOT VALID here, VALIDATE in the next migration;
--   * an index on an existing table: CREATE INDEX CONCURRENTLY, alone in its migration, whose
--     first line is then `-- no-transaction` (sqlx runs it outside a transaction; drop the SET
--     LOCAL lines below, which need one);
--   * no table rewrite (a column type change, a volatile DEFAULT) on a big table.
-- Check it: cargo xtask migrate lint; cargo xtask migrate rehearse.

-- Give up rather than queue behind a long transaction (every query on the table waits behind a
-- waiting ACCESS EXCLUSIVE lock).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

-- Statements here; name every rule (constraint) and COMMENT it.

-- New objects belong to the owner role, like every other.
SELECT hand_objects_to_owner();
"
    )
}

fn down_template(stem: &str) -> String {
    format!(
        "\
-- {stem} (down): undo exactly what the up did, on a populated database.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

-- Statements here, in the reverse order of the up.
"
    )
}

/// The lock file's text for `migrator`: one line per migration file (version, up/down, SHA-384
/// checksum as sqlx computes it, description).
pub fn lock_text(migrator: &Migrator) -> String {
    let mut out = String::from(
        "# Released migrations: their checksums must never change (a database that applied one would\n\
         # refuse to migrate). Checked by xtask/tests/xtask/migrate.rs (in CI); extended by\n\
         # `cargo xtask migrate lock` when a release is cut.\n",
    );
    for m in migrator.iter() {
        let kind = if m.migration_type.is_down_migration() {
            "down"
        } else {
            "up"
        };
        let _ = writeln!(
            out,
            "{:04} {kind:<4} {} {}",
            m.version,
            hex::encode(m.checksum.as_ref()),
            m.description
        );
    }
    out
}

/// The entries of a lock file `text` that `migrator` no longer matches (changed or missing).
pub fn lock_violations(text: &str, migrator: &Migrator) -> Vec<String> {
    let current = lock_text(migrator);
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| !current.lines().any(|c| c == *l))
        .map(|l| {
            let version = l.split_whitespace().next().unwrap_or("?");
            format!("{l}\n  -> migration {version} was released with this checksum and has been edited or removed")
        })
        .collect()
}

/// The squawk release `migrate lint` installs (PyPI `squawk-cli`).
pub const SQUAWK_VERSION: &str = "2.70.0";

/// The squawk binary: `QUOTEDB_SQUAWK`, else `target/tools/squawk-<version>/bin/squawk`,
/// installed there with pip on first use.
pub fn squawk() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("QUOTEDB_SQUAWK") {
        return Ok(PathBuf::from(path));
    }
    let dir = quotedb_testkit::workspace_root()
        .join("target/tools")
        .join(format!("squawk-{SQUAWK_VERSION}"));
    let bin = dir.join("bin/squawk");
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "xtask: installing squawk-cli {SQUAWK_VERSION} from PyPI into {}",
        dir.display()
    );
    let status = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
        ])
        .arg(&dir)
        .arg(format!("squawk-cli=={SQUAWK_VERSION}"))
        .status();
    match status {
        Ok(s) if s.success() && bin.is_file() => Ok(bin),
        Ok(_) | Err(_) => bail!(
            "could not install squawk-cli {SQUAWK_VERSION} with `python3 -m pip` (PyPI unreachable, or no python3): \
             install it yourself (`pip install squawk-cli=={SQUAWK_VERSION}`) and set QUOTEDB_SQUAWK to its path"
        ),
    }
}

/// The versions a lock file holds (each line starts with one).
pub fn released_versions(lock: &str) -> Vec<i64> {
    lock.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The up migrations in `dir` whose version `lock` does not hold: the ones written since the last
/// release, which lint checks. Down migrations are the emergency path, never run by a rolling
/// deploy; they are not linted (they undo what their up did, blocking included).
pub fn unreleased_files(dir: &Path, lock: &str) -> anyhow::Result<Vec<PathBuf>> {
    let released = released_versions(lock);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = name.split('_').next().and_then(|v| v.parse::<i64>().ok());
        if name.ends_with(".up.sql") && !version.is_some_and(|v| released.contains(&v)) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Run squawk with the project's rules (`.squawk.toml`) over `files`. `Ok(None)`: no finding;
/// `Ok(Some(report))`: squawk's findings, one per line.
pub fn lint(files: &[PathBuf]) -> anyhow::Result<Option<String>> {
    if files.is_empty() {
        return Ok(None);
    }
    let root = quotedb_testkit::workspace_root();
    let out = std::process::Command::new(squawk()?)
        .arg("--config")
        .arg(root.join(".squawk.toml"))
        .args(["--reporter", "gcc"])
        .args(files)
        .output()
        .context("running squawk")?;
    let report = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Ok(None)
    } else if report.is_empty() {
        bail!("squawk failed: {}", String::from_utf8_lossy(&out.stderr).trim())
    } else {
        Ok(Some(report))
    }
}

/// Differences between the live database at `live_url` and a scratch database migrated on
/// `server` to the same version (the highest one the live database applied). Lines are the
/// schema snapshot's (`quotedb_testkit::snapshot`): `-` only in the migrations, `+` only in the
/// live database. The monthly `audit_logs_y<YYYY>m<MM>` partitions are left out: which months
/// exist depends on when maintenance ran, not on the migrations.
pub async fn drift(
    server: &quotedb_testkit::Server,
    live_url: &str,
    migrator: &Migrator,
) -> anyhow::Result<Vec<String>> {
    use sqlx::Connection as _;
    let mut live = PgConnection::connect(live_url)
        .await
        .context("connecting to the live database")?;
    let rows = status(&mut live, migrator).await?;
    if let Some(r) = rows.iter().find(|r| r.state == State::Unknown) {
        bail!(
            "the live database applied migration {:04} ({}), which this tree does not have: compare from the release that has it",
            r.version,
            r.description
        );
    }
    let applied = rows
        .iter()
        .filter(|r| matches!(r.state, State::Applied | State::Edited | State::Failed))
        .map(|r| r.version)
        .max();
    let scratch = format!("quotedb_drift_{}", std::process::id());
    server.drop_database(&scratch).await?;
    server.create_empty_database(&scratch).await?;
    let result = async {
        let mut expected = PgConnection::connect(&server.url_for(&scratch)).await?;
        if let Some(version) = applied {
            migrator.run_to(version, &mut expected).await?;
        }
        let want = quotedb_testkit::snapshot::schema_snapshot(&mut expected).await?;
        expected.close().await?;
        let have = quotedb_testkit::snapshot::schema_snapshot(&mut live).await?;
        anyhow::Ok(diff_snapshots(&want, &have))
    }
    .await;
    server.drop_database(&scratch).await?;
    let mut out: Vec<String> = rows
        .iter()
        .filter(|r| r.state.is_problem())
        .map(|r| format!("! {:04} {} is {}", r.version, r.description, r.state.label()))
        .collect();
    out.extend(result?);
    Ok(out)
}

fn diff_snapshots(want: &str, have: &str) -> Vec<String> {
    let partition = |l: &&str| {
        l.split("audit_logs_y").skip(1).any(|rest| {
            let b = rest.as_bytes();
            b.len() >= 7
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'm'
                && b[5..7].iter().all(u8::is_ascii_digit)
        })
    };
    let want: Vec<&str> = want.lines().filter(|l| !partition(l)).collect();
    let have: Vec<&str> = have.lines().filter(|l| !partition(l)).collect();
    let mut out: Vec<String> = want
        .iter()
        .filter(|l| !have.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(have.iter().filter(|l| !want.contains(l)).map(|l| format!("+ {l}")));
    out
}
