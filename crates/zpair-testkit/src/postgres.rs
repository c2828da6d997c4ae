//! A throwaway PostgreSQL server for the station's tests and benchmarks: a
//! real server (Debian's `postgresql` package), never a mock, so what passes
//! here passes against PostgreSQL itself. Durability is left as shipped
//! (`fsync` on), because the benchmarks measure it.
//!
//! Each [`Cluster`] lives in its own temporary folder, listens on 127.0.0.1
//! only and on a Unix socket in that folder, and asks for a password
//! (SCRAM) on both, as a deployed server would.
//!
//! Skipping: [`available`] tells whether a server can be started. The
//! project's tests must not pass by silently skipping, so when
//! `ZPAIR_TEST_POSTGRES` is set a caller that finds no server must fail; it
//! may skip only when the variable is unset, and then must print why.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;

/// Where Debian installs each server version, as `<version>/bin`.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";
/// The superuser `initdb` creates, and the user every URL names.
const USER: &str = "zpair";
/// Who runs the server when the tests run as root: `initdb` and `postgres`
/// refuse to run as root.
const SERVER_USER: &str = "nobody";
const SERVER_GROUP: &str = "nogroup";
/// How many free ports to try before giving up: another process can take the
/// one picked between releasing it and the server binding it.
const PORT_ATTEMPTS: usize = 5;
/// How long `pg_ctl` waits for the server to accept connections, in seconds.
const START_TIMEOUT_SECS: &str = "60";
/// How many lines of the server's log a start failure shows.
const LOG_TAIL_LINES: usize = 30;
/// The longest name PostgreSQL keeps whole (NAMEDATALEN - 1).
const MAX_NAME: usize = 63;

/// Why a throwaway server could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No server binaries on this machine.
    #[error(
        "no PostgreSQL server found (no {DEBIAN_ROOT}/*/bin/initdb and no initdb on PATH): \
         install Debian's `postgresql` package (apt-get install postgresql)"
    )]
    NotInstalled,
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// A PostgreSQL tool (or `setpriv`) exited with an error.
    #[error("{what} failed ({status}): {output}")]
    Failed {
        /// The command, in words.
        what: String,
        /// How it exited.
        status: ExitStatus,
        /// Its stderr, then its stdout.
        output: String,
    },
    /// The server did not come up.
    #[error("the PostgreSQL server did not start: {output}\nthe end of its log ({log}):\n{tail}")]
    Start {
        /// What `pg_ctl` printed.
        output: String,
        /// The whole log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// A database name outside what this kit accepts.
    #[error("`{0}` is not a database name the test kit accepts: use 1 to 63 of a-z, 0-9 and _")]
    InvalidName(String),
    /// Running as root, the server runs as `nobody`, who must be able to
    /// enter the temporary folder.
    #[error(
        "user {SERVER_USER} cannot enter {0}, where the test server would live: \
         set TMPDIR to a folder every user can enter, such as /tmp"
    )]
    Unreachable(PathBuf),
}

/// Whether server binaries were found, so a caller can say why it cannot run
/// (see the module's note on skipping).
pub fn available() -> bool {
    binaries().is_ok()
}

