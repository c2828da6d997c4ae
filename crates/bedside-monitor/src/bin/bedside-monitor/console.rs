//! The monitor's terminal: on a TTY it draws the screen (QR, code, time
//! left) and redraws it every second; otherwise it prints a one-line status
//! at each change, without the code (such output ends up in log files). It
//! reads one-letter commands from standard input until Ctrl-C or SIGTERM.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use bedside_monitor::Monitor;
use time::OffsetDateTime;
use tokio::io::AsyncBufReadExt as _;
use zpair_proto::device::MonitorState;

const HELP: &str =
    "Commands: p = enter provisioning mode, r = regenerate QR, c = cancel, s = status (then Enter)";

/// Runs the terminal until the process is asked to stop.
pub async fn run(monitor: &Monitor) -> std::io::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut states = monitor.watch_state();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    draw(monitor, tty)?;
    loop {
        tokio::select! {
            _ = ticker.tick(), if tty && monitor.screen().is_some() => draw(monitor, tty)?,
            changed = states.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                draw(monitor, tty)?;
            }
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => obey(monitor, line.trim(), tty).await?,
                // Without a standard input (a service, a test) the monitor just runs.
                Ok(None) | Err(_) => stdin_open = false,
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    tracing::info!("stopping");
    Ok(())
}

async fn obey(monitor: &Monitor, command: &str, tty: bool) -> std::io::Result<()> {
    let result = match command {
        "p" => monitor.enter_provisioning_mode().await.map(|_| ()),
        "r" => monitor.regenerate_qr().await.map(|_| ()),
        "c" => monitor.cancel_provisioning().await,
        "s" => {
            println!("{}", status_line(monitor));
            return Ok(());
        }
        "" => return Ok(()),
        _ => {
            println!("{HELP}");
            return Ok(());
        }
    };
    match result {
        Ok(()) => draw(monitor, tty),
        Err(e) => {
            println!("{e}");
            Ok(())
        }
    }
}

/// Draws the screen (TTY) or prints the status line.
fn draw(monitor: &Monitor, tty: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if !tty {
        writeln!(out, "{}", status_line(monitor))?;
        return out.flush();
    }
    // Clear the terminal and draw from the top, as a monitor's display would.
    write!(out, "\x1b[H\x1b[2J")?;
    if let Some(screen) = monitor.screen() {
        match screen.terminal_text(OffsetDateTime::now_utc()) {
            Ok(text) => write!(out, "{text}")?,
            Err(e) => writeln!(out, "cannot draw the QR code: {e}")?,
        }
    }
    writeln!(out, "{}", status_line(monitor))?;
    writeln!(out, "{HELP}")?;
    out.flush()
}

/// One line about the monitor: never the pairing code or token.
fn status_line(monitor: &Monitor) -> String {
    let record = monitor.registration_record();
    let state = monitor.state();
    // The wire spelling (READY_TO_PAIR), as the station and the seeds name states.
    let state_name = serde_json::to_string(&state).unwrap_or_default();
    let mut line = format!(
        "{} {} on https://{}",
        record.device_id,
        state_name.trim_matches('"'),
        monitor.local_addr()
    );
    match (state, monitor.screen(), monitor.configuration()) {
        (_, Some(screen), _) => line.push_str(&format!(
            " | QR on screen at {}, code expires {}",
            screen.qr_png_path.display(),
            zpair_proto::timestamp::format(screen.expires_at)
        )),
        (MonitorState::Provisioned, None, Some(configuration)) => line.push_str(&format!(
            " | server {}, certificate {}, {} at {}",
            configuration.server_url,
            configuration.certificate_serial,
            configuration.device_label,
            configuration.bed_id
        )),
        _ => {}
    }
    // Why the last pairing rolled back, or that the station refused the
    // certificate: what the monitor's screen says.
    if let Some(notice) = monitor.notice() {
        line.push_str(&format!(" | {notice}"));
    }
    line
}
