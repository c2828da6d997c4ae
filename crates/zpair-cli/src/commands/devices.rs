//! `zpair status ID [--follow]`.

use std::time::Duration;

use zpair_core::client::EventStream;
use zpair_core::session::TechnicianSession;
use zpair_proto::api::{ConnectedStatus, JobEvent};

use super::signed_in;
use crate::failure::Failure;
use crate::output::{Output, clock, say, timestamp};

/// How often `status --follow` re-reads the status between events.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(5);

/// The connected-status view; with `--follow`, again on every event of the
/// monitor's jobs and whenever it changes, until Ctrl-C.
pub async fn status(out: &Output, args: crate::StatusArgs) -> Result<(), Failure> {
    let session = signed_in().await?;
    let mut last = fetch(&session, &args.device_id).await?;
    print_status(out, &last);
    if !args.follow {
        return Ok(());
    }
    let mut events: Option<EventStream> = None;
    let mut ticker = tokio::time::interval(FOLLOW_INTERVAL);
    ticker.tick().await;
    loop {
        if events.is_none() {
            events = subscribe(&session, &args.device_id).await;
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = ticker.tick() => {
                let now = fetch(&session, &args.device_id).await?;
                if now != last {
                    print_status(out, &now);
                    last = now;
                }
            }
            next = next_event(&mut events) => match next {
                Some(event) => {
                    print_event(out, &event);
                    last = fetch(&session, &args.device_id).await?;
                    print_status(out, &last);
                }
                // Ended or broke: subscribe again on the next turn.
                None => events = None,
            },
        }
    }
}

async fn fetch(session: &TechnicianSession, device_id: &str) -> Result<ConnectedStatus, Failure> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.device_status(&token, device_id).await })
        .await?)
}

async fn subscribe(session: &TechnicianSession, device_id: &str) -> Option<EventStream> {
    let token = session.access_token().await.ok()?;
    match session.client().device_events(&token, device_id).await {
        Ok(stream) => Some(stream),
        Err(e) => {
            tracing::warn!(error = %e, "device events unavailable; polling only");
            None
        }
    }
}

/// The next event; waits forever without a stream (the ticker still runs).
async fn next_event(events: &mut Option<EventStream>) -> Option<JobEvent> {
    match events {
        Some(stream) => stream.next().await.ok().flatten(),
        None => std::future::pending().await,
    }
}

fn print_event(out: &Output, event: &JobEvent) {
    if out.is_json() {
        out.json_line(&serde_json::json!({ "type": "event", "event": event }));
    } else {
        say(&format!(
            "{}  {:<12}  {}",
            clock(time::OffsetDateTime::now_utc()),
            event.state.as_str(),
            event.message
        ));
    }
}

fn print_status(out: &Output, s: &ConnectedStatus) {
    out.result(s, || {
        let mut lines = vec![
            format!("{} ({})", s.device_id, s.device_label),
            format!("  State:           {}", s.state.as_str()),
            format!("  Connection:      {}", connection(s)),
            format!(
                "  Server URL:      {}",
                s.server_url.as_deref().unwrap_or("-")
            ),
        ];
        match &s.certificate {
            Some(c) => lines.push(format!(
                "  Certificate:     serial {}, valid {} to {}, {}",
                c.serial,
                timestamp(c.not_before),
                timestamp(c.not_after),
                serde_json::to_value(c.validity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )),
            None => lines.push("  Certificate:     none".into()),
        }
        lines.push(format!(
            "  Last connected:  {}",
            s.last_connected
                .map(timestamp)
                .unwrap_or_else(|| "never".into())
        ));
        lines.push(format!("  Uptime:          {}", uptime(s.uptime_seconds)));
        lines.push(format!(
            "  Heartbeats:      {}   bytes sent: {}   errors: {}",
            s.counters.heartbeats, s.counters.bytes_sent, s.counters.errors
        ));
        lines.join("\n")
    });
}

fn connection(s: &ConnectedStatus) -> String {
    serde_json::to_value(s.connection_state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn uptime(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!("{h}h {m:02}m {s:02}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_as_hours_minutes_seconds() {
        assert_eq!(uptime(0), "0h 00m 00s");
        assert_eq!(uptime(3_723), "1h 02m 03s");
    }
}
