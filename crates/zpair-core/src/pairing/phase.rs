//! The pairing state machine as the technician sees it, and what to do next
//! after each way it can fail, from one table.

use serde::{Deserialize, Serialize};
use zpair_proto::api::{FailureReason, JobState};

use crate::error::codes;

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

/// What the technician should do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextAction {
    /// Try the same request again (network, station restart).
    Retry,
    /// Type the code again (as shown on the monitor now).
    ReenterCode,
    /// Scan the monitor's QR code again.
    Rescan,
    /// Something is misconfigured or not allowed: contact IT support.
    CallIt,
    /// Sign in again.
    SignIn,
    /// Re-provision the monitor (password, reason, device ID), then pair it
    /// with the new code it shows.
    Reprovision,
}

impl NextAction {
    /// The wire spelling (`reenter_code`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NextAction::Retry => "retry",
            NextAction::ReenterCode => "reenter_code",
            NextAction::Rescan => "rescan",
            NextAction::CallIt => "call_it",
            NextAction::SignIn => "sign_in",
            NextAction::Reprovision => "reprovision",
        }
    }
}

/// How the monitor was identified, which decides between re-scanning and
/// re-typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    /// From the QR code.
    Scanned,
    /// Typed device ID and code.
    Typed,
}

/// One row per failure reason: the next action after a scan, after typing.
/// The reason's message is `FailureReason::message` (the seeds' table).
const FAILURE_ACTIONS: [(FailureReason, NextAction, NextAction); 11] = [
    (
        FailureReason::CodeMismatch,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        FailureReason::CodeExpired,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        FailureReason::TokenStale,
        NextAction::Rescan,
        NextAction::Rescan,
    ),
    (
        FailureReason::ProvisioningClosed,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        FailureReason::NotInProvisioningMode,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        FailureReason::SignatureInvalid,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (
        FailureReason::CertificateInvalid,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (
        FailureReason::MonitorUnreachable,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        FailureReason::ConnectionTestFailed,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        FailureReason::Interrupted,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        FailureReason::CommitUnconfirmed,
        NextAction::Retry,
        NextAction::Retry,
    ),
];

/// Refusals before a job starts (error codes), same shape.
const REFUSAL_ACTIONS: [(&str, NextAction, NextAction); 20] = [
    ("qr_not_json", NextAction::Rescan, NextAction::Rescan),
    ("qr_not_zmonitor", NextAction::Rescan, NextAction::Rescan),
    ("qr_invalid_field", NextAction::Rescan, NextAction::Rescan),
    ("qr_expired", NextAction::Rescan, NextAction::Rescan),
    ("qr_too_large", NextAction::Rescan, NextAction::Rescan),
    (
        codes::INVALID_CODE,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        codes::INVALID_DEVICE_ID,
        NextAction::Rescan,
        NextAction::ReenterCode,
    ),
    (
        codes::TOKEN_REPLAYED,
        NextAction::Rescan,
        NextAction::Rescan,
    ),
    (
        codes::UNKNOWN_DEVICE,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (
        codes::FORBIDDEN_ROLE,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (
        codes::STATION_UNTRUSTED,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (
        codes::PAIRING_IN_PROGRESS,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        codes::REPROVISION_REQUIRED,
        NextAction::Reprovision,
        NextAction::Reprovision,
    ),
    // An administrator re-admits it; nothing to do at the bedside.
    (
        codes::DEVICE_DEPROVISIONED,
        NextAction::CallIt,
        NextAction::CallIt,
    ),
    (codes::RATE_LIMITED, NextAction::Retry, NextAction::Retry),
    (
        codes::STATION_UNREACHABLE,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        codes::STATUS_STREAM_LOST,
        NextAction::Retry,
        NextAction::Retry,
    ),
    (
        codes::SESSION_EXPIRED,
        NextAction::SignIn,
        NextAction::SignIn,
    ),
    (codes::NOT_SIGNED_IN, NextAction::SignIn, NextAction::SignIn),
    (codes::UNAUTHORIZED, NextAction::SignIn, NextAction::SignIn),
];

fn pick(entry: Entry, scanned: NextAction, typed: NextAction) -> NextAction {
    match entry {
        Entry::Scanned => scanned,
        Entry::Typed => typed,
    }
}

/// What to do after a job failed for `reason`.
pub fn next_action_for_failure(reason: FailureReason, entry: Entry) -> NextAction {
    FAILURE_ACTIONS
        .iter()
        .find(|(r, _, _)| *r == reason)
        .map_or(NextAction::CallIt, |&(_, s, t)| pick(entry, s, t))
}

/// What to do after a request was refused with `code`; `None` for codes
/// whose message is all there is to say.
pub fn next_action_for_code(code: &str, entry: Entry) -> Option<NextAction> {
    REFUSAL_ACTIONS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|&(_, s, t)| pick(entry, s, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_reason_has_a_row_a_message_and_a_distinct_code() {
        for reason in FailureReason::ALL {
            assert!(
                FAILURE_ACTIONS.iter().any(|(r, _, _)| *r == reason),
                "{reason:?} has no next action"
            );
            assert!(!reason.message().is_empty());
            assert!(next_action_for_code(reason.code(), Entry::Typed).is_none());
        }
        assert_eq!(
            FAILURE_ACTIONS.len(),
            FailureReason::ALL.len(),
            "one row each"
        );
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
            next_action_for_code("session_expired", Entry::Scanned),
            Some(NextAction::SignIn)
        );
        assert_eq!(
            next_action_for_code("reprovision_required", Entry::Typed),
            Some(NextAction::Reprovision)
        );
        assert_eq!(
            next_action_for_code("device_deprovisioned", Entry::Scanned),
            Some(NextAction::CallIt)
        );
        assert_eq!(next_action_for_code("something_else", Entry::Scanned), None);
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
        assert_eq!(
            serde_json::to_string(&NextAction::ReenterCode).expect("json"),
            format!("\"{}\"", NextAction::ReenterCode.as_str())
        );
    }
}
