//! A project-local PostgreSQL cluster started from the installed server binaries.
//!
//! Lives under `target/quotedb-pg/` (its own port, TCP on 127.0.0.1 only, `fsync=off`), is
//! created and started on first use and reused by later test binaries and runs. Several processes
//! may race to start it: an exclusive file lock serialises them. A `postmaster.pid` left by a
//! crashed server is detected with `pg_ctl status` and removed. `initdb` and `postgres` refuse to
//! run as root, so as root the server runs as an unprivileged user (`postgres`, else `nobody`)
//! that owns the cluster directory.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Error;

/// Server settings of a cluster used for tests and development: durability is traded for speed.
const SERVER_SETTINGS: &str = "\
# quotedb local cluster (testkit): speed over durability, TCP on loopback only
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
log_min_messages = warning
log_min_error_statement = panic
";

/// Where the PostgreSQL server binaries are: `QUOTEDB_PG_BINDIR`, then `pg_config --bindir`,
/// then the newest `/usr/lib/postgresql/*/bin`, then `/usr/local/pgsql/bin`.
pub fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("QUOTEDB_PG_BINDIR").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((major, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    let local = PathBuf::from("/usr/local/pgsql/bin");
    has_server(&local).then_some(local)
}

/// The default cluster directory: `QUOTEDB_PG_DIR`, else `quotedb-pg` in `CARGO_TARGET_DIR`, in
/// the target directory of the running binary (a consuming crate's own), or in this workspace's
/// `target/`.
///
/// As root, when the unprivileged server user cannot reach the workspace (a parent directory
/// without the world-execute bit, such as `/root`), the cluster goes to the system temp dir
/// under a name derived from the workspace path instead.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("QUOTEDB_PG_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(running_target_dir)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let dir = target.join("quotedb-pg");
    if is_root() && !world_traversable(&target) {
        let digest = crate::short_hash(dir.to_string_lossy().as_bytes());
        return std::env::temp_dir().join(format!("quotedb-pg-{digest}"));
    }
    dir
}

/// The cargo target directory of the running test, bench or xtask binary (the ancestor of the
/// executable that holds cargo's `CACHEDIR.TAG`): the *consumer's* target directory when quotedb
/// is a dependency, never cargo's git checkout or registry copy of quotedb.
fn running_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

fn world_traversable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let mut cur = Some(path);
    while let Some(p) = cur {
        if let Ok(meta) = fs::metadata(p)
            && meta.permissions().mode() & 0o001 == 0
        {
            return false;
        }
        cur = p.parent();
    }
    true
}

pub(crate) fn is_root() -> bool {
    // The effective uid without libc: /proc/self/status "Uid: real effective saved fs".
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// The unprivileged account a root process runs the server as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

pub(crate) fn run_as() -> Result<Option<RunAs>, Error> {
    if !is_root() {
        return Ok(None);
    }
    let passwd =
        fs::read_to_string("/etc/passwd").map_err(|e| Error::Cluster(format!("cannot read /etc/passwd: {e}")))?;
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4
                && fields[0] == wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return Ok(Some(RunAs { uid, gid }));
            }
        }
    }
    Err(Error::Cluster(
        "running as root, and neither a `postgres` nor a `nobody` account exists to run the server as; \
         create one (useradd --system postgres) or set DATABASE_URL"
            .into(),
    ))
}

pub(crate) fn chown_tree(path: &Path, who: RunAs) -> Result<(), Error> {
    std::os::unix::fs::chown(path, Some(who.uid), Some(who.gid))
        .map_err(|e| Error::Cluster(format!("cannot chown {}: {e}", path.display())))?;
    if path.is_dir() {
        for entry in fs::read_dir(path).map_err(|e| Error::Cluster(e.to_string()))? {
            let entry = entry.map_err(|e| Error::Cluster(e.to_string()))?;
            if !entry.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                chown_tree(&entry.path(), who)?;
            }
        }
    }
    Ok(())
}

/// A local cluster: its directory, binaries and port.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    dir: PathBuf,
    bindir: PathBuf,
    port: u16,
}