/// A running PostgreSQL server in a temporary folder; stopped, and its folder
/// removed, when dropped, or by a watchdog once the test process is gone.
pub struct Cluster {
    /// The folder holding `bin/initdb`, `pg_ctl`, `postgres` and `psql`.
    bin: PathBuf,
    /// Removed when the cluster is dropped, after the server stops.
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    /// Whether the server tools run as `nobody` (the tests run as root).
    as_server_user: bool,
    /// Stops the server and removes the folder once the test process exits,
    /// since a cluster in a static (or in a killed process) is never dropped.
    watchdog: Option<Child>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("bin", &self.bin)
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What a server needs to speak TLS: its certificate chain and private key,
/// in PEM.
#[derive(Clone)]
pub struct ServerTls {
    /// The server's certificate first, then any intermediates.
    pub certificate_chain_pem: String,
    /// Its private key.
    pub private_key_pem: String,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("private_key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Creates a cluster in a new temporary folder and starts it on a free
    /// loopback port; the superuser `zpair` gets a fresh random password.
    pub fn start() -> Result<Self, ClusterError> {
        Self::start_serving(None)
    }

    /// The same, with a server that accepts TCP connections only over TLS,
    /// presenting `tls`: a client speaking clear text is refused, so a test
    /// connecting at all proves the connection was encrypted.
    pub fn start_with_tls(tls: &ServerTls) -> Result<Self, ClusterError> {
        Self::start_serving(Some(tls))
    }

    fn start_serving(tls: Option<&ServerTls>) -> Result<Self, ClusterError> {
        let bin = binaries()?;
        let as_server_user = rustix::process::geteuid().is_root();
        let dir = tempfile::Builder::new()
            .prefix("zpair-pg-")
            .tempdir()
            .map_err(io_err("creating the server's temporary folder"))?;
        let mut cluster = Cluster {
            bin,
            dir,
            port: 0,
            password: random_password()?,
            as_server_user,
            watchdog: None,
        };
        // From here on, dropping `cluster` on an error cleans up.
        if as_server_user {
            reachable_by_others(cluster.dir.path())?;
            chown_to_server_user(cluster.dir.path())?;
        }
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        cluster.init()?;
        cluster.configure()?;
        if let Some(tls) = tls {
            cluster.require_tls(tls)?;
        }
        cluster.run_server()?;
        Ok(cluster)
    }

    /// One cluster per test process, started on first use; a start failure
    /// panics, naming the cause. Tests share it through databases of their
    /// own ([`Cluster::create_database`]).
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            Cluster::start().unwrap_or_else(|e| {
                panic!("could not start the shared PostgreSQL test server: {e}")
            })
        })
    }

    /// `postgres://zpair:PASSWORD@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log, to read when a test fails.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Creates database `name` (`[a-z0-9_]+`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        check_name(name)?;
        // The name is checked, so quoting it is enough; quoting also lets it
        // start with a digit.
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(self.url_for(name))
    }

    /// Runs `sql` in database `db` as the superuser and returns what `psql
    /// -At` prints (unaligned, tuples only), without the final newline.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, ClusterError> {
        check_name(db)?;
        let mut cmd = self.psql_command(db);
        cmd.env("PGPASSWORD", &self.password).args(["-c", sql]);
        let output = run(cmd, &format!("psql in database {db}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        Ok(stdout.strip_suffix('\n').unwrap_or(&stdout).to_owned())
    }

    fn url_for(&self, db: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `psql` reaching this server over TCP, never prompting, stopping at the
    /// first error; without a password (the caller adds one).
    fn psql_command(&self, db: &str) -> Command {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args([
            "-X",
            "-w",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .args(["-U", USER, "-d", db])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/dev/null")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null());
        cmd
    }

    /// A server tool, run as `nobody` when the tests run as root.
    fn server_tool(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_server_user {
            let mut cmd = Command::new("setpriv");
            cmd.args(as_server_user_args()).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        // `nobody` may not be able to enter the caller's working folder.
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        cmd
    }

    fn init(&self) -> Result<(), ClusterError> {
        let pwfile = self.dir.path().join("pwfile");
        write_private(&pwfile, &self.password)?;
        if self.as_server_user {
            chown_to_server_user(&pwfile)?;
        }
        let mut cmd = self.server_tool("initdb");
        cmd.arg("-D")
            .arg(self.data())
            .args(["-U", USER, "-E", "UTF8", "--locale=C.UTF-8"])
            .arg("--auth=scram-sha-256")
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = run(cmd, "initdb");
        // The password is in memory now; no need to leave it on disk.
        let _ = fs::remove_file(&pwfile);
        result.map(drop)
    }

    /// Appends this kit's settings to `postgresql.conf` (the port is given
    /// at start, since it may change between attempts).
    fn configure(&self) -> Result<(), ClusterError> {
        let conf = self.data().join("postgresql.conf");
        let socket_dir = self.dir.path().display().to_string().replace('\'', "''");
        let settings = format!(
            "\n# zpair-testkit\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             fsync = on\n"
        );
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| io::Write::write_all(&mut f, settings.as_bytes()))
            .map_err(io_err(format!("writing {}", conf.display())))
    }

    /// Installs `tls` in the data folder, turns TLS on and refuses TCP
    /// connections without it (the Unix socket stays as it was).
    fn require_tls(&self, tls: &ServerTls) -> Result<(), ClusterError> {
        let data = self.data();
        for (name, pem) in [
            ("server.crt", &tls.certificate_chain_pem),
            ("server.key", &tls.private_key_pem),
        ] {
            let path = data.join(name);
            write_private(&path, pem)?;
            if self.as_server_user {
                chown_to_server_user(&path)?;
            }
        }
        let append = |file: &str, text: &str| {
            let path = data.join(file);
            fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| io::Write::write_all(&mut f, text.as_bytes()))
                .map_err(io_err(format!("writing {}", path.display())))
        };
        append(
            "postgresql.conf",
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        )?;
        // The first matching line decides: these go before initdb's own.
        let hba = data.join("pg_hba.conf");
        let existing =
            fs::read_to_string(&hba).map_err(io_err(format!("reading {}", hba.display())))?;
        let rules = "# zpair-testkit: TCP only over TLS\n\
                     hostnossl all all 0.0.0.0/0 reject\n\
                     hostnossl all all ::/0 reject\n";
        fs::write(&hba, format!("{rules}{existing}"))
            .map_err(io_err(format!("writing {}", hba.display())))
    }

    /// Starts the server on a free port, trying another when the one picked
    /// was taken in the meantime.
    fn run_server(&mut self) -> Result<(), ClusterError> {
        let log = self.log_path();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.port = free_port()?;
            let mut cmd = self.server_tool("pg_ctl");
            cmd.args(["start", "-w", "-t", START_TIMEOUT_SECS, "-D"])
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(format!("-p {}", self.port));
            let output = cmd
                .output()
                .map_err(io_err("running pg_ctl start (is setpriv installed?)"))?;
            if output.status.success() {
                return Ok(());
            }
            let tail = log_tail(&log);
            let port_taken =
                tail.contains("could not bind") || tail.contains("Address already in use");
            if !port_taken || attempt == PORT_ATTEMPTS {
                return Err(ClusterError::Start {
                    output: printed(&output),
                    log,
                    tail,
                });
            }
        }
    }

    /// A shell loop, in its own process group so a signal to the tests'
    /// group does not end it first, that waits for this process to exit and
    /// then stops the server and removes the folder.
    fn spawn_watchdog(&self) -> Result<Child, ClusterError> {
        let pidfile = self.data().join("postmaster.pid");
        let mut stop = String::new();
        if self.as_server_user {
            stop.push_str("setpriv ");
            stop.push_str(&as_server_user_args().join(" "));
            stop.push(' ');
        }
        stop.push_str(&quote(&self.bin.join("pg_ctl")));
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -f {pidfile} ]; then {stop} stop -m immediate -D {data}; fi; \
             rm -rf {dir}",
            pid = std::process::id(),
            pidfile = quote(&pidfile),
            data = quote(&self.data()),
            dir = quote(self.dir.path()),
        );
        Command::new("sh")
            .args(["-c", &script])
            .current_dir("/")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_err("starting the test server's watchdog (sh)"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if self.data().join("postmaster.pid").exists() {
            let mut cmd = self.server_tool("pg_ctl");
            cmd.args(["stop", "-m", "immediate", "-D"]).arg(self.data());
            let _ = cmd.output();
        }
        // The folder goes with `self.dir`.
    }
}

