//! The pairings of this run, in flight and finished: what the app lists and
//! what every change announces.
//!
//! A plain mutex: it is never held across an await, only while one pairing
//! is read or changed.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zpair_proto::api;

use crate::error::{ErrorCode, UserFacing, UserFacingError};
use crate::pairing::{NextAction, PairTarget};

/// The first step of every attempt, before the station has answered.
const SUBMITTING_MESSAGE: &str = "Sending the pair request to the Central Station…";
/// The first step of a retry.
const RETRY_MESSAGE: &str = "Trying again with the same device ID and code…";

/// Where a pairing stands: SUBMITTING is the app's own (the request is on
/// its way, no job yet); the others are the station's job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(rename = "JobState")]
pub enum Stage {
    /// Before the station has a job.
    Submitting,
    /// [`api::JobState::Pairing`].
    Pairing,
    /// [`api::JobState::Configuring`].
    Configuring,
    /// [`api::JobState::Validating`].
    Validating,
    /// [`api::JobState::Confirming`].
    Confirming,
    /// [`api::JobState::Provisioned`].
    Provisioned,
    /// [`api::JobState::Failed`], or refused before a job: the pairing's
    /// failure says why.
    Failed,
}

impl Stage {
    /// Nothing follows PROVISIONED or FAILED.
    pub fn is_finished(self) -> bool {
        matches!(self, Stage::Provisioned | Stage::Failed)
    }
}

impl From<api::JobState> for Stage {
    fn from(state: api::JobState) -> Self {
        match state {
            api::JobState::Pairing => Stage::Pairing,
            api::JobState::Configuring => Stage::Configuring,
            api::JobState::Validating => Stage::Validating,
            api::JobState::Confirming => Stage::Confirming,
            api::JobState::Provisioned => Stage::Provisioned,
            api::JobState::Failed => Stage::Failed,
        }
    }
}

/// One step of a pairing, as it happened, on the app's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The stage reached.
    pub state: Stage,
    /// What it means for the technician.
    pub message: String,
    /// When the app saw it.
    pub at: OffsetDateTime,
}

/// One pairing of this run: `pairing_id` is the app's, `job_id` the station's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// The app's ID for it.
    pub pairing_id: String,
    /// The station's job, once it has one.
    pub job_id: Option<String>,
    /// The monitor.
    pub device_id: String,
    /// The latest stage.
    pub state: Stage,
    /// Every step so far, oldest first.
    pub steps: Vec<Step>,
    /// Why it failed, when it did.
    pub failure: Option<UserFacingError>,
    /// What to do about the failure.
    pub next_action: Option<NextAction>,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// Counts its changes, from 1. The UI learns of a pairing both from a
    /// command's answer and from status events, in either order (a refusal
    /// can be announced before the answer that started the pairing
    /// arrives): the copy with the higher revision is the newer.
    pub revision: u32,
}

/// Why a pairing could not be started, retried or dismissed.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// No pairing with that ID in this run.
    #[error("This pairing is no longer listed. Start a new pairing from the monitor's code.")]
    Unknown,
    /// A pairing of that monitor is still running.
    #[error(
        "Monitor {device_id} is already being paired. Wait for that pairing to finish, then try again if it failed."
    )]
    InProgress {
        /// The monitor.
        device_id: String,
    },
    /// Only a failed pairing can be retried.
    #[error(
        "Monitor {device_id} is already provisioned by this pairing; there is nothing to retry."
    )]
    AlreadyProvisioned {
        /// The monitor.
        device_id: String,
    },
}

impl UserFacing for BookError {
    fn code(&self) -> ErrorCode {
        match self {
            BookError::Unknown => ErrorCode::UnknownPairing,
            BookError::InProgress { .. } => ErrorCode::PairingInProgress,
            BookError::AlreadyProvisioned { .. } => ErrorCode::AlreadyProvisioned,
        }
    }
}

/// One pairing and what retrying it needs (the code stays in memory only,
/// inside a target whose `Debug` redacts it).
#[derive(Debug)]
struct Tracked {
    pairing: Pairing,
    target: PairTarget,
    /// Order of creation, for newest-first listing when start times tie.
    sequence: u64,
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<String, Tracked>,
    created: u64,
}

