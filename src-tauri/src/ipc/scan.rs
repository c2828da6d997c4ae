use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AppError;

// A monitor found in a QR code, as the Scan screen shows it. Its pairing
// token stays in Rust: the UI pairs it by `scanId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FoundMonitor {
    pub scan_id: String,
    pub device_id: String,
    pub device_serial: String,
    pub ip_address: String,
    pub firmware_version: String,
    pub expires_at: String,
}

// A QR whose pairing request has already gone: it is never sent twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentMonitor {
    pub device_id: String,
}

// What one frame showed: nothing readable, a monitor to pair, a QR already
// sent, or a QR that cannot be used and why (scanning goes on in every case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Sighting {
    Nothing,
    Found(FoundMonitor),
    Sent(SentMonitor),
    Refused(AppError),
}

// A corner of the code, in the frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

// The answer to one scanned frame: what was seen, and the code's outline
// (four corners) when a code was read, to draw over the preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScanReport {
    pub sighting: Sighting,
    pub outline: Option<Vec<Point>>,
}
