use serde::{Deserialize, Serialize};
use ts_rs::TS;

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

// One line of the local history; `detail` is the failure code, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: String,
    pub device_id: String,
    #[ts(inline)]
    pub action: HistoryAction,
    #[ts(inline)]
    pub outcome: HistoryOutcome,
    pub detail: Option<String>,
}
