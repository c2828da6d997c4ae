//! The monitor's shared state and the one lock that guards it. Every change
//! of state goes through [`Core::set_state`], which enforces the state
//! machine's rules, persists the state and tells the watchers.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use zpair_proto::crypto::VerifyingKey;
use zpair_proto::device::MonitorState;

use super::fail_safe::{Confirming, FailSafe};
use super::heartbeat::Counters;
use super::station_auth::ReplayGuard;
use crate::MonitorError;
use crate::events::EventLog;
use crate::exchange::keys::ExchangeKeys;
use crate::identity::Identity;
use crate::machine::{self, Persisted, SessionOnDisk};
use crate::paths::DataDir;
use crate::provisioning::screen::{self, Screen};
use crate::provisioning::session::{PairingSession, PastSession, SessionEnd, StoredSession};
use crate::startup::MonitorConfig;
use crate::station_configuration::{
    self, AppliedConfiguration, Committed, Credentials, PendingRenewal,
};
use crate::storage::{self, PRIVATE_FILE};
use crate::trusted_station::Settings;

/// `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateFile {
    state: MonitorState,
    /// The generation staged by the exchange under way, to tell after a
    /// crash whether its commit was written.
    #[serde(default)]
    staged_generation: Option<String>,
    /// Station commands already carried out, so none is obeyed twice.
    #[serde(default)]
    seen_commands: Vec<SeenCommand>,
}

/// A station command already carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SeenCommand {
    pub nonce: String,
    #[serde(with = "zpair_proto::timestamp")]
    pub issued_at: OffsetDateTime,
}

/// `pairing.json` (0600): the session in force and what is left of the one before.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PairingFile {
    #[serde(default)]
    current: Option<StoredSession>,
    #[serde(default)]
    previous: Option<PastSession>,
}

/// A configuration that passed every check and waits for its connection test.
pub(crate) struct Staged {
    pub generation: String,
    pub applied: AppliedConfiguration,
    pub hash: String,
    pub credentials: Credentials,
}

/// One station's exchange with the monitor, from challenge to commit.
pub(crate) struct Exchange {
    pub challenge: Vec<u8>,
    pub keys: ExchangeKeys,
    /// When the last step arrived; an exchange left idle is abandoned.
    pub last_step: Instant,
    pub staged: Option<Staged>,
}

/// Everything that changes, under one lock (never held across an await).
pub(crate) struct Inner {
    pub state: MonitorState,
    pub session: Option<PairingSession>,
    pub previous: Option<PastSession>,
    pub exchange: Option<Exchange>,
    pub committed: Option<Committed>,
    pub station_key: Option<VerifyingKey>,
    pub seen_commands: Vec<SeenCommand>,
    pub staged_generation: Option<String>,
    /// Armed when a configuration arrives; rolls the exchange back when it fires.
    pub fail_safe: Option<FailSafe>,
    /// A commit prepared and waiting for the station's confirmation: only
    /// its confirmation (or the fail-safe) ends the exchange now.
    pub confirming: Option<Confirming>,
    /// A renewed client certificate staged, not yet in use.
    pub renewal: Option<PendingRenewal>,
}

impl Inner {
    /// Whether a prepared commit is waiting for the station.
    pub fn confirming(&self) -> bool {
        self.confirming.is_some()
    }
}

/// The running monitor's state, shared by its API, its server and its tasks.
pub(crate) struct Core {
    pub config: MonitorConfig,
    pub dir: DataDir,
    pub identity: Identity,
    pub events: EventLog,
    pub counters: Counters,
    /// Wakes the housekeeping task when a deadline may have moved.
    pub wake: Notify,
    inner: Mutex<Inner>,
    state_tx: watch::Sender<MonitorState>,
    /// Turns true when the monitor shuts down.
    stopping: watch::Receiver<bool>,
    /// The confirmation of a prepared commit, awaited at shutdown so no
    /// decision is written after the monitor stopped.
    confirmation: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Nonces of the station's signed requests, apart from the main lock:
    /// checking a request never waits for an exchange step.
    replay: Mutex<ReplayGuard>,
}

/// The renewal pending when the monitor stopped, if it still means
/// something: one whose switch was committed, that renews a generation no
/// longer in force, or whose files are gone is forgotten (its folder goes
/// with the other leftovers). One still pending stays pending, its new key
/// kept: the station may already have switched to it.
fn resume_renewal(
    dir: &DataDir,
    committed: Option<&Committed>,
) -> Result<Option<PendingRenewal>, MonitorError> {
    let Some(renewal) = station_configuration::load_renewal(dir)? else {
        return Ok(None);
    };
    let live = committed.is_some_and(|c| c.generation == renewal.renews)
        && station_configuration::credentials(dir, &renewal.committed.generation).is_ok();
    if live {
        return Ok(Some(renewal));
    }
    station_configuration::clear_renewal(dir)?;
    Ok(None)
}

