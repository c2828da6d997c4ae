use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::code;
use zpair_proto::api;

use super::AppError;

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

// Where a pairing stands: SUBMITTING is the app's own (the request is on its
// way, no job yet); the others are the station's job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Submitting,
    Pairing,
    Configuring,
    Validating,
    Confirming,
    Provisioned,
    Failed,
}

impl JobState {
    /// Nothing follows PROVISIONED or FAILED.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Provisioned | JobState::Failed)
    }
}

impl From<api::JobState> for JobState {
    fn from(state: api::JobState) -> Self {
        match state {
            api::JobState::Pairing => JobState::Pairing,
            api::JobState::Configuring => JobState::Configuring,
            api::JobState::Validating => JobState::Validating,
            api::JobState::Confirming => JobState::Confirming,
            api::JobState::Provisioned => JobState::Provisioned,
            api::JobState::Failed => JobState::Failed,
        }
    }
}

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
}
