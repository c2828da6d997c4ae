//! `bedside-monitor`: a simulated Z Monitor on the command line — make its
//! identity, export its registration record, trust a Central Station, and run
//! it (HTTPS on its own address, provisioning mode, heartbeats) — or run a
//! swarm of them in one process.

mod console;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bedside_monitor::identity::{Identity, IdentityError};
use bedside_monitor::paths::DataDir;
use bedside_monitor::startup::{self, MonitorConfig};
use bedside_monitor::swarm::{Swarm, SwarmConfig, SwarmError};
use bedside_monitor::trusted_station::{self, SettingsError};
use bedside_monitor::{Monitor, MonitorError, patient_data, storage};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// A simulated Z Monitor bedside monitor.
#[derive(Debug, Parser)]
#[command(name = "bedside-monitor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the monitor's identity (key and serial) and prints its registration record.
    Init {
        /// The monitor's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Its registry identifier, e.g. ZM-ICU-04.
        #[arg(long)]
        device_id: String,
        /// Its serial; one is made up when absent.
        #[arg(long)]
        serial: Option<String>,
        /// The address it will listen on, recorded for the registry (typed codes need it).
        #[arg(long)]
        ip: Option<IpAddr>,
    },
    /// Prints the registration record (JSON) for the Central Station's registry.
    Export {
        /// The monitor's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The address it listens on, recorded for the registry.
        #[arg(long)]
        ip: Option<IpAddr>,
    },
    /// Trusts a Central Station's provisioning key (base64url).
    TrustStation {
        /// The monitor's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The key, as `central-station station-key` prints it. Base64url
        /// may begin with `-`: it is the value, never taken for an option.
        #[arg(long, allow_hyphen_values = true)]
        key: String,
    },
    /// Runs the monitor until Ctrl-C or SIGTERM. Reads commands from standard
    /// input: `p` provisioning mode, `r` regenerate QR, `c` cancel, `s` status.
    Run {
        /// The monitor's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The address to listen on (each monitor its own, e.g. 127.0.0.2).
        #[arg(long)]
        ip: IpAddr,
        /// The port to listen on.
        #[arg(long, default_value_t = startup::DEFAULT_PORT)]
        port: u16,
        /// The device ID, when the data directory has no identity yet.
        #[arg(long)]
        device_id: Option<String>,
        /// Enter provisioning mode at once.
        #[arg(long)]
        provision: bool,
        /// How long a pairing code is valid, in seconds.
        #[arg(long, default_value_t = startup::DEFAULT_CODE_LIFETIME.as_secs())]
        code_lifetime_secs: u64,
        /// How often the QR gets a fresh token, in seconds.
        #[arg(long, default_value_t = startup::DEFAULT_QR_REFRESH.as_secs())]
        qr_refresh_secs: u64,
        /// Time between heartbeats, in seconds.
        #[arg(long, default_value_t = startup::DEFAULT_HEARTBEAT_INTERVAL.as_secs())]
        heartbeat_secs: u64,
        /// Wrong codes before provisioning mode closes.
        #[arg(long, default_value_t = startup::DEFAULT_MAX_FAILED_ATTEMPTS)]
        max_failed_attempts: u32,
        /// Renew the client certificate once this share (percent) of its
        /// validity is left.
        #[arg(long, default_value_t = startup::DEFAULT_RENEW_PERCENT_LEFT,
              value_parser = clap::value_parser!(u32).range(0..=100))]
        renew_percent_left: u32,
        /// Serve the provisioning view on http://127.0.0.1:PORT/ (0: any
        /// free port); the URL is printed.
        #[arg(long)]
        view_port: Option<u16>,
    },
    /// Runs many monitors in one process until Ctrl-C or SIGTERM, each on
    /// its own loopback address, for scale tests and benchmarks. Writes every
    /// registration record to DATA_DIR/records.json, then prints
    /// `ready: N monitors`.
    Swarm {
        /// One data directory per monitor is made below this.
        #[arg(long)]
        data_dir: PathBuf,
        /// How many monitors.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        count: u32,
        /// Device IDs are this, a dash and a five-digit number.
        #[arg(long, default_value = "ZM-SWARM")]
        prefix: String,
        /// The first monitor's address; the others take the next ones.
        #[arg(long, default_value = "127.1.0.1")]
        first_ip: Ipv4Addr,
        /// The port every monitor listens on.
        #[arg(long, default_value_t = startup::DEFAULT_PORT)]
        port: u16,
        /// Time between each monitor's heartbeats, in milliseconds.
        #[arg(long, default_value_t = 10_000,
              value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
        heartbeat_ms: u64,
        /// How long a pairing code is valid, in seconds.
        #[arg(long, default_value_t = startup::DEFAULT_CODE_LIFETIME.as_secs())]
        code_lifetime_secs: u64,
        /// How often each QR gets a fresh token, in seconds (a redraw and
        /// three durable writes per monitor: raise it for large swarms).
        #[arg(long, default_value_t = startup::DEFAULT_QR_REFRESH.as_secs())]
        qr_refresh_secs: u64,
        /// The Central Station's provisioning key (base64url) every monitor
        /// trusts, as `central-station station-key` prints it.
        #[arg(long, allow_hyphen_values = true)]
        station_key: Option<String>,
        /// Every monitor enters provisioning mode at once.
        #[arg(long)]
        provision: bool,
        /// How long each monitor takes to apply a configuration (stage a
        /// pushed one, prepare a commit), in milliseconds: a real monitor's
        /// flash writes, or time for a test to stop it mid-apply.
        #[arg(long, default_value_t = 0,
              value_parser = clap::value_parser!(u64).range(0..=600_000))]
        apply_delay_ms: u64,
    },
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    #[error("cannot write to the terminal: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the registration record: {0}")]
    Json(#[from] serde_json::Error),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(execute(cli.command));
    // The standard-input reader may be blocked in a read: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Init {
            data_dir,
            device_id,
            serial,
            ip,
        } => {
            let dir = DataDir::new(data_dir);
            let identity = Identity::load_or_create(&dir, &device_id, serial.as_deref())?;
            patient_data::ensure(&dir, &identity.device_id)?;
            print_record(&identity, ip)
        }
        Command::Export { data_dir, ip } => {
            print_record(&Identity::load(&DataDir::new(data_dir))?, ip)
        }
        Command::TrustStation { data_dir, key } => {
            trusted_station::trust_station(&DataDir::new(data_dir), &key)?;
            eprintln!(
                "The monitor now trusts configurations and commands signed with this station key."
            );
            Ok(())
        }
        Command::Run {
            data_dir,
            ip,
            port,
            device_id,
            provision,
            code_lifetime_secs,
            qr_refresh_secs,
            heartbeat_secs,
            max_failed_attempts,
            renew_percent_left,
            view_port,
        } => {
            let dir = DataDir::new(&data_dir);
            let device_id = match device_id {
                Some(id) => id,
                None => Identity::load(&dir)?.device_id,
            };
            let mut config = MonitorConfig::new(data_dir, device_id, ip);
            config.port = port;
            config.code_lifetime = Duration::from_secs(code_lifetime_secs);
            config.qr_refresh = Duration::from_secs(qr_refresh_secs);
            config.heartbeat_interval = Duration::from_secs(heartbeat_secs);
            config.max_failed_attempts = max_failed_attempts;
            config.renew_percent_left = renew_percent_left;
            let mut monitor = Monitor::start(config).await?;
            if let Some(port) = view_port {
                let addr = monitor.serve_view(port).await?;
                println!("Provisioning view: http://{addr}/");
            }
            if provision {
                monitor.enter_provisioning_mode().await?;
            }
            console::run(&monitor).await?;
            monitor.shutdown().await;
            Ok(())
        }
        Command::Swarm {
            data_dir,
            count,
            prefix,
            first_ip,
            port,
            heartbeat_ms,
            code_lifetime_secs,
            qr_refresh_secs,
            station_key,
            provision,
            apply_delay_ms,
        } => {
            let swarm = Swarm::start(SwarmConfig {
                data_dir,
                count: count as usize,
                prefix,
                first_ip,
                port,
                heartbeat_interval: Duration::from_millis(heartbeat_ms),
                code_lifetime: Duration::from_secs(code_lifetime_secs),
                qr_refresh: Duration::from_secs(qr_refresh_secs),
                station_key,
                provision,
                apply_delay: Duration::from_millis(apply_delay_ms),
            })
            .await?;
            println!("ready: {} monitors", swarm.monitors().len());
            wait_for_signal().await?;
            swarm.shutdown().await;
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn wait_for_signal() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        result = tokio::signal::ctrl_c() => result?,
    }
    Ok(())
}

fn print_record(identity: &Identity, ip: Option<IpAddr>) -> Result<(), CliError> {
    let record =
        identity.registration_record(startup::DEFAULT_FIRMWARE, ip.map(|ip| ip.to_string()));
    println!("{}", serde_json::to_string(&record)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_station_key_that_begins_with_a_dash_is_taken_as_the_key() {
        let cli = Cli::try_parse_from([
            "bedside-monitor",
            "trust-station",
            "--data-dir",
            "monitor",
            "--key",
            "-SFEogfOB6hLXnrHv3JPVo13JQOfBkH-VtjJvr_qAHk",
        ])
        .expect("parses");
        assert!(matches!(
            cli.command,
            Command::TrustStation { key, .. } if key == "-SFEogfOB6hLXnrHv3JPVo13JQOfBkH-VtjJvr_qAHk"
        ));
    }
}