/// Every pairing of this run, by the app's pairing ID.
#[derive(Debug, Default)]
pub struct PairingBook {
    entries: Mutex<Entries>,
}

impl PairingBook {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Each change below is complete before the lock is released, so a
        // panic elsewhere never leaves a half-changed pairing behind.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a pairing in SUBMITTING, unless the same monitor is being paired.
    pub fn begin(&self, target: PairTarget) -> Result<Pairing, BookError> {
        let mut entries = self.entries();
        refuse_if_running(&entries, target.device_id())?;
        entries.created += 1;
        let sequence = entries.created;
        let now = OffsetDateTime::now_utc();
        let pairing = Pairing {
            pairing_id: format!("pairing-{sequence}"),
            job_id: None,
            device_id: target.device_id().to_owned(),
            state: Stage::Submitting,
            steps: vec![Step {
                state: Stage::Submitting,
                message: SUBMITTING_MESSAGE.to_owned(),
                at: now,
            }],
            failure: None,
            next_action: None,
            started_at: now,
            revision: 1,
        };
        entries.by_id.insert(
            pairing.pairing_id.clone(),
            Tracked {
                pairing: pairing.clone(),
                target,
                sequence,
            },
        );
        Ok(pairing)
    }

    /// Puts a failed pairing back in SUBMITTING, keeping its steps so far,
    /// and returns it with the target to send again.
    pub fn restart(&self, pairing_id: &str) -> Result<(Pairing, PairTarget), BookError> {
        let mut entries = self.entries();
        let tracked = entries.by_id.get(pairing_id).ok_or(BookError::Unknown)?;
        let device_id = tracked.pairing.device_id.clone();
        match tracked.pairing.state {
            Stage::Failed => {}
            Stage::Provisioned => return Err(BookError::AlreadyProvisioned { device_id }),
            _ => return Err(BookError::InProgress { device_id }),
        }
        refuse_if_running(&entries, &device_id)?;
        let tracked = entries
            .by_id
            .get_mut(pairing_id)
            .ok_or(BookError::Unknown)?;
        let pairing = &mut tracked.pairing;
        pairing.state = Stage::Submitting;
        pairing.job_id = None;
        pairing.failure = None;
        pairing.next_action = None;
        pairing.steps.push(Step {
            state: Stage::Submitting,
            message: RETRY_MESSAGE.to_owned(),
            at: OffsetDateTime::now_utc(),
        });
        pairing.revision = pairing.revision.saturating_add(1);
        Ok((pairing.clone(), tracked.target.clone()))
    }

    /// Applies `change` to a pairing; returns the pairing when it changed,
    /// so only real changes are announced.
    pub fn update(&self, pairing_id: &str, change: impl FnOnce(&mut Pairing)) -> Option<Pairing> {
        let mut entries = self.entries();
        let pairing = &mut entries.by_id.get_mut(pairing_id)?.pairing;
        let before = pairing.clone();
        change(pairing);
        if *pairing == before {
            return None;
        }
        pairing.revision = before.revision.saturating_add(1);
        Some(pairing.clone())
    }

    /// Removes a finished pairing from the list.
    pub fn dismiss(&self, pairing_id: &str) -> Result<(), BookError> {
        let mut entries = self.entries();
        let tracked = entries.by_id.get(pairing_id).ok_or(BookError::Unknown)?;
        if !tracked.pairing.state.is_finished() {
            return Err(BookError::InProgress {
                device_id: tracked.pairing.device_id.clone(),
            });
        }
        entries.by_id.remove(pairing_id);
        Ok(())
    }

    /// Every pairing of this run, newest first.
    pub fn list(&self) -> Vec<Pairing> {
        let entries = self.entries();
        let mut tracked: Vec<&Tracked> = entries.by_id.values().collect();
        tracked.sort_by_key(|t| std::cmp::Reverse(t.sequence));
        tracked.into_iter().map(|t| t.pairing.clone()).collect()
    }

