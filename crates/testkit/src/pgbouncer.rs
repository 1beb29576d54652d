//! A real PgBouncer in transaction pooling mode in front of the test server, for tests and
//! benches of code that must work through a pooler.
//!
//! [`pgbouncer`] starts one (once per process; later processes reuse it) when the `pgbouncer`
//! binary exists (`QUOTEDB_PGBOUNCER`, else `pgbouncer` on `PATH`, `/usr/sbin`, `/usr/bin`):
//! `pool_mode = transaction`, `default_pool_size = 4` server connections per database and user,
//! `auth_type = trust`, `ignore_startup_parameters = extra_float_digits,options` (sqlx sends
//! `extra_float_digits` at startup, and `options` when set; PgBouncer refuses unknown startup
//! parameters otherwise). It listens on a free port of 127.0.0.1 and lives in `pgbouncer/` of the
//! cluster directory (ini, userlist, log, pid file), runs daemonized as the cluster's
//! unprivileged user when started as root (PgBouncer refuses root), and is **left running and
//! reused** by later test binaries and runs, like the cluster; [`PgBouncer::stop`] (or
//! `kill $(cat target/quotedb-pg/pgbouncer/pgbouncer.pid)`) ends it. A restarted cluster needs no
//! restart of PgBouncer: it reconnects.
//!
//! Without the binary, [`pgbouncer`] returns `Ok(None)` and callers skip — except with `CI=true`,
//! where [`pgbouncer_or_skip`] panics: CI installs PgBouncer, so a skip there would hide a gap.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::{Backend, Error, Server, cluster, server};

/// Server connections PgBouncer opens per (database, user) pair.
pub const POOL_SIZE: u32 = 4;

/// A running PgBouncer in front of the test server.
#[derive(Debug, Clone)]
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    /// The login forwarded to the server (user, optional password).
    user: String,
    password: Option<String>,
}

impl PgBouncer {
    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory with its ini, userlist, log and pid file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A URL for database `db` through PgBouncer (same login as the server's admin URL).
    pub fn url_for(&self, db: &str) -> String {
        let mut url = url::Url::parse(&format!("postgres://127.0.0.1:{}/", self.port)).expect("a valid URL");
        let _ = url.set_username(&self.user);
        if let Some(password) = &self.password {
            let _ = url.set_password(Some(password));
        }
        url.set_path(&format!("/{db}"));
        url.to_string()
    }

    /// The admin console (`SHOW POOLS`, `SHOW SERVERS`; simple protocol only: use
    /// `sqlx::raw_sql`).
    pub fn admin_url(&self) -> String {
        self.url_for("pgbouncer")
    }

    /// Stop it (SIGTERM to the pid in its pid file); stopping a stopped one succeeds.
    pub fn stop(&self) -> Result<(), Error> {
        stop_in(&self.dir)
    }
}

/// Where the `pgbouncer` binary is: `QUOTEDB_PGBOUNCER`, `PATH`, `/usr/sbin`, `/usr/bin`.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("QUOTEDB_PGBOUNCER").map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| p.is_file())
}

static PGBOUNCER: OnceCell<Option<PgBouncer>> = OnceCell::const_new();

/// The PgBouncer of this process in front of [`server`], started on first use; `Ok(None)` when
/// the `pgbouncer` binary is not installed.
pub async fn pgbouncer() -> Result<Option<&'static PgBouncer>, Error> {
    let found = PGBOUNCER
        .get_or_try_init(|| async {
            let Some(binary) = find_binary() else {
                return Ok(None);
            };
            let server = server().await?;
            let server = server.clone();
            tokio::task::spawn_blocking(move || ensure_started(&binary, &server).map(Some))
                .await
                .map_err(|e| Error::Cluster(format!("the PgBouncer start task failed: {e}")))?
        })
        .await?;
    Ok(found.as_ref())
}

/// [`pgbouncer`] for a test: `None` (with a line saying the test was skipped) when PgBouncer is
/// not installed.
///
/// # Panics
/// When PgBouncer cannot be started, or is missing while `CI=true` (CI installs it).
pub async fn pgbouncer_or_skip(what: &str) -> Option<&'static PgBouncer> {
    match pgbouncer().await {
        Ok(Some(bouncer)) => Some(bouncer),
        Ok(None) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("quotedb-testkit: {what} needs PgBouncer, and CI=true: install it (apt-get install pgbouncer)")
        }
        Ok(None) => {
            eprintln!("quotedb-testkit: {what} SKIPPED: no pgbouncer binary (apt-get install pgbouncer)");
            None
        }
        Err(e) => panic!("quotedb-testkit: {e}"),
    }
}