impl Core {
    /// The time applying a configuration takes ([`MonitorConfig::apply_delay`]);
    /// none at all by default, not even a turn of the timer.
    pub(crate) async fn applying(&self) {
        if !self.config.apply_delay.is_zero() {
            tokio::time::sleep(self.config.apply_delay).await;
        }
    }

    /// Reads what the monitor had on disk and resumes where it may: never in
    /// the middle of an exchange (see [`machine::resume`]).
    pub fn resume(
        config: MonitorConfig,
        identity: Identity,
        settings: &Settings,
        stopping: watch::Receiver<bool>,
    ) -> Result<Self, MonitorError> {
        let dir = DataDir::new(config.data_dir.clone());
        let now = OffsetDateTime::now_utc();
        let state_file: Option<StateFile> = storage::read_json(&dir.state())?;
        let pairing: PairingFile = storage::read_json(&dir.pairing())?.unwrap_or_default();
        let committed = station_configuration::load(&dir)?;
        let mut prepared = station_configuration::load_prepared(&dir)?;
        let persisted_mid_exchange = state_file
            .as_ref()
            .is_some_and(|s| machine::mid_exchange(s.state));
        // A confirmed commit whose prepared file outlived it, or one found
        // outside an exchange: nothing to resume (leftover folders go below).
        let confirmed = prepared.as_ref().map(|p| &p.committed.generation)
            == committed.as_ref().map(|c| &c.generation);
        if (confirmed || !persisted_mid_exchange) && prepared.take().is_some() {
            station_configuration::clear_prepared(&dir)?;
        }
        let persisted_state = state_file
            .as_ref()
            .map_or(MonitorState::Unprovisioned, |s| s.state);
        let staged = state_file
            .as_ref()
            .and_then(|s| s.staged_generation.clone());
        let stored = pairing.current.as_ref();
        let resumed = machine::resume(Persisted {
            state: persisted_state,
            session: stored.map(|s| SessionOnDisk {
                entered_from: s.entered_from(),
                alive: s.alive(now),
            }),
            configured: committed.is_some(),
            staged_was_committed: staged.is_some()
                && committed.as_ref().map(|c| &c.generation) == staged.as_ref(),
            confirming: prepared.as_ref().is_some_and(|p| p.until > now),
        });

        let mut previous = pairing.previous;
        let mut session = None;
        if let Some(stored) = stored {
            match PairingSession::from_stored(stored) {
                Ok(s)
                    if matches!(
                        resumed,
                        MonitorState::ReadyToPair | MonitorState::TestingConnection
                    ) =>
                {
                    session = Some(s)
                }
                Ok(s) => {
                    let end = if s.is_expired(now) {
                        SessionEnd::Expired
                    } else {
                        SessionEnd::Used
                    };
                    previous = Some(s.into_past(end));
                }
                Err(e) => tracing::warn!(error = %e, "dropping a damaged pairing session"),
            }
        }
        // A session that did not survive leaves the monitor at rest.
        let state = if resumed == MonitorState::ReadyToPair && session.is_none() {
            machine::rest_state(persisted_state, committed.is_some())
        } else {
            resumed
        };
        if state != persisted_state {
            tracing::info!(from = ?persisted_state, to = ?state, "resumed after a restart");
        }
        let renewal = resume_renewal(&dir, committed.as_ref())?;
        let keep: Vec<&str> = committed
            .iter()
            .chain(prepared.iter().map(|p| &p.committed))
            .chain(renewal.iter().map(|r| &r.committed))
            .map(|c| c.generation.as_str())
            .collect();
        station_configuration::discard_all_but(&dir, &keep)?;

        let (state_tx, _) = watch::channel(state);
        let core = Self {
            events: EventLog::new(dir.events(), &identity.device_id),
            counters: Counters::default(),
            wake: Notify::new(),
            inner: Mutex::new(Inner {
                state,
                session,
                previous,
                exchange: None,
                committed,
                station_key: settings.station_key(),
                seen_commands: state_file.map(|s| s.seen_commands).unwrap_or_default(),
                staged_generation: None,
                fail_safe: None,
                confirming: None,
                renewal,
            }),
            state_tx,
            stopping,
            confirmation: Mutex::new(None),
            replay: Mutex::new(ReplayGuard::new(now)),
            config,
            dir,
            identity,
        };
        let mut inner = core.lock();
        if let Some(prepared) = prepared
            && !core.resume_prepared(&mut inner, prepared, now)?
            && inner.state == MonitorState::TestingConnection
        {
            // Its window closed while the monitor was off: rolled back.
            let rest = if inner.session.is_some() {
                MonitorState::ReadyToPair
            } else {
                machine::rest_state(persisted_state, inner.committed.is_some())
            };
            inner.state = rest;
            core.state_tx.send_replace(rest);
        }
        core.save_state(&inner)?;
        core.save_pairing(&inner)?;
        match &inner.session {
            Some(session) => {
                core.show(session)?;
            }
            None => screen::clear(&core.dir)?,
        }
        drop(inner);
        Ok(core)
    }

