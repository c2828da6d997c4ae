//! One pairing in the background: zpair-core's workflow reports each step,
//! and each step becomes the pairing's new state, step list and event; the
//! outcome adds the failure, the next action and the history line.

use std::sync::Arc;

use time::OffsetDateTime;
use zpair_proto::api::FailureReason;

use super::{Pairing, Pairings, Stage, Step};
use crate::error::{UserFacing, UserFacingError};
use crate::history::{HistoryAction, HistoryOutcome};
use crate::pairing::{
    Entry, PairTarget, PairingError, PairingOutcome, PairingPhase, PairingProgress,
    next_action_for_failure,
};
use crate::session::TechnicianSession;

/// Runs the pairing to its end and records how it ended.
pub(super) async fn follow(
    pairings: Pairings,
    pairing_id: String,
    session: Arc<TechnicianSession>,
    target: PairTarget,
) {
    let device_id = target.device_id().to_owned();
    // What to do after a failure depends on how the code was entered: a
    // scanned one is scanned again, a typed one typed again.
    let entry = target.entry();
    let outcome = crate::pairing::pair(&session, target, |progress| {
        step(&pairings, &pairing_id, entry, progress);
    })
    .await;
    finish(&pairings, &pairing_id, &device_id, entry, outcome);
}

/// A job step from the station; the local steps before it are already shown
/// as SUBMITTING.
fn step(pairings: &Pairings, pairing_id: &str, entry: Entry, progress: &PairingProgress) {
    let Some(state) = progress.job_state() else {
        return;
    };
    let reason = match progress.phase {
        PairingPhase::Failed(reason) => Some(reason),
        _ => None,
    };
    let updated = pairings.book.update(pairing_id, |pairing| {
        pairing.state = state.into();
        if let Some(job_id) = &progress.job_id {
            pairing.job_id = Some(job_id.clone());
        }
        // The app's clock, like `startedAt`, so offsets between steps are
        // measured on one clock (the station's times are whole seconds).
        pairing.steps.push(Step {
            state: state.into(),
            message: progress.message.clone(),
            at: OffsetDateTime::now_utc(),
        });
        if let Some(reason) = reason {
            fail_with_reason(pairing, reason, entry);
        }
    });
    announce(pairings, updated);
}

fn fail_with_reason(pairing: &mut Pairing, reason: FailureReason, entry: Entry) {
    pairing.state = Stage::Failed;
    pairing.failure = Some(UserFacingError::from_code(reason.code()));
    pairing.next_action = Some(next_action_for_failure(reason, entry));
}

fn finish(
    pairings: &Pairings,
    pairing_id: &str,
    device_id: &str,
    entry: Entry,
    outcome: Result<PairingOutcome, PairingError>,
) {
    let (updated, outcome, failure_code) = match outcome {
        Ok(PairingOutcome::Provisioned { job_id, .. }) => {
            tracing::info!(pairing_id, device_id, job_id = %job_id, "pairing provisioned");
            let updated = pairings.book.update(pairing_id, |pairing| {
                pairing.state = Stage::Provisioned;
            });
            (updated, HistoryOutcome::Provisioned, None)
        }
        Ok(PairingOutcome::Failed { job_id, reason, .. }) => {
            tracing::info!(pairing_id, device_id, job_id = %job_id, reason = %reason.code(), "pairing failed");
            let updated = pairings.book.update(pairing_id, |pairing| {
                fail_with_reason(pairing, reason, entry);
            });
            (updated, HistoryOutcome::Failed, Some(reason.code()))
        }
        Err(error) => {
            let code = error.code();
            tracing::info!(pairing_id, device_id, code = %code, "pairing refused");
            let next_action = error.next_action(entry);
            let failure = super::refusal(pairings.notifier.as_ref(), &error);
            let updated = pairings.book.update(pairing_id, |pairing| {
                pairing.state = Stage::Failed;
                pairing.steps.push(Step {
                    state: Stage::Failed,
                    message: failure.message.clone(),
                    at: OffsetDateTime::now_utc(),
                });
                pairing.failure = Some(failure);
                pairing.next_action = next_action;
            });
            (updated, HistoryOutcome::Failed, Some(code))
        }
    };
    pairings
        .history
        .record_or_warn(device_id, HistoryAction::Paired, outcome, failure_code);
    announce(pairings, updated);
}

fn announce(pairings: &Pairings, updated: Option<Pairing>) {
    if let Some(pairing) = updated {
        pairings.notifier.pairing_changed(&pairing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairing::NextAction;

    fn pairing() -> Pairing {
        Pairing {
            pairing_id: "pairing-1".into(),
            job_id: None,
            device_id: "ZM-1".into(),
            state: Stage::Pairing,
            steps: Vec::new(),
            failure: None,
            next_action: None,
            started_at: OffsetDateTime::UNIX_EPOCH,
            revision: 1,
        }
    }

    #[test]
    fn a_code_mismatch_says_to_do_again_what_was_done() {
        let mut scanned = pairing();
        fail_with_reason(&mut scanned, FailureReason::CodeMismatch, Entry::Scanned);
        assert_eq!(scanned.next_action, Some(NextAction::Rescan));
        let mut typed = pairing();
        fail_with_reason(&mut typed, FailureReason::CodeMismatch, Entry::Typed);
        assert_eq!(typed.next_action, Some(NextAction::ReenterCode));
        assert_eq!(
            typed.failure.map(|f| f.code),
            Some(crate::error::ErrorCode::CodeMismatch)
        );
    }
}
