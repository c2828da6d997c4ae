//! `central-station`: serve the API, and manage a station's data directory
//! offline (accounts, registry, CA certificate, fingerprint, station key).

use std::io::{BufRead as _, IsTerminal as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use central_station::db::Database;
use central_station::{DeviceImport, Role, Station, StationConfig, StationError, admin};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "central-station",
    version,
    about = "The ZPair reference Central Station"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTPS API until interrupted.
    Serve {
        #[command(flatten)]
        store: Store,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The server URL pushed to monitors (default: https://<listen>).
        #[arg(long)]
        public_url: Option<String>,
        /// Extra DNS names or IPs for the server certificate (repeatable).
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
        /// The port monitors serve their provisioning API on.
        #[arg(long, default_value_t = 9443)]
        monitor_port: u16,
        /// The fail-safe window armed on each monitor it configures, in
        /// seconds: unconfirmed commits roll back after it.
        #[arg(long, default_value_t = central_station::DEFAULT_FAIL_SAFE.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=300))]
        fail_safe_secs: u64,
        /// How long a confirmed re-provisioning authorises one pairing of
        /// its monitor, in seconds.
        #[arg(long, default_value_t = central_station::DEFAULT_REPROVISION_WINDOW.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        reprovision_window_secs: u64,
        /// How long the monitors' client certificates are valid, in
        /// seconds (they renew theirs before it ends).
        #[arg(long, default_value_t = central_station::CLIENT_LIFETIME.as_secs(),
              value_parser = clap::value_parser!(u64).range(10..=3650 * 86_400))]
        certificate_lifetime_secs: u64,
        /// The wait before retrying a monitor it could not reach, in
        /// milliseconds (doubled for the third attempt).
        #[arg(long, default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(0..=60_000))]
        retry_backoff_ms: u64,
        /// On SIGTERM or Ctrl-C, how long running pairing jobs get to finish
        /// (no new one starts meanwhile) before the station stops, in
        /// seconds. A second signal stops it at once.
        #[arg(long, default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(0..=3600))]
        drain_secs: u64,
        /// Open connections it serves at once. Each paired monitor keeps one
        /// for its heartbeats: at least the hospital's monitors, plus its
        /// technicians and a margin. Lowered at start to fit the open-file
        /// limit (raise LimitNOFILE to serve more).
        #[arg(long, default_value_t = central_station::EdgeLimits::default().max_connections as u64,
              value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
        max_connections: u64,
        /// Pairing jobs exchanging messages with their monitors at once;
        /// more wait their turn (in PAIRING).
        #[arg(long, default_value_t = central_station::DEFAULT_PARALLEL_EXCHANGES as u64,
              value_parser = clap::value_parser!(u64).range(1..=4096))]
        parallel_exchanges: u64,
        /// This instance's name among the stations sharing one database
        /// (each needs its own; keep it across restarts): its jobs are
        /// leased under it.
        #[arg(long, default_value = central_station::DEFAULT_INSTANCE_ID,
              value_parser = instance_id)]
        instance_id: String,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the device registry.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the hospital CA certificate (PEM).
    CaCert {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Print the SHA-256 fingerprint of the server certificate.
    Fingerprint {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Print the provisioning public key monitors must trust (base64url).
    StationKey {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from stdin, never from the command line.
    Add {
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from the first line of stdin.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Import registration records: a JSON array of records, or a single one.
    Import {
        #[command(flatten)]
        store: Store,
        /// The JSON file (`-` for stdin).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain end to end; exits non-zero naming the first
    /// broken link (row id and what is wrong: edited, missing, reordered).
    Verify {
        #[command(flatten)]
        store: Store,
    },
}

/// An `--instance-id` that cannot name an instance.
#[derive(Debug, thiserror::Error)]
#[error("use 1 to 64 letters, digits, '.', '_' or '-'")]
struct BadInstanceId;

/// Checks `--instance-id`.
fn instance_id(text: &str) -> Result<String, BadInstanceId> {
    if central_station::is_instance_id(text) {
        Ok(text.to_owned())
    } else {
        Err(BadInstanceId)
    }
}

/// Where a station keeps its keys and records.
#[derive(Args)]
struct Store {
    /// The station's data directory (CA, keys, and the SQLite database
    /// unless --database-url names a PostgreSQL one).
    #[arg(long)]
    data_dir: PathBuf,
    /// A PostgreSQL database to keep the records in instead of the SQLite
    /// file, shared by every instance given the same URL:
    /// postgres://user:password@host:port/database. Prefer the environment
    /// variable, which keeps the password out of the process list.
    #[arg(long, env = "ZPAIR_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// A PEM file of the certificate authorities that sign the PostgreSQL
    /// server's certificate: every connection is then TLS, checked against
    /// them and the server's host name. Required for a server on another
    /// host.
    #[arg(long, env = "ZPAIR_DATABASE_CA", requires = "database_url")]
    database_ca: Option<PathBuf>,
    /// Connections to PostgreSQL this instance keeps open.
    #[arg(long, default_value_t = central_station::db::DEFAULT_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    database_connections: u64,
}

/// The URL carries the database's password: never print it.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database())
            .finish()
    }
}

impl Store {
    fn database(&self) -> Database {
        match &self.database_url {
            None => Database::File,
            Some(url) => Database::Postgres {
                url: url.clone(),
                connections: usize::try_from(self.database_connections).unwrap_or(1),
                ca: self.database_ca.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Technician,
    Administrator,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Technician => Role::Technician,
            RoleArg::Administrator => Role::Administrator,
        }
    }
}

/// Why a command failed, for its exit message.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Station(#[from] StationError),
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not a registration record or a JSON array of them: {1}")]
    Records(String, serde_json::Error),
    #[error("no password on stdin")]
    NoPassword,
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0} of the records were refused")]
    Refused(usize),
    #[error("the audit log is broken at row {id} ({problem}): {message}")]
    AuditBroken {
        id: i64,
        problem: &'static str,
        message: String,
    },
}

fn init_logging() {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Protocol libraries log connection internals at debug; keep them at info
    // unless they are asked for by name.
    let asked = std::env::var("RUST_LOG").unwrap_or_default();
    for noisy in [
        "h2",
        "hyper",
        "hyper_util",
        "rustls",
        "reqwest",
        "tokio_rustls",
    ] {
        if !asked.contains(noisy)
            && let Ok(directive) = format!("{noisy}=info").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn read_password() -> Result<zeroize::Zeroizing<String>, CliError> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Read("stdin".into(), e))?;
    let password = zeroize::Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    if password.is_empty() {
        return Err(CliError::NoPassword);
    }
    Ok(password)
}

fn read_records(file: &Path) -> Result<Vec<DeviceImport>, CliError> {
    let name = file.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| CliError::Read(name.clone(), e))?
    } else {
        std::fs::read_to_string(file).map_err(|e| CliError::Read(name.clone(), e))?
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| CliError::Records(name.clone(), e))?;
    if value.is_array() {
        serde_json::from_value(value).map_err(|e| CliError::Records(name, e))
    } else {
        serde_json::from_value(value)
            .map(|one| vec![one])
            .map_err(|e| CliError::Records(name, e))
    }
}

