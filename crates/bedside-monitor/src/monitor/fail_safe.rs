//! The fail-safe commit (issue 11), after Matter's commissioning fail-safe
//! and two-phase commit with presumed abort.
//!
//! A configuration that arrives arms a fail-safe whose length the station
//! chose. When the station asks for the commit, the monitor *prepares* it
//! (`prepared.json`: nothing is in force yet) and sends its connection test —
//! a heartbeat over the new certificate — which is also its **proof of
//! commit**: the station records the pairing as PROVISIONED when it accepts
//! that heartbeat, in one transaction, and only then answers 2xx. The monitor
//! makes the commit final on that answer alone. A refusal, or no answer by the
//! fail-safe deadline, rolls it back to the configuration it had before.
//!
//! The station waits for the proof a few seconds longer than the monitor's
//! window, and answers any late proof with a refusal, so whatever byte the
//! network drops the two end on the same side: both PROVISIONED with the new
//! certificate, or both not, with the old configuration in force.
//! `prepared.json` carries the deadline, so a restarted monitor resumes the
//! confirmation (or rolls back) instead of guessing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::watch;
use zpair_proto::device::MonitorState;

use super::core::{Core, Inner};
use crate::MonitorError;
use crate::connection::{self, Verdict};
use crate::events::EventType;
use crate::provisioning::screen;
use crate::provisioning::session::SessionEnd;
use crate::station_configuration::{self, Credentials, Prepared};

/// The longest fail-safe a station may ask for: no state of an exchange
/// lasts longer than this.
pub const MAX_FAIL_SAFE: Duration = Duration::from_secs(300);
/// The shortest: a window that closes before one heartbeat could arrive
/// would only ever roll back.
pub const MIN_FAIL_SAFE: Duration = Duration::from_secs(1);
/// How long one proof-of-commit attempt may take; the station's window
/// outlasts the monitor's by more than this.
pub const ATTEMPT_TIMEOUT: Duration = zpair_proto::device::PROOF_ATTEMPT_TIMEOUT;
/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The fail-safe of the exchange under way: armed when a configuration
/// arrives (PAIRING_RECEIVED).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FailSafe {
    /// When it fires, on the monotonic clock.
    pub deadline: Instant,
    /// The same on the wall clock, for `prepared.json`.
    pub until: OffsetDateTime,
    /// How long it was armed for; a prepared commit keeps asking the
    /// station for its decision this long past the deadline before it
    /// gives up in doubt.
    pub length: Duration,
}

impl FailSafe {
    /// A fail-safe of `seconds` (clamped to what a monitor allows) from now.
    pub fn arm(seconds: u32, now: OffsetDateTime) -> Self {
        let length = Duration::from_secs(u64::from(seconds)).clamp(MIN_FAIL_SAFE, MAX_FAIL_SAFE);
        Self {
            deadline: Instant::now() + length,
            until: now + length,
            length,
        }
    }

    /// The fail-safe of a `prepared.json` read after a restart; never longer
    /// than a station may ask for, whatever the clock now says.
    fn resumed(until: OffsetDateTime, now: OffsetDateTime) -> Self {
        let left = Duration::try_from(until - now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_FAIL_SAFE);
        Self {
            deadline: Instant::now() + left,
            until,
            length: left.max(MIN_FAIL_SAFE),
        }
    }

    /// Whether it has fired.
    pub fn fired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// How a prepared commit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// The station accepted the proof: the configuration is in force.
    Committed,
    /// Refused or unanswered: the previous configuration is in force.
    RolledBack,
}

/// A prepared commit waiting for the station's confirmation.
pub(crate) struct Confirming {
    pub prepared: Prepared,
    pub credentials: Credentials,
    pub fail_safe: FailSafe,
    /// The challenge of the exchange (none after a restart), so a repeated
    /// commit request waits for the same outcome.
    pub challenge: Option<Vec<u8>>,
    pub outcome: watch::Sender<Option<Confirmation>>,
}

impl Core {
    /// Prepares `prepared` for commit and starts its confirmation; the
    /// receiver sees the outcome.
    pub(crate) fn prepare_commit(
        self: &Arc<Self>,
        inner: &mut Inner,
        prepared: Prepared,
        credentials: Credentials,
        fail_safe: FailSafe,
        challenge: Option<Vec<u8>>,
    ) -> Result<watch::Receiver<Option<Confirmation>>, MonitorError> {
        station_configuration::prepare(&self.dir, &prepared)?;
        let (outcome, receiver) = watch::channel(None);
        inner.confirming = Some(Confirming {
            prepared,
            credentials,
            fail_safe,
            challenge,
            outcome,
        });
        self.track_confirmation(tokio::spawn(confirm(self.clone())));
        Ok(receiver)
    }

