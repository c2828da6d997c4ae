use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::code;
use zpair_core::pairings;

use super::{AppError, timestamp};

// The pairing code field as the technician types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CodeCheck {
    pub display: String,
    pub complete: bool,
    pub error: Option<AppError>,
}

impl From<code::CodeCheck> for CodeCheck {
    fn from(check: code::CodeCheck) -> Self {
        Self {
            display: check.display,
            complete: check.complete,
            error: check.error.map(AppError::from_user_facing),
        }
    }
}

// Where a pairing stands: the domain's own type (SUBMITTING, then the
// station's job states), exported as it is.
pub use zpair_core::pairings::Stage as JobState;

// What the technician should do after a failure: the domain's own type,
// exported as it is.
pub use zpair_core::pairing::NextAction;

// One step of a pairing, as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PairingStep {
    pub state: JobState,
    pub message: String,
    pub at: String,
}

// One pairing of this run: `pairingId` is the app's, `jobId` the station's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Pairing {
    pub pairing_id: String,
    pub job_id: Option<String>,
    pub device_id: String,
    pub state: JobState,
    pub steps: Vec<PairingStep>,
    pub failure: Option<AppError>,
    pub next_action: Option<NextAction>,
    pub started_at: String,
    /// Counts the pairing's changes: of two copies, the higher is newer.
    pub revision: u32,
}

impl From<pairings::Step> for PairingStep {
    fn from(step: pairings::Step) -> Self {
        Self {
            state: step.state,
            message: step.message,
            at: timestamp(step.at),
        }
    }
}

impl From<pairings::Pairing> for Pairing {
    fn from(pairing: pairings::Pairing) -> Self {
        Self {
            pairing_id: pairing.pairing_id,
            job_id: pairing.job_id,
            device_id: pairing.device_id,
            state: pairing.state,
            steps: pairing.steps.into_iter().map(PairingStep::from).collect(),
            failure: pairing.failure.map(AppError::from_user_facing),
            next_action: pairing.next_action,
            started_at: timestamp(pairing.started_at),
            revision: pairing.revision,
        }
    }
}