    /// Whether a pairing of `device_id` is still running.
    pub fn is_running(&self, device_id: &str) -> bool {
        self.entries().is_running(device_id)
    }
}

impl Entries {
    fn is_running(&self, device_id: &str) -> bool {
        self.by_id
            .values()
            .any(|t| t.pairing.device_id == device_id && !t.pairing.state.is_finished())
    }
}

fn refuse_if_running(entries: &Entries, device_id: &str) -> Result<(), BookError> {
    if entries.is_running(device_id) {
        return Err(BookError::InProgress {
            device_id: device_id.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PairingCode;

    fn target(device_id: &str) -> PairTarget {
        PairTarget::Typed {
            device_id: device_id.to_owned(),
            code: PairingCode::parse("K7P-M3X-Q9R").expect("valid code"),
        }
    }

    fn finish(book: &PairingBook, pairing_id: &str, state: Stage) {
        book.update(pairing_id, |p| p.state = state)
            .expect("changed");
    }

    #[test]
    fn one_running_pairing_per_monitor() {
        let book = PairingBook::default();
        let first = book.begin(target("ZM-1")).expect("first");
        assert_eq!(first.state, Stage::Submitting);
        assert_eq!(first.steps.len(), 1);
        let again = book.begin(target("ZM-1")).expect_err("still running");
        assert_eq!(again.code(), ErrorCode::PairingInProgress);
        book.begin(target("ZM-2")).expect("another monitor");
        finish(&book, &first.pairing_id, Stage::Failed);
        book.begin(target("ZM-1")).expect("after the first failed");
    }

    #[test]
    fn only_failed_pairings_are_retried_and_only_finished_ones_dismissed() {
        let book = PairingBook::default();
        let pairing = book.begin(target("ZM-1")).expect("begin");
        let id = pairing.pairing_id.as_str();
        assert_eq!(
            book.restart(id).expect_err("running").code(),
            ErrorCode::PairingInProgress
        );
        assert_eq!(
            book.dismiss(id).expect_err("running").code(),
            ErrorCode::PairingInProgress
        );

        book.update(id, |p| {
            p.state = Stage::Failed;
            p.job_id = Some("job-1".into());
        });
        let (retried, target) = book.restart(id).expect("retry a failed one");
        assert_eq!(retried.state, Stage::Submitting);
        assert_eq!(retried.job_id, None);
        assert_eq!(retried.steps.len(), 2, "earlier steps are kept");
        assert_eq!(target.device_id(), "ZM-1");

        finish(&book, id, Stage::Provisioned);
        assert_eq!(
            book.restart(id).expect_err("done").code(),
            ErrorCode::AlreadyProvisioned
        );
        book.dismiss(id).expect("dismiss a finished one");
        assert!(book.list().is_empty());
        assert_eq!(
            book.dismiss(id).expect_err("gone").code(),
            ErrorCode::UnknownPairing
        );
    }

    #[test]
    fn every_change_raises_the_revision_so_the_newer_copy_is_known() {
        let book = PairingBook::default();
        let begun = book.begin(target("ZM-1")).expect("begin");
        assert_eq!(begun.revision, 1);
        let id = begun.pairing_id.as_str();
        assert!(book.update(id, |_| {}).is_none(), "no change, no revision");
        let failed = book
            .update(id, |p| p.state = Stage::Failed)
            .expect("changed");
        assert_eq!(failed.revision, 2);
        let (retried, _) = book.restart(id).expect("retry");
        assert_eq!(retried.revision, 3);
        assert_eq!(book.list()[0].revision, 3);
    }

    #[test]
    fn lists_newest_first_and_reports_only_real_changes() {
        let book = PairingBook::default();
        let older = book.begin(target("ZM-1")).expect("older");
        let newer = book.begin(target("ZM-2")).expect("newer");
        let ids: Vec<String> = book.list().into_iter().map(|p| p.pairing_id).collect();
        assert_eq!(ids, [newer.pairing_id.clone(), older.pairing_id.clone()]);
        assert!(book.update(&older.pairing_id, |_| {}).is_none());
        assert!(
            book.update("no-such-pairing", |p| p.state = Stage::Failed)
                .is_none()
        );
    }
}