    /// Turns true when the monitor shuts down.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.clone()
    }

    /// Keeps the task confirming a prepared commit, for [`Self::confirmation_task`].
    pub fn track_confirmation(&self, task: tokio::task::JoinHandle<()>) {
        let mut slot = self.confirmation.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(task);
    }

    /// The task confirming a prepared commit, if one was started.
    pub fn confirmation_task(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.confirmation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// The lock; a panic elsewhere never makes the monitor unusable.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the state machine, if its rules allow it, and persists the move.
    pub fn set_state(&self, inner: &mut Inner, to: MonitorState) -> Result<(), MonitorError> {
        let from = inner.state;
        if !machine::allowed(from, to) {
            tracing::error!(
                ?from,
                ?to,
                "refused a transition the state machine does not allow"
            );
            return Err(MonitorError::Transition { from, to });
        }
        inner.state = to;
        self.save_state(inner)?;
        if from != to {
            tracing::info!(?from, ?to, "state changed");
            self.state_tx.send_replace(to);
        }
        Ok(())
    }

    /// Writes `state.json`.
    pub fn save_state(&self, inner: &Inner) -> Result<(), MonitorError> {
        let file = StateFile {
            state: inner.state,
            staged_generation: inner.staged_generation.clone(),
            seen_commands: inner.seen_commands.clone(),
        };
        Ok(storage::write_json(&self.dir.state(), &file, PRIVATE_FILE)?)
    }

    /// Writes `pairing.json` (0600: it holds the code and tokens).
    pub fn save_pairing(&self, inner: &Inner) -> Result<(), MonitorError> {
        let file = PairingFile {
            current: inner.session.as_ref().map(PairingSession::to_stored),
            previous: inner.previous.clone(),
        };
        Ok(storage::write_json(
            &self.dir.pairing(),
            &file,
            PRIVATE_FILE,
        )?)
    }

    /// What `session` puts on the screen.
    pub fn screen_of(&self, session: &PairingSession) -> Option<Screen> {
        let token = session.current_token()?;
        Some(Screen {
            payload: zpair_proto::QrPayload::new(
                &self.identity.device_id,
                &self.identity.serial,
                self.config.listen_ip,
                session.code(),
                token,
                session.expires_at(),
                &self.config.firmware_version,
            ),
            code: session.code().clone(),
            expires_at: session.expires_at(),
            qr_png_path: self.dir.screen_qr_png(),
        })
    }

    /// Draws `session` on the screen folder.
    pub fn show(&self, session: &PairingSession) -> Result<Option<Screen>, MonitorError> {
        let screen = self.screen_of(session);
        if let Some(screen) = &screen {
            screen::show(&self.dir, screen)?;
        }
        Ok(screen)
    }

    /// A receiver that sees every state change.
    pub fn watch(&self) -> watch::Receiver<MonitorState> {
        self.state_tx.subscribe()
    }

    /// The state now.
    pub fn state(&self) -> MonitorState {
        self.lock().state
    }

    /// The committed configuration.
    pub fn configuration(&self) -> Option<AppliedConfiguration> {
        self.lock()
            .committed
            .as_ref()
            .map(|c| c.configuration.clone())
    }

    /// The committed configuration with its generation.
    pub fn committed(&self) -> Option<Committed> {
        self.lock().committed.clone()
    }

    /// The station requests' replay guard; a poisoned lock still holds
    /// valid nonces.
    pub(crate) fn replay_guard(&self) -> MutexGuard<'_, ReplayGuard> {
        self.replay.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Trusts a new station key from now on.
    pub fn set_station_key(&self, key: VerifyingKey) {
        self.lock().station_key = Some(key);
    }
}