async fn serve(config: StationConfig, drain: std::time::Duration) -> Result<(), CliError> {
    let station = Station::start(config).await?;
    eprintln!("Central Station at {}", station.url());
    eprintln!(
        "Server certificate SHA-256: {}",
        station.server_certificate_fingerprint()
    );
    wait_for_signal().await;
    eprintln!(
        "Stopping: no new pairing starts; running ones get up to {} s (signal again to stop now).",
        drain.as_secs()
    );
    tokio::select! {
        stopped = station.drain(drain) => if stopped > 0 {
            eprintln!("{stopped} pairing job(s) did not finish in time; the next start reports them interrupted.");
        },
        () = wait_for_signal() => eprintln!("Stopping now."),
    }
    station.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(term) => { term.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve {
            store,
            listen,
            public_url,
            hostnames,
            monitor_port,
            fail_safe_secs,
            reprovision_window_secs,
            certificate_lifetime_secs,
            retry_backoff_ms,
            drain_secs,
            max_connections,
            parallel_exchanges,
            instance_id,
        } => {
            let mut config = StationConfig::new(store.data_dir.clone(), listen);
            config.database = store.database();
            config.public_url = public_url;
            config.hostnames = hostnames;
            config.monitor_port = monitor_port;
            config.fail_safe = std::time::Duration::from_secs(fail_safe_secs);
            config.reprovision_window = std::time::Duration::from_secs(reprovision_window_secs);
            config.client_certificate_lifetime =
                std::time::Duration::from_secs(certificate_lifetime_secs);
            config.monitor_retry.backoff = std::time::Duration::from_millis(retry_backoff_ms);
            config.edge.max_connections = usize::try_from(max_connections).unwrap_or(usize::MAX);
            config.parallel_exchanges = usize::try_from(parallel_exchanges).unwrap_or(usize::MAX);
            config.instance_id = instance_id;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(CliError::Runtime)?
                .block_on(serve(config, std::time::Duration::from_secs(drain_secs)))
        }
        Command::User {
            command:
                UserCommand::Add {
                    store,
                    username,
                    display_name,
                    role,
                    password_stdin: _,
                },
        } => {
            let password = read_password()?;
            admin::create_user(
                &store.data_dir,
                &store.database(),
                &username,
                &display_name,
                role.into(),
                &password,
            )?;
            eprintln!("Created {} account {username}.", Role::from(role).as_str());
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::Import { store, file },
        } => {
            let records = read_records(&file)?;
            let report = admin::import_devices(&store.data_dir, &store.database(), &records)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            if report.rejected.is_empty() {
                Ok(())
            } else {
                Err(CliError::Refused(report.rejected.len()))
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { store },
        } => {
            let report = admin::verify_audit(&store.data_dir, &store.database())?;
            match report.first_broken_link {
                None => {
                    println!(
                        "Audit log intact: {} row(s), head hash {}",
                        report.rows_checked,
                        report.head_hash.as_deref().unwrap_or("(empty log)")
                    );
                    Ok(())
                }
                Some(link) => Err(CliError::AuditBroken {
                    id: link.id,
                    problem: link.problem.as_str(),
                    message: link.message,
                }),
            }
        }
        Command::CaCert { data_dir } => {
            print!("{}", admin::ca_certificate_pem(&data_dir)?);
            Ok(())
        }
        Command::Fingerprint { data_dir } => {
            println!("{}", admin::server_certificate_fingerprint(&data_dir)?);
            Ok(())
        }
        Command::StationKey { data_dir } => {
            println!("{}", admin::station_public_key(&data_dir)?);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("central-station: {e}");
            ExitCode::FAILURE
        }
    }
}
