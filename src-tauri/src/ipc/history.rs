use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::error::ErrorCode;

// What the technician did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    Paired,
    Reprovisioned,
}

// How it went: `started` until the outcome is known (re-provisioning stays
// started: the monitor is paired again afterwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HistoryOutcome {
    Provisioned,
    Failed,
    Started,
}

// One line of the local history, with the code it failed with, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: String,
    pub device_id: String,
    #[ts(inline)]
    pub action: HistoryAction,
    #[ts(inline)]
    pub outcome: HistoryOutcome,
    pub failure_code: Option<ErrorCode>,
}
