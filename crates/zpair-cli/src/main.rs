//! `zpair`: the technician's command line. Every command is a thin shell over
//! `zpair-core`, the same domain the app uses.
//!
//! Exit codes: 0 done, 1 refused or failed by the station or the monitor,
//! 2 bad usage or input, 3 trust or session problem (set up trust, sign in).

mod commands;
mod config;
mod failure;
mod output;
mod prompt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::failure::Failure;
use crate::output::Output;

/// Pair Z Monitor bedside monitors with the Central Station.
#[derive(Debug, Parser)]
#[command(name = "zpair", version)]
struct Cli {
    /// Machine-readable output: JSON on stdout (one object, or JSON lines for pairing).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Choose the Central Station and how to trust its certificate.
    Setup(SetupArgs),
    /// Sign in; the session is kept in the system keyring.
    Login(LoginArgs),
    /// Sign out: revoke the session at the station and forget it here.
    Logout,
    /// Show who is signed in.
    Whoami,
    /// Pair monitors: from a QR photo, QR JSON, a typed code, or a batch file.
    Pair(PairArgs),
    /// Show a monitor's connected status.
    Status(StatusArgs),
    /// List the monitors in the station's registry.
    Devices,
    /// Send a paired monitor back to provisioning mode (Technician role,
    /// password re-entered, explicit confirmation).
    Reprovision(ReprovisionArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trust").required(true))]
struct SetupArgs {
    /// The station's address, e.g. https://10.1.0.5:8443.
    #[arg(long)]
    station: String,
    /// The hospital CA certificate (PEM) the station's certificate chains to.
    #[arg(long, group = "trust")]
    ca_file: Option<PathBuf>,
    /// SHA-256 fingerprint of the station's certificate, as IT gave it (AB:CD:…).
    #[arg(long, group = "trust")]
    fingerprint: Option<String>,
    /// Read the station's certificate now and trust it after you compared its
    /// fingerprint with the one IT gave you.
    #[arg(long, group = "trust")]
    trust_on_first_use: bool,
    /// Do not ask to confirm the fingerprint (with --trust-on-first-use).
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// Account name (asked for when omitted on a terminal).
    #[arg(long)]
    username: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true))]
struct PairArgs {
    /// A photo or screenshot of the monitor's QR code (PNG, JPEG, WebP).
    #[arg(long, group = "source")]
    qr_image: Option<PathBuf>,
    /// A file with QR payload JSON: one object, a JSON array, or JSON lines (a batch).
    #[arg(long, group = "source")]
    qr_json: Option<PathBuf>,
    /// The monitor's device ID, as shown on its screen (with --code).
    #[arg(long, group = "source", requires = "code")]
    device: Option<String>,
    /// The pairing code shown on the monitor (XXX-XXX-XXX; case and dashes do not matter).
    #[arg(long, requires = "device")]
    code: Option<String>,
    /// A CSV file of `deviceId,pairingCode` lines, paired one after the other.
    #[arg(long, group = "source")]
    batch: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The monitor's device ID.
    device_id: String,
    /// Keep printing: on each pairing event of the monitor and every few seconds.
    #[arg(long)]
    follow: bool,
}

#[derive(Debug, Args)]
struct ReprovisionArgs {
    /// The monitor's device ID.
    device_id: String,
    /// Why, for the audit log.
    #[arg(long)]
    reason: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    /// Do not ask to type the device ID to confirm.
    #[arg(long)]
    yes: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    let out = Output::new(cli.json);
    let result: Result<(), Failure> = match cli.command {
        Command::Setup(args) => commands::setup::run(&out, args).await,
        Command::Login(args) => commands::account::login(&out, args).await,
        Command::Logout => commands::account::logout(&out).await,
        Command::Whoami => commands::account::whoami(&out).await,
        Command::Pair(args) => commands::pair::run(&out, args).await,
        Command::Status(args) => commands::devices::status(&out, args).await,
        Command::Devices => commands::devices::list(&out).await,
        Command::Reprovision(args) => commands::reprovision::run(&out, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(&failure);
            failure.exit_code()
        }
    }
}