impl LocalCluster {
    /// The cluster in `dir` using the binaries in `bindir`; created and started if needed.
    pub fn ensure_started(dir: &Path, bindir: &Path) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::Cluster(format!("cannot create {}: {e}", dir.display())))?;
        // Serialise concurrent starters (several test binaries at once). Released on drop.
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("cluster.lock"))
            .map_err(|e| Error::Cluster(format!("cannot open the cluster lock: {e}")))?;
        lock.lock()
            .map_err(|e| Error::Cluster(format!("cannot lock the cluster: {e}")))?;

        let who = run_as()?;
        let data = dir.join("data");
        let port_file = dir.join("port");
        if !data.join("PG_VERSION").is_file() {
            eprintln!(
                "quotedb-testkit: creating a local PostgreSQL cluster in {}",
                dir.display()
            );
            if data.exists() {
                fs::remove_dir_all(&data)
                    .map_err(|e| Error::Cluster(format!("cannot remove a half-made cluster: {e}")))?;
            }
            // Standbys of a cluster that is gone can never stream from the new one.
            let standbys = dir.join("standbys");
            if standbys.exists() {
                let old = Self {
                    dir: dir.to_path_buf(),
                    bindir: bindir.to_path_buf(),
                    port: 0,
                };
                for (_, standby) in old.standbys() {
                    let _ = standby.stop();
                }
                fs::remove_dir_all(&standbys)
                    .map_err(|e| Error::Cluster(format!("cannot remove the old cluster's standbys: {e}")))?;
            }
            fs::create_dir_all(&data).map_err(|e| Error::Cluster(e.to_string()))?;
            if let Some(who) = who {
                chown_tree(dir, who)?;
            }
            let out = run(
                Command::new(bindir.join("initdb"))
                    .args([
                        "--auth=trust",
                        "--username=postgres",
                        "--encoding=UTF8",
                        "--locale=C",
                        "--no-sync",
                        "-D",
                    ])
                    .arg(&data),
                who,
                dir,
            )?;
            if !out.status.success() {
                return Err(Error::Cluster(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            let port = free_port()?;
            let mut conf = OpenOptions::new()
                .append(true)
                .open(data.join("postgresql.conf"))
                .map_err(|e| Error::Cluster(e.to_string()))?;
            writeln!(conf, "{SERVER_SETTINGS}port = {port}").map_err(|e| Error::Cluster(e.to_string()))?;
            fs::write(&port_file, port.to_string()).map_err(|e| Error::Cluster(e.to_string()))?;
            if let Some(who) = who {
                chown_tree(dir, who)?;
            }
        }
        let port = fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| Error::Cluster(format!("{} is missing or unreadable", port_file.display())))?;
        let cluster = Self {
            dir: dir.to_path_buf(),
            bindir: bindir.to_path_buf(),
            port,
        };
        if !cluster.is_running(who)? {
            cluster.start(who)?;
        }
        drop(lock);
        Ok(cluster)
    }

    /// The cluster in `dir`, without starting it (for status and stop).
    pub fn open(dir: &Path, bindir: &Path) -> Option<Self> {
        let port = fs::read_to_string(dir.join("port")).ok()?.trim().parse().ok()?;
        Some(Self {
            dir: dir.to_path_buf(),
            bindir: bindir.to_path_buf(),
            port,
        })
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The superuser URL of the maintenance database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self) -> Command {
        let mut cmd = Command::new(self.bindir.join("pg_ctl"));
        cmd.arg("-D").arg(self.data());
        cmd
    }

    /// Whether a server is running on this cluster's data directory. A `postmaster.pid` left
    /// behind by a dead server is removed here.
    fn is_running(&self, who: Option<RunAs>) -> Result<bool, Error> {
        let out = run(self.pg_ctl().arg("status"), who, &self.dir)?;
        match out.status.code() {
            Some(0) => Ok(true),
            _ => {
                let pid = self.data().join("postmaster.pid");
                if pid.exists() {
                    eprintln!("quotedb-testkit: removing a stale {}", pid.display());
                    fs::remove_file(&pid)
                        .map_err(|e| Error::Cluster(format!("cannot remove a stale postmaster.pid: {e}")))?;
                }
                Ok(false)
            }
        }
    }

    fn start(&self, who: Option<RunAs>) -> Result<(), Error> {
        eprintln!(
            "quotedb-testkit: starting the local PostgreSQL cluster in {} on 127.0.0.1:{}",
            self.dir.display(),
            self.port
        );
        let log = self.dir.join("server.log");
        let out = run(
            self.pg_ctl().args(["-w", "-t", "60", "-l"]).arg(&log).arg("start"),
            who,
            &self.dir,
        )?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(Error::Cluster(format!(
                "pg_ctl start failed: {}\n{}\nlast lines of {}:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                log.display(),
                tail.join("\n")
            )));
        }
        Ok(())
    }

    /// Stop the server (fast shutdown). Stopping a stopped cluster succeeds.
    pub fn stop(&self) -> Result<(), Error> {
        let who = run_as()?;
        if !self.is_running(who)? {
            return Ok(());
        }
        let out = run(self.pg_ctl().args(["-w", "-m", "fast", "stop"]), who, &self.dir)?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Restart the server (fast shutdown: every connection is cut), as a failover or a
    /// maintenance restart does; returns once it accepts connections again.
    pub fn restart(&self) -> Result<(), Error> {
        let log = self.dir.join("server.log");
        let out = run(
            self.pg_ctl()
                .args(["-w", "-t", "60", "-m", "fast", "-l"])
                .arg(&log)
                .arg("restart"),
            run_as()?,
            &self.dir,
        )?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "pg_ctl restart failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Whether the server is running.
    pub fn running(&self) -> Result<bool, Error> {
        let out = run(self.pg_ctl().arg("status"), run_as()?, &self.dir)?;
        Ok(out.status.success())
    }
}

/// Standby settings appended to the copied `postgresql.conf`: a hot standby needs less memory
/// than the primary (`max_connections` must stay ≥ the primary's, so it is not lowered).
const STANDBY_SETTINGS: &str = "\
# quotedb local standby (testkit): a hot standby of the local cluster
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
";

/// The `pg_hba.conf` line that lets a standby on loopback stream from the primary.
const REPLICATION_HBA: &str = "host    replication     all             127.0.0.1/32            trust";

impl LocalCluster {
    /// The directory of the standby `name` of this cluster: `<cluster dir>/standbys/<name>`
    /// (removed with the cluster).
    pub fn standby_dir(&self, name: &str) -> PathBuf {
        self.dir.join("standbys").join(name)
    }

    /// The standby `name` of this cluster, without creating or starting it (for status and stop).
    pub fn open_standby(&self, name: &str) -> Option<Self> {
        Self::open(&self.standby_dir(name), &self.bindir)
    }

    /// The standbys this cluster has (created, running or not), by name.
    pub fn standbys(&self) -> Vec<(String, Self)> {
        let mut found: Vec<(String, Self)> = fs::read_dir(self.dir.join("standbys"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let standby = self.open_standby(&name)?;
                Some((name, standby))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// A hot standby of this (running) cluster, streaming from it: created with
    /// `pg_basebackup -R -X stream` on first use (its own port, in [`LocalCluster::standby_dir`])
    /// and started, as the same unprivileged user as the primary. With `slot`, the standby
    /// streams through the physical replication slot `quotedb_<name>`, so the primary keeps the
    /// WAL a stopped standby still needs (the long-lived standby of `cargo xtask db-start
    /// --replica` and the test kit); without, a standby that stays stopped while the primary
    /// checkpoints may fall too far behind to catch up (short-lived standbys of one test).
    ///
    /// The primary is made able to stream first, idempotently: a `host replication` entry for
    /// 127.0.0.1 in `pg_hba.conf` (initdb's `--auth=trust` writes one; a reload otherwise);
    /// `wal_level = replica` and `max_wal_senders = 10` are PostgreSQL's defaults, which the
    /// cluster's settings keep. The primary lists the standby as `quotedb_<name>` in
    /// `pg_stat_replication` (its `cluster_name`). `name` must be a plain identifier.
    pub fn ensure_standby(&self, name: &str, slot: bool) -> Result<Self, Error> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("cluster.lock"))
            .map_err(|e| Error::Cluster(format!("cannot open the cluster lock: {e}")))?;
        lock.lock()
            .map_err(|e| Error::Cluster(format!("cannot lock the cluster: {e}")))?;
        let who = run_as()?;
        let dir = self.standby_dir(name);
        let data = dir.join("data");
        self.prepare_for_replication(who)?;
        if !data.join("PG_VERSION").is_file() {
            eprintln!(
                "quotedb-testkit: creating standby {name} of the local cluster in {}",
                dir.display()
            );
            if data.exists() {
                fs::remove_dir_all(&data)
                    .map_err(|e| Error::Cluster(format!("cannot remove a half-made standby: {e}")))?;
            }
            fs::create_dir_all(&dir).map_err(|e| Error::Cluster(e.to_string()))?;
            if let Some(who) = who {
                // The standbys directory itself and this standby's: never the other standbys'
                // (running servers, whose files come and go).
                let standbys = self.dir.join("standbys");
                std::os::unix::fs::chown(&standbys, Some(who.uid), Some(who.gid))
                    .map_err(|e| Error::Cluster(format!("cannot chown {}: {e}", standbys.display())))?;
                chown_tree(&dir, who)?;
            }
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::Cluster(format!("a standby name is [A-Za-z0-9_]+, not {name:?}")));
            }
            let slot_name = format!("quotedb_{name}");
            let mut cmd = Command::new(self.bindir.join("pg_basebackup"));
            cmd.arg("-D")
                .arg(&data)
                .args([
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .arg("-p")
                .arg(self.port.to_string());
            if slot {
                // A slot left by an earlier standby of that name (its directory was removed).
                self.psql(
                    who,
                    &format!(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                         WHERE slot_name = '{slot_name}' AND NOT active"
                    ),
                )?;
                cmd.args(["-C", "-S", &slot_name]);
            }
            let out = run(&mut cmd, who, &dir)?;
            if !out.status.success() {
                let _ = fs::remove_dir_all(&data);
                return Err(Error::Cluster(format!(
                    "pg_basebackup failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            let port = free_port()?;
            let mut conf = OpenOptions::new()
                .append(true)
                .open(data.join("postgresql.conf"))
                .map_err(|e| Error::Cluster(e.to_string()))?;
            // cluster_name is the application_name the primary lists it under (pg_stat_replication).
            writeln!(conf, "{STANDBY_SETTINGS}cluster_name = 'quotedb_{name}'\nport = {port}")
                .map_err(|e| Error::Cluster(e.to_string()))?;
            fs::write(dir.join("port"), port.to_string()).map_err(|e| Error::Cluster(e.to_string()))?;
            if let Some(who) = who {
                chown_tree(&dir, who)?;
            }
        }
        let standby = Self::open(&dir, &self.bindir)
            .ok_or_else(|| Error::Cluster(format!("{} has no readable port file", dir.display())))?;
        if !standby.is_running(who)? {
            standby.start(who)?;
        }
        drop(lock);
        Ok(standby)
    }

    /// Stop the standby `name` and delete its directory (and its slot, if it had one).
    pub fn remove_standby(&self, name: &str) -> Result<(), Error> {
        let dir = self.standby_dir(name);
        if let Some(standby) = Self::open(&dir, &self.bindir) {
            standby.stop()?;
        }
        if dir.exists() {
            // A server that just stopped may still be removing its last files: try again, once.
            if fs::remove_dir_all(&dir).is_err() {
                std::thread::sleep(std::time::Duration::from_millis(200));
                fs::remove_dir_all(&dir)
                    .map_err(|e| Error::Cluster(format!("cannot remove {}: {e}", dir.display())))?;
            }
        }
        Ok(())
    }

    /// Make the (running) primary ready to stream, idempotently: the `host replication` entry
    /// for 127.0.0.1 in `pg_hba.conf` if it has none, and `wal_writer_delay = 10ms` (ALTER
    /// SYSTEM). The cluster commits asynchronously (`synchronous_commit = off`), and a walsender
    /// only sends WAL that has been flushed: with the default 200 ms writer delay a standby would
    /// see a commit up to 600 ms late; at 10 ms it sees it within milliseconds, as it would behind
    /// a primary that commits synchronously.
    fn prepare_for_replication(&self, who: Option<RunAs>) -> Result<(), Error> {
        if self.psql(who, "SHOW wal_writer_delay")? != "10ms" {
            self.psql(who, "ALTER SYSTEM SET wal_writer_delay = '10ms'")?;
            self.psql(who, "SELECT pg_reload_conf()")?;
        }
        let hba = self.data().join("pg_hba.conf");
        let text =
            fs::read_to_string(&hba).map_err(|e| Error::Cluster(format!("cannot read {}: {e}", hba.display())))?;
        let allowed = text.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 4 && f[0] == "host" && f[1] == "replication" && f[3] == "127.0.0.1/32"
        });
        if allowed {
            return Ok(());
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(&hba)
            .map_err(|e| Error::Cluster(e.to_string()))?;
        writeln!(file, "{REPLICATION_HBA}").map_err(|e| Error::Cluster(e.to_string()))?;
        let out = run(self.pg_ctl().arg("reload"), who, &self.dir)?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "pg_ctl reload failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Run one SQL statement with `psql` against this cluster's maintenance database.
    fn psql(&self, who: Option<RunAs>, sql: &str) -> Result<String, Error> {
        let out = run(
            Command::new(self.bindir.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                ])
                .arg("-p")
                .arg(self.port.to_string())
                .arg("-c")
                .arg(sql),
            who,
            &self.dir,
        )?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

fn run(cmd: &mut Command, who: Option<RunAs>, cwd: &Path) -> Result<Output, Error> {
    cmd.current_dir(cwd).env_remove("PGDATA").env("LC_ALL", "C");
    if let Some(who) = who {
        cmd.uid(who.uid).gid(who.gid).env("HOME", cwd);
    }
    cmd.output()
        .map_err(|e| Error::Cluster(format!("cannot run {:?}: {e}", cmd.get_program())))
}

pub(crate) fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Cluster(format!("no free port: {e}")))?;
    let port = listener.local_addr().map_err(|e| Error::Cluster(e.to_string()))?.port();
    Ok(port)
}
