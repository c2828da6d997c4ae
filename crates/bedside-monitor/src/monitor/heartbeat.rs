//! Heartbeats: while PROVISIONED, the monitor tells the station it is alive
//! over mTLS with its committed configuration, with counters the station
//! shows in its connected-status view. They also carry the certificate's
//! renewal: the request once it is due, and the switch (see `renewal`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::watch;
use zpair_proto::device::{Heartbeat, MonitorState};

use super::core::Core;
use crate::connection::{self, Verdict};
use crate::events::EventType;
use crate::station_configuration::{self, Credentials, PendingRenewal};

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
    // A renewal waiting to be switched to comes first: it is the working
    // certificate even when the one in force has expired meanwhile.
    if let Some(pending) = core.pending_renewal() {
        if pending.renews == committed.generation {
            switch_beat(core, &pending).await;
            return;
        }
        if let Err(error) =
            core.discard_renewal(&pending, "it renews a configuration no longer in force")
        {
            tracing::warn!(%error, "cannot remove a stale renewal");
        }
    }
    let now = time::OffsetDateTime::now_utc();
    if committed.configuration.certificate_not_after <= now {
        // The station's TLS port refuses an expired certificate; only
        // re-provisioning gives the monitor a new one.
        core.counters.failed();
        core.show_notice("Not connected: this monitor's certificate expired before it could be renewed. Ask a technician to re-provision it.");
        tracing::warn!("the client certificate expired: not sending heartbeats");
        return;
    }
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
        match connection::client(&credentials, core.config.listen_ip) {
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
            if core.renewal_due(credentials, now) {
                match core.request_renewal(http, &committed, credentials).await {
                    Ok(()) => {}
                    Err(error) => {
                        core.counters.failed();
                        core.events
                            .failed(EventType::CertificateRenewalReceived, &error.to_string());
                        tracing::warn!(%error, "certificate renewal failed; will retry");
                    }
                }
            }
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

/// A heartbeat with the renewed certificate only: its acceptance is the
/// switch (see the `renewal` module), a definite refusal gives it up, and no
/// answer leaves it pending for the next one.
async fn switch_beat(core: &Core, pending: &PendingRenewal) {
    let generation = &pending.committed.generation;
    let client = station_configuration::credentials(&core.dir, generation)
        .map_err(|e| e.to_string())
        .and_then(|c| {
            connection::client(&c, core.config.listen_ip)
                .map(|h| (c, h))
                .map_err(|e| e.to_string())
        });
    let (credentials, http) = match client {
        Ok(pair) => pair,
        Err(error) => {
            if let Err(e) = core.discard_renewal(pending, &error) {
                tracing::warn!(error = %e, "cannot remove an unusable renewal");
            }
            return;
        }
    };
    let heartbeat = core
        .counters
        .heartbeat(&core.config.firmware_version, false);
    let verdict = connection::deliver(
        &http,
        &credentials,
        &pending.committed.configuration.server_url,
        &pending.committed.configuration.certificate_serial,
        &heartbeat,
    )
    .await;
    match verdict {
        Verdict::Accepted(sent) => {
            core.counters.sent(sent);
            if let Err(error) = core.commit_renewal(pending) {
                tracing::error!(%error, "cannot commit the renewed certificate");
            }
        }
        Verdict::Refused(why) => {
            core.counters.failed();
            if let Err(error) = core.discard_renewal(pending, &why) {
                tracing::error!(%error, "cannot give up the renewed certificate");
            }
        }
        Verdict::Unreachable(error) => {
            core.counters.failed();
            tracing::warn!(%error, "heartbeat with the renewed certificate failed; will retry");
        }
    }
}