fn dir_for(server: &Server) -> PathBuf {
    match server.backend() {
        Backend::LocalCluster(local) => local.dir().join("pgbouncer"),
        _ => {
            let digest = crate::short_hash(server.admin_url().as_bytes());
            std::env::temp_dir().join(format!("quotedb-pgbouncer-{digest}"))
        }
    }
}

fn ensure_started(binary: &Path, server: &Server) -> Result<PgBouncer, Error> {
    let err = |what: &str, e: &dyn std::fmt::Display| Error::Cluster(format!("PgBouncer: {what}: {e}"));
    let base = url::Url::parse(&server.admin_url()).map_err(|e| err("server URL", &e))?;
    let user = if base.username().is_empty() {
        "postgres".to_owned()
    } else {
        base.username().to_owned()
    };
    let password = base.password().map(str::to_owned);
    let host = base.host_str().unwrap_or("127.0.0.1").to_owned();
    let server_port = base.port().unwrap_or(5432);

    let dir = dir_for(server);
    fs::create_dir_all(&dir).map_err(|e| err("create dir", &e))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("start.lock"))
        .map_err(|e| err("lock file", &e))?;
    lock.lock().map_err(|e| err("lock", &e))?;

    let port_file = dir.join("port");
    let ini = dir.join("pgbouncer.ini");
    let pid_file = dir.join("pgbouncer.pid");
    let databases = match &password {
        Some(pw) => format!("* = host={host} port={server_port} user={user} password={pw}"),
        None => format!("* = host={host} port={server_port}"),
    };
    // Reuse a running one whose ini still points at this server.
    if let (Some(port), Ok(text)) = (read_port(&port_file), fs::read_to_string(&ini))
        && text.contains(&databases)
        && alive(&pid_file)
        && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    {
        drop(lock);
        return Ok(PgBouncer {
            dir,
            port,
            user,
            password,
        });
    }
    let _ = stop_in(&dir);
    let port = cluster::free_port()?;
    let log = dir.join("pgbouncer.log");
    let config = format!(
        "; quotedb-testkit: PgBouncer in transaction pooling mode in front of the test server\n\
         [databases]\n{databases}\n\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {userlist}\n\
         admin_users = {user}\n\
         stats_users = {user}\n\
         pool_mode = transaction\n\
         max_client_conn = 500\n\
         default_pool_size = {POOL_SIZE}\n\
         min_pool_size = 0\n\
         reserve_pool_size = 0\n\
         ignore_startup_parameters = extra_float_digits,options\n\
         logfile = {log}\n\
         pidfile = {pid}\n\
         log_connections = 0\n\
         log_disconnections = 0\n",
        userlist = dir.join("userlist.txt").display(),
        log = log.display(),
        pid = pid_file.display(),
    );
    fs::write(&ini, config).map_err(|e| err("write ini", &e))?;
    fs::write(
        dir.join("userlist.txt"),
        format!("\"{user}\" \"{}\"\n", password.clone().unwrap_or_default()),
    )
    .map_err(|e| err("write userlist", &e))?;
    fs::write(&port_file, port.to_string()).map_err(|e| err("write port", &e))?;
    let who = cluster::run_as()?;
    let mut cmd = Command::new(binary);
    cmd.arg("-d").arg(&ini).current_dir(&dir);
    if let Some(who) = who {
        cluster::chown_tree(&dir, who)?;
        use std::os::unix::process::CommandExt as _;
        cmd.uid(who.uid).gid(who.gid);
    }
    eprintln!("quotedb-testkit: starting PgBouncer (transaction pooling) on 127.0.0.1:{port}");
    let out = cmd.output().map_err(|e| err("run pgbouncer", &e))?;
    if !out.status.success() {
        return Err(Error::Cluster(format!(
            "PgBouncer failed to start: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            fs::read_to_string(&log).unwrap_or_default()
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(Error::Cluster(format!(
                "PgBouncer does not listen on {port}: {}",
                fs::read_to_string(&log).unwrap_or_default()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(lock);
    Ok(PgBouncer {
        dir,
        port,
        user,
        password,
    })
}

fn read_port(file: &Path) -> Option<u16> {
    fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn read_pid(pid_file: &Path) -> Option<u32> {
    fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

fn alive(pid_file: &Path) -> bool {
    read_pid(pid_file)
        .is_some_and(|pid| fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "pgbouncer"))
}

fn stop_in(dir: &Path) -> Result<(), Error> {
    let pid_file = dir.join("pgbouncer.pid");
    if !alive(&pid_file) {
        return Ok(());
    }
    let pid = read_pid(&pid_file).unwrap_or_default();
    let status = Command::new("kill")
        .arg(pid.to_string())
        .status()
        .map_err(|e| Error::Cluster(format!("cannot run kill: {e}")))?;
    if !status.success() {
        return Err(Error::Cluster(format!("kill {pid} failed")));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&pid_file) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