/// The highest server version under Debian's root, else the folder `initdb`
/// on PATH really lives in.
fn binaries() -> Result<PathBuf, ClusterError> {
    let complete = |bin: &Path| {
        ["initdb", "pg_ctl", "postgres", "psql"]
            .iter()
            .all(|tool| bin.join(tool).is_file())
    };
    let debian = fs::read_dir(DEBIAN_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = debian {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .filter_map(|dir| fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .find(|bin| complete(bin))
        .ok_or(ClusterError::NotInstalled)
}

/// `15` or `9.6` as numbers, so 10 sorts above 9.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn check_name(name: &str) -> Result<(), ClusterError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ClusterError::InvalidName(name.to_owned()))
    }
}

/// 192 random bits in hex: safe in a URL and on a command line.
fn random_password() -> Result<String, ClusterError> {
    let mut bytes = [0u8; 24];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(io_err("reading /dev/urandom for the server's password"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A port free right now; the caller retries if it is taken before use.
fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_err("finding a free loopback port"))
}

fn as_server_user_args() -> [String; 3] {
    [
        format!("--reuid={SERVER_USER}"),
        format!("--regid={SERVER_GROUP}"),
        "--clear-groups".to_owned(),
    ]
}

/// Fails unless every folder above `dir` lets other users through, since
/// the server will run as `nobody`.
fn reachable_by_others(dir: &Path) -> Result<(), ClusterError> {
    for ancestor in dir.ancestors().skip(1) {
        let mode = fs::metadata(ancestor)
            .map_err(io_err(format!("reading {}", ancestor.display())))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            return Err(ClusterError::Unreachable(dir.to_path_buf()));
        }
    }
    Ok(())
}

fn chown_to_server_user(path: &Path) -> Result<(), ClusterError> {
    let uid = id_of("/etc/passwd", SERVER_USER)?;
    let gid = id_of("/etc/group", SERVER_GROUP)?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err(format!(
        "giving {} to {SERVER_USER}",
        path.display()
    )))
}

/// The numeric id of `name` in `/etc/passwd` or `/etc/group` (third field).
fn id_of(file: &str, name: &str) -> Result<u32, ClusterError> {
    let text = fs::read_to_string(file).map_err(io_err(format!("reading {file}")))?;
    text.lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&name))
        .and_then(|fields| fields.get(2)?.parse().ok())
        .ok_or_else(|| ClusterError::Io {
            what: format!("looking up {name} in {file}"),
            source: io::Error::new(io::ErrorKind::NotFound, "no such entry"),
        })
}

/// Creates `path` readable by its owner alone, then writes `contents`.
fn write_private(path: &Path, contents: &str) -> Result<(), ClusterError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| io::Write::write_all(&mut f, contents.as_bytes()))
        .map_err(io_err(format!("writing {}", path.display())))
}

