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
    /// The station's registry: list and search monitors; administrators
    /// import, de-provision and re-admit them. Alone: every monitor.
    Devices(DevicesArgs),
    /// Send a paired monitor back to provisioning mode (Technician role,
    /// password re-entered, explicit confirmation).
    Reprovision(ReprovisionArgs),
    /// Accounts at the station (administrators).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Your own password.
    #[command(subcommand)]
    Password(PasswordCommand),
    /// The station's audit log (administrators): newest first, or all of it as CSV.
    Audit(AuditArgs),
    /// Pairings of a shift or a date range (administrators), as a table, CSV or PDF.
    Report(ReportArgs),
    /// Monitor certificates expiring within 30 days, renewed and revoked (administrators).
    Certificates,
}

#[derive(Debug, Args)]
struct DevicesArgs {
    #[command(subcommand)]
    command: Option<DevicesCommand>,
}

#[derive(Debug, Subcommand)]
enum DevicesCommand {
    /// List monitors, optionally searched and filtered.
    List(ListArgs),
    /// Register monitors from a CSV file or the monitors' exported JSON
    /// (administrators): shows the dry run, then imports unless --dry-run.
    Import(ImportArgs),
    /// De-provision a monitor (administrators): its certificate is revoked
    /// and it cannot be paired until re-admitted. Asks to type its device ID.
    Deprovision(DeprovisionArgs),
    /// Re-admit a de-provisioned monitor so it can be paired again (administrators).
    Readmit(ReadmitArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Text in the device ID, serial, label, bed or address (any case).
    #[arg(long)]
    search: Option<String>,
    /// never_paired, provisioned, failed, certificate_expiring or deprovisioned.
    #[arg(long, value_parser = commands::registry::parse_filter)]
    filter: Option<zpair_proto::admin::RegistryFilter>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The file: CSV with a header row (deviceId, deviceSerial,
    /// identityPublicKey, and optionally ipAddress, deviceLabel, bedId,
    /// firmwareVersion), or JSON registration records.
    file: PathBuf,
    /// Only show what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
struct DeprovisionArgs {
    /// The monitor's device ID.
    device_id: String,
    /// Why, for the audit log.
    #[arg(long)]
    reason: String,
    /// Do not ask to type the device ID to confirm.
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
struct ReadmitArgs {
    /// The monitor's device ID.
    device_id: String,
    /// Why, for the audit log.
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Every account, with its state.
    List,
    /// Create an account; its temporary password is printed once.
    Add(AddUserArgs),
    /// A new temporary password for an account (printed once); its sessions end.
    ResetPassword(UserArg),
    /// Clear a lockout after too many wrong passwords.
    Unlock(UserArg),
    /// Stop an account from signing in; its sessions end.
    Disable(UserArg),
    /// Let a disabled account sign in again.
    Enable(UserArg),
    /// Sign an account out everywhere.
    EndSessions(UserArg),
}

#[derive(Debug, Args)]
struct AddUserArgs {
    /// Account name: 3 to 64 of a-z 0-9 . _ -, starting with a letter.
    username: String,
    /// The name to show.
    #[arg(long)]
    display_name: String,
    /// technician or administrator.
    #[arg(long, value_parser = commands::users::parse_role, default_value = "technician")]
    role: zpair_proto::api::Role,
}

#[derive(Debug, Args)]
struct UserArg {
    /// The account name.
    username: String,
}

#[derive(Debug, Subcommand)]
enum PasswordCommand {
    /// Change your password (required after a temporary one).
    Change(PasswordChangeArgs),
}

#[derive(Debug, Args)]
struct PasswordChangeArgs {
    /// Read the current password and the new one from the first two lines
    /// of standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// Only this monitor's rows.
    #[arg(long)]
    device: Option<String>,
    /// Only rows this account (or `station`, `admin-cli`) caused.
    #[arg(long)]
    actor: Option<String>,
    /// Only rows of this event type (PAIRING_STARTED, USER_DISABLED, …).
    #[arg(long)]
    event_type: Option<String>,
    /// From this time: 2026-01-05, "2026-01-05 14:00" (UTC) or RFC 3339.
    #[arg(long)]
    since: Option<String>,
    /// Before this time (same forms).
    #[arg(long)]
    until: Option<String>,
    /// Rows older than this row id (the next page).
    #[arg(long)]
    before: Option<i64>,
    /// Rows to show, 1 to 1000 (default 100).
    #[arg(long)]
    limit: Option<u32>,
    /// Every matching row as CSV (oldest first), to FILE or standard output.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    csv: Option<Option<PathBuf>>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("format").required(false))]
struct ReportArgs {
    /// Start of the period: 2026-01-05, "2026-01-05 06:00" (UTC) or RFC 3339.
    #[arg(long)]
    from: String,
    /// End of the period (same forms), at most 31 days after --from.
    #[arg(long)]
    to: String,
    /// Only this technician's pairings.
    #[arg(long)]
    technician: Option<String>,
    /// Write the report as CSV to FILE.
    #[arg(long, value_name = "FILE", group = "format")]
    csv: Option<PathBuf>,
    /// Write the printable report (PDF) to FILE.
    #[arg(long, value_name = "FILE", group = "format")]
    pdf: Option<PathBuf>,
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
        Command::Devices(args) => commands::registry::run(&out, args).await,
        Command::Reprovision(args) => commands::reprovision::run(&out, args).await,
        Command::Users(command) => commands::users::run(&out, command).await,
        Command::Password(PasswordCommand::Change(args)) => {
            commands::account::change_password(&out, args).await
        }
        Command::Audit(args) => commands::audit::audit(&out, args).await,
        Command::Report(args) => commands::audit::report(&out, args).await,
        Command::Certificates => commands::audit::certificates(&out).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(&failure);
            failure.exit_code()
        }
    }
}
