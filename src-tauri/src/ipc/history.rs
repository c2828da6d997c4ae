use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::error::ErrorCode;
use zpair_core::history::Line;
// What the technician did, and how it went: the domain's own types.
pub use zpair_core::history::{HistoryAction, HistoryOutcome};

use super::timestamp;

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

impl From<Line> for HistoryEntry {
    fn from(line: Line) -> Self {
        Self {
            at: timestamp(line.at),
            device_id: line.device_id,
            action: line.action,
            outcome: line.outcome,
            failure_code: line.failure_code,
        }
    }
}