/// Runs `cmd`, failing with its output unless it exits 0.
fn run(mut cmd: Command, what: &str) -> Result<Output, ClusterError> {
    let output = cmd.output().map_err(io_err(format!("running {what}")))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(ClusterError::Failed {
            what: what.to_owned(),
            status: output.status,
            output: printed(&output),
        })
    }
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
    .trim_end()
    .to_owned()
}

fn log_tail(log: &Path) -> String {
    match fs::read_to_string(log) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
        }
        Err(e) => format!("(could not read it: {e})"),
    }
}

/// `path` in single quotes for `sh`.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails, never skips: these tests are the kit's own.
    fn start() -> Cluster {
        Cluster::start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Whether process `pid` has ended (a zombie has: nothing reaps
    /// orphans in some containers).
    fn gone(pid: &str) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => true,
        }
    }

    #[test]
    fn serves_databases_over_loopback_with_a_password_and_cleans_up() {
        let cluster = start();
        for db in ["alpha", "beta_2"] {
            let url = cluster.create_database(db).unwrap();
            assert_eq!(url, cluster.url_for(db));
            assert!(url.starts_with("postgres://zpair:") && url.ends_with(&format!("/{db}")));
            assert_eq!(cluster.psql(db, "SELECT 1").unwrap(), "1");
            assert_eq!(cluster.psql(db, "SELECT current_database()").unwrap(), db);
        }
        assert_eq!(
            cluster.psql("postgres", "SHOW listen_addresses").unwrap(),
            "127.0.0.1"
        );
        assert_eq!(cluster.psql("postgres", "SHOW fsync").unwrap(), "on");
        assert_eq!(
            cluster.psql("postgres", "SHOW max_connections").unwrap(),
            "200"
        );
        assert_eq!(
            cluster.psql("postgres", "SHOW shared_buffers").unwrap(),
            "128MB"
        );
        assert_eq!(
            cluster.psql("postgres", "SHOW server_encoding").unwrap(),
            "UTF8"
        );
        assert!(
            std::net::TcpStream::connect(("::1", cluster.port())).is_err(),
            "the server must not listen on ::1"
        );

        // No password, a wrong one, and the Unix socket without one: refused.
        let refused = |mut cmd: Command| {
            let output = cmd.output().unwrap();
            assert!(
                !output.status.success(),
                "psql got in: {}",
                printed(&output)
            );
        };
        let mut bare = cluster.psql_command("postgres");
        bare.args(["-c", "SELECT 1"]);
        refused(bare);
        let mut wrong = cluster.psql_command("postgres");
        wrong.env("PGPASSWORD", "wrong").args(["-c", "SELECT 1"]);
        refused(wrong);
        let mut socket = Command::new(cluster.bin.join("psql"));
        socket
            .args(["-X", "-w", "-h"])
            .arg(cluster.dir.path())
            .arg("-p")
            .arg(cluster.port().to_string())
            .args(["-U", USER, "-d", "postgres", "-c", "SELECT 1"])
            .env_remove("PGPASSWORD")
            .env("PGPASSFILE", "/dev/null")
            .stdin(Stdio::null());
        refused(socket);

        let dir = cluster.dir.path().to_path_buf();
        let pidfile = fs::read_to_string(cluster.data().join("postmaster.pid")).unwrap();
        let pid = pidfile.lines().next().unwrap().to_owned();
        assert!(!gone(&pid), "the server {pid} should be running");
        drop(cluster);
        assert!(!dir.exists(), "{} is left behind", dir.display());
        assert!(gone(&pid), "the server {pid} is still running");
    }

    #[test]
    fn refuses_database_names_outside_the_safe_set() {
        for name in [
            "",
            "Upper",
            "semi;colon",
            "quo\"te",
            "dash-ed",
            &"x".repeat(64),
        ] {
            assert!(
                matches!(check_name(name), Err(ClusterError::InvalidName(_))),
                "{name:?} was accepted"
            );
        }
        assert!(check_name("t_0123").is_ok());
        assert!(check_name("1st").is_ok());
    }

    #[test]
    fn shared_is_one_cluster_per_process() {
        let first = Cluster::shared();
        let second = Cluster::shared();
        assert!(std::ptr::eq(first, second));
        assert_eq!(first.url(), second.url());
        assert_eq!(first.psql("postgres", "SELECT 1").unwrap(), "1");
    }

    #[test]
    fn picks_the_highest_version() {
        assert!(parse_version("10").unwrap() > parse_version("9.6").unwrap());
        assert_eq!(parse_version("bin"), None);
        assert!(available(), "{}", ClusterError::NotInstalled);
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let cluster = Cluster::shared();
        assert!(!format!("{cluster:?}").contains(&cluster.password));
    }
}