    /// After a restart: the prepared commit on disk, if it is still in its
    /// window, is confirmed again; one past its window is rolled back.
    /// Returns whether a confirmation must be started.
    pub(crate) fn resume_prepared(
        &self,
        inner: &mut Inner,
        prepared: Prepared,
        now: OffsetDateTime,
    ) -> Result<bool, MonitorError> {
        let generation = prepared.committed.generation.clone();
        let credentials = station_configuration::credentials(&self.dir, &generation);
        match credentials {
            Ok(credentials) if prepared.until > now => {
                let (outcome, _) = watch::channel(None);
                inner.confirming = Some(Confirming {
                    fail_safe: FailSafe::resumed(prepared.until, now),
                    prepared,
                    credentials,
                    challenge: None,
                    outcome,
                });
                Ok(true)
            }
            _ => {
                station_configuration::clear_prepared(&self.dir)?;
                station_configuration::discard(&self.dir, &generation)?;
                let why = "The Central Station did not confirm the pairing before the monitor restarted past its fail-safe; the previous configuration stays in force.";
                self.events.failed(EventType::ProvisioningFailed, why);
                self.show_notice(why);
                Ok(false)
            }
        }
    }

    /// The fail-safe fired before the commit was asked for: the staged
    /// configuration goes and the monitor is ready to pair again.
    pub(crate) fn fail_safe_fired(&self, inner: &mut Inner) -> Result<(), MonitorError> {
        let why = "The Central Station did not complete the pairing within the fail-safe window; the previous configuration stays in force.";
        self.fail_exchange(inner, why)?;
        self.show_notice(why);
        Ok(())
    }

    /// The station accepted the proof of commit: the prepared configuration
    /// is put in force, the code is spent and the previous generation removed.
    fn commit_confirmed(&self) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        let Some(confirming) = inner.confirming.take() else {
            return Ok(());
        };
        let committed = confirming.prepared.committed.clone();
        if let Err(e) = station_configuration::commit(&self.dir, &committed) {
            tracing::error!(error = %e, "cannot write the confirmed configuration");
            inner.confirming = Some(confirming);
            drop(inner);
            return self.roll_back("The new configuration could not be saved.");
        }
        station_configuration::clear_prepared(&self.dir)?;
        let old = inner.committed.replace(committed);
        inner.exchange = None;
        inner.fail_safe = None;
        inner.staged_generation = None;
        if let Some(session) = inner.session.take() {
            inner.previous = Some(session.into_past(SessionEnd::Used));
        }
        self.save_pairing(&inner)?;
        self.set_state(&mut inner, MonitorState::Provisioned)?;
        self.events.ok(EventType::ConnectionTested);
        self.events
            .ok_with_hash(EventType::ProvisioningCompleted, &confirming.prepared.hash);
        if let Err(e) = screen::clear(&self.dir).and_then(|()| screen::clear_notice(&self.dir)) {
            tracing::warn!(error = %e, "cannot clear the screen");
        }
        let new_generation = confirming.prepared.committed.generation.as_str();
        if let Some(old) = old.filter(|o| o.generation != new_generation)
            && let Err(e) = station_configuration::discard(&self.dir, &old.generation)
        {
            tracing::warn!(error = %e, "cannot remove the previous certificates");
        }
        confirming
            .outcome
            .send_replace(Some(Confirmation::Committed));
        tracing::info!("the Central Station confirmed the commit");
        self.wake.notify_one();
        Ok(())
    }

    /// The commit was refused or never confirmed: the prepared configuration
    /// goes, the previous one stays in force, and the monitor is ready to
    /// pair again while its code lasts.
    fn roll_back(&self, why: &str) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        let Some(confirming) = inner.confirming.take() else {
            return Ok(());
        };
        let generation = &confirming.prepared.committed.generation;
        station_configuration::clear_prepared(&self.dir)?;
        if let Err(e) = station_configuration::discard(&self.dir, generation) {
            tracing::warn!(error = %e, "cannot remove the rolled-back certificates");
        }
        inner.fail_safe = None;
        self.events.failed(EventType::ConnectionTested, why);
        let shown = format!("{why} The previous configuration stays in force.");
        self.fail_exchange(&mut inner, &shown)?;
        self.show_notice(&shown);
        confirming
            .outcome
            .send_replace(Some(Confirmation::RolledBack));
        tracing::warn!(why, "rolled back the prepared configuration");
        self.wake.notify_one();
        Ok(())
    }

    /// The station refused the certificate in force: the monitor is not
    /// paired, whatever it believed. Its configuration goes (the station no
    /// longer accepts it) and the screen says so.
    pub(crate) fn certificate_refused(
        &self,
        generation: &str,
        why: &str,
    ) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        let in_force = inner.committed.as_ref().map(|c| c.generation.as_str());
        if inner.state != MonitorState::Provisioned || in_force != Some(generation) {
            return Ok(());
        }
        station_configuration::remove(&self.dir)?;
        inner.committed = None;
        self.set_state(&mut inner, MonitorState::Unprovisioned)?;
        self.events.failed(EventType::CertificateRefused, why);
        self.show_notice("Not paired: the Central Station no longer accepts this monitor's certificate. Enter provisioning mode and pair it again.");
        tracing::warn!(why, "the Central Station refused the certificate in force");
        Ok(())
    }

    /// Puts `text` on the screen; a screen that cannot be drawn is logged.
    pub(crate) fn show_notice(&self, text: &str) {
        if let Err(e) = screen::notice(&self.dir, text) {
            tracing::warn!(error = %e, "cannot show the notice");
        }
    }
}

