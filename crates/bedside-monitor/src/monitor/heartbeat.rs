//! Heartbeats: while PROVISIONED, the monitor tells the station it is alive
//! over mTLS with its committed configuration, with counters the station
//! shows in its connected-status view.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::watch;
use zpair_proto::device::{Heartbeat, MonitorState};

use super::core::Core;
use crate::connection::{self, Verdict};
use crate::station_configuration::{self, Credentials};

/// What the monitor counts about its connection since it started.
#[derive(Debug)]
pub(crate) struct Counters {
    started: Instant,
    bytes_sent: AtomicU64,
    errors: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            bytes_sent: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// The heartbeat to send now.
    pub fn heartbeat(&self, firmware_version: &str, connection_test: bool) -> Heartbeat {
        Heartbeat {
            uptime_seconds: self.started.elapsed().as_secs(),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            firmware_version: firmware_version.to_owned(),
            connection_test,
        }
    }

    /// Counts bytes delivered.
    pub fn sent(&self, bytes: u64) {
        self.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a failed delivery.
    pub fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends heartbeats until `shutdown` turns true: one as soon as the monitor
/// becomes PROVISIONED, then one every interval.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let mut states = core.watch();
    // The client of the generation in force, rebuilt when a new one commits.
    let mut link: Option<Link> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if core.state() == MonitorState::Provisioned {
            beat(&core, &mut link).await;
        }
        tokio::select! {
            () = tokio::time::sleep(core.config.heartbeat_interval) => {}
            changed = states.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
    }
}

/// The connection of the generation in force: its credentials and client.
type Link = (String, Credentials, reqwest::Client);

async fn beat(core: &Core, link: &mut Option<Link>) {
    let Some(committed) = core.committed() else {
        return;
    };
    if link
        .as_ref()
        .is_none_or(|(generation, _, _)| *generation != committed.generation)
    {
        let credentials = match station_configuration::credentials(&core.dir, &committed.generation)
        {
            Ok(credentials) => credentials,
            Err(error) => {
                core.counters.failed();
                tracing::warn!(%error, "cannot read the heartbeat credentials");
                return;
            }
        };
        match connection::client(&credentials) {
            Ok(c) => *link = Some((committed.generation.clone(), credentials, c)),
            Err(error) => {
                core.counters.failed();
                tracing::warn!(%error, "cannot set up the heartbeat connection");
                return;
            }
        }
    }
    let Some((_, credentials, http)) = link.as_ref() else {
        return;
    };
    let heartbeat = core
        .counters
        .heartbeat(&core.config.firmware_version, false);
    let verdict = connection::deliver(
        http,
        credentials,
        &committed.configuration.server_url,
        &committed.configuration.certificate_serial,
        &heartbeat,
    )
    .await;
    match verdict {
        Verdict::Accepted(sent) => {
            core.counters.sent(sent);
            tracing::debug!("heartbeat delivered");
        }
        Verdict::Refused(why) => {
            core.counters.failed();
            if let Err(error) = core.certificate_refused(&committed.generation, &why) {
                tracing::error!(%error, "cannot drop the refused configuration");
            }
        }
        Verdict::Unreachable(error) => {
            core.counters.failed();
            tracing::warn!(%error, "heartbeat failed");
        }
    }
}
