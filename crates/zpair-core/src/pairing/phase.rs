//! The pairing state machine as the technician sees it, and what to do next
//! after each way it can fail, from one table.

use zpair_proto::api::{FailureReason, JobState};

use crate::error::ErrorCode;

/// Where one pairing attempt stands.
///
/// `Checking → Submitting → Pairing → Configuring → Validating →
/// [Confirming →] Provisioned`, or `Failed` from any job phase. The first two happen in the app; the
/// others are the station's job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairingPhase {
    /// Checking the scanned QR or the typed code locally.
    Checking,
    /// Sending the pair request; no job yet.
    Submitting,
    /// The station is reaching the monitor and proving the code.
    Pairing,
    /// The certificate is issued and the configuration pushed.
    Configuring,
    /// The monitor is testing its new connection.
    Validating,
    /// The station lost the monitor's answer and waits for its proof of commit.
    Confirming,
    /// Done.
    Provisioned,
    /// Stopped, for this reason.
    Failed(FailureReason),
}

impl PairingPhase {
    /// The phase a job state puts the attempt in. A failed job without a
    /// reason is reported as interrupted: the station could not say more.
    pub fn from_job(state: JobState, reason: Option<FailureReason>) -> Self {
        match state {
            JobState::Pairing => PairingPhase::Pairing,
            JobState::Configuring => PairingPhase::Configuring,
            JobState::Validating => PairingPhase::Validating,
            JobState::Confirming => PairingPhase::Confirming,
            JobState::Provisioned => PairingPhase::Provisioned,
            JobState::Failed => PairingPhase::Failed(reason.unwrap_or(FailureReason::Interrupted)),
        }
    }

    /// The station's job state, for the phases that are one.
    pub fn job_state(self) -> Option<JobState> {
        match self {
            PairingPhase::Checking | PairingPhase::Submitting => None,
            PairingPhase::Pairing => Some(JobState::Pairing),
            PairingPhase::Configuring => Some(JobState::Configuring),
            PairingPhase::Validating => Some(JobState::Validating),
            PairingPhase::Confirming => Some(JobState::Confirming),
            PairingPhase::Provisioned => Some(JobState::Provisioned),
            PairingPhase::Failed(_) => Some(JobState::Failed),
        }
    }

    /// Nothing follows a terminal phase.
    pub fn is_terminal(self) -> bool {
        matches!(self, PairingPhase::Provisioned | PairingPhase::Failed(_))
    }

    /// Upper-case label, as the app and the CLI show it (`SUBMITTING`, `PAIRING`, …).
    pub fn label(self) -> &'static str {
        match self {
            PairingPhase::Checking => "CHECKING",
            PairingPhase::Submitting => "SUBMITTING",
            other => other.job_state().map(JobState::as_str).unwrap_or("FAILED"),
        }
    }

    fn rank(self) -> u8 {
        match self {
            PairingPhase::Checking => 0,
            PairingPhase::Submitting => 1,
            PairingPhase::Pairing => 2,
            PairingPhase::Configuring => 3,
            PairingPhase::Validating => 4,
            PairingPhase::Confirming => 5,
            PairingPhase::Provisioned | PairingPhase::Failed(_) => 6,
        }
    }

    /// Whether `next` may follow this phase: forward only (or the same phase
    /// again, for a second message in one step), never out of a terminal one.
    pub fn can_advance_to(self, next: PairingPhase) -> bool {
        !self.is_terminal() && next.rank() >= self.rank()
    }
}

pub use zpair_proto::error_code::{Entry, NextAction};

/// What to do after a job failed for `reason`.
pub fn next_action_for_failure(reason: FailureReason, entry: Entry) -> NextAction {
    reason
        .code()
        .next_action(entry)
        .unwrap_or(NextAction::CallIt)
}

/// What to do after a request was refused with `code`; `None` for codes
/// whose message is all there is to say.
pub fn next_action_for_code(code: ErrorCode, entry: Entry) -> Option<NextAction> {
    code.next_action(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_reason_has_a_next_action_and_a_message() {
        for reason in FailureReason::ALL {
            assert!(
                reason.code().next_action(Entry::Typed).is_some(),
                "{reason:?} has no next action"
            );
            assert!(!reason.message().is_empty());
        }
    }

    #[test]
    fn actions_depend_on_how_the_monitor_was_identified() {
        assert_eq!(
            next_action_for_failure(FailureReason::CodeMismatch, Entry::Scanned),
            NextAction::Rescan
        );
        assert_eq!(
            next_action_for_failure(FailureReason::CodeMismatch, Entry::Typed),
            NextAction::ReenterCode
        );
        assert_eq!(
            next_action_for_failure(FailureReason::MonitorUnreachable, Entry::Typed),
            NextAction::Retry
        );
        assert_eq!(
            next_action_for_failure(FailureReason::SignatureInvalid, Entry::Scanned),
            NextAction::CallIt
        );
        assert_eq!(
            next_action_for_code(ErrorCode::SessionExpired, Entry::Scanned),
            Some(NextAction::SignIn)
        );
        assert_eq!(
            next_action_for_code(ErrorCode::ReprovisionRequired, Entry::Typed),
            Some(NextAction::Reprovision)
        );
        assert_eq!(
            next_action_for_code(ErrorCode::DeviceDeprovisioned, Entry::Scanned),
            Some(NextAction::CallIt)
        );
        assert_eq!(
            next_action_for_code(ErrorCode::InvalidCredentials, Entry::Scanned),
            None
        );
    }

    #[test]
    fn phases_only_move_forward_and_stop_at_the_end() {
        use PairingPhase::*;
        let path = [
            Checking,
            Submitting,
            Pairing,
            Configuring,
            Validating,
            Confirming,
            Provisioned,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_advance_to(pair[1]), "{pair:?}");
            assert!(!pair[1].can_advance_to(pair[0]), "{pair:?}");
        }
        assert!(Pairing.can_advance_to(Pairing));
        assert!(Configuring.can_advance_to(Failed(FailureReason::CodeMismatch)));
        assert!(!Provisioned.can_advance_to(Failed(FailureReason::Interrupted)));
        assert!(!Failed(FailureReason::Interrupted).can_advance_to(Provisioned));
    }

    #[test]
    fn job_states_map_both_ways() {
        for state in [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Confirming,
            JobState::Provisioned,
            JobState::Failed,
        ] {
            let phase = PairingPhase::from_job(state, Some(FailureReason::CodeExpired));
            assert_eq!(phase.job_state(), Some(state));
            assert_eq!(phase.label(), state.as_str());
        }
        assert_eq!(PairingPhase::Submitting.label(), "SUBMITTING");
        assert_eq!(
            PairingPhase::from_job(JobState::Failed, None),
            PairingPhase::Failed(FailureReason::Interrupted)
        );
    }
}