/// Sends the proof of commit until the station answers or the fail-safe
/// fires, then commits or rolls back. Stops without deciding when the monitor
/// shuts down: `prepared.json` lets the next start carry on.
pub(crate) async fn confirm(core: Arc<Core>) {
    let mut stopping = core.stopping();
    let decided = tokio::select! {
        decided = async {
            core.applying().await;
            confirm_until_decided(&core).await
        } => decided,
        _ = stopping.wait_for(|stop| *stop) => return,
    };
    let result = match decided {
        Ok(()) => core.commit_confirmed(),
        Err(why) => core.roll_back(&why.to_string()),
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot record the outcome of the commit");
    }
}

/// Why a prepared commit is rolled back; its text is what the screen says.
#[derive(Debug, thiserror::Error)]
enum RollBack {
    /// The confirmation started with nothing prepared.
    #[error("Nothing was prepared to commit.")]
    NothingPrepared,
    /// The new configuration's certificates or key are unusable.
    #[error("The new configuration cannot be used: {0}.")]
    Unusable(connection::ConnectionError),
    /// The station refused the proof (its window had closed).
    #[error("The Central Station did not confirm the new configuration in time.")]
    Refused,
    /// No answer for twice the fail-safe window: rolled back in doubt.
    #[error("The Central Station could not be reached to confirm the new configuration.")]
    Unreachable,
}

/// `Ok` once the station accepted the proof, else why to roll back.
///
/// Up to the deadline each attempt is a proof of commit. The station's window
/// closes no later than the monitor's deadline, so past it the station has
/// decided, and each attempt asks for that decision (a proof it can no
/// longer accept is refused). Only when the station cannot be reached for as
/// long again does the monitor give up in doubt and roll back.
async fn confirm_until_decided(core: &Core) -> Result<(), RollBack> {
    let Some((credentials, server_url, serial, fail_safe)) =
        core.lock().confirming.as_ref().map(|c| {
            let configuration = &c.prepared.committed.configuration;
            (
                c.credentials.clone(),
                configuration.server_url.clone(),
                configuration.certificate_serial.clone(),
                c.fail_safe,
            )
        })
    else {
        return Err(RollBack::NothingPrepared);
    };
    let client =
        connection::client(&credentials, core.config.listen_ip).map_err(RollBack::Unusable)?;
    let give_up = fail_safe.deadline + fail_safe.length;
    let mut pause = Duration::from_millis(100);
    loop {
        let heartbeat = core.counters.heartbeat(&core.config.firmware_version, true);
        let attempt = tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            connection::deliver(&client, &credentials, &server_url, &serial, &heartbeat),
        )
        .await;
        match attempt.unwrap_or(Verdict::Unreachable("no answer in time".to_owned())) {
            Verdict::Accepted(sent) => {
                core.counters.sent(sent);
                return Ok(());
            }
            Verdict::Refused(detail) => {
                core.counters.failed();
                tracing::warn!(%detail, "the Central Station refused the proof of commit");
                return Err(RollBack::Refused);
            }
            Verdict::Unreachable(detail) => {
                core.counters.failed();
                tracing::info!(%detail, "the proof of commit did not get through; trying again");
            }
        }
        let left = give_up.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RollBack::Unreachable);
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}
