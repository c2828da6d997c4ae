use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AppError, Point, ScanReport};

// A camera the Scan screen can offer: its ID for start_camera and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CameraChoice {
    pub id: String,
    pub label: String,
}

impl From<zpair_camera::CameraChoice> for CameraChoice {
    fn from(choice: zpair_camera::CameraChoice) -> Self {
        Self {
            id: choice.id,
            label: choice.label,
        }
    }
}

// The camera start_camera opened: its name and frame size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CameraStarted {
    pub label: String,
    pub width: u32,
    pub height: u32,
}

// A new preview, served at preview://localhost/FRAME: its size and the
// outline of the code found last, in its pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PreviewShown {
    // The camera frame it shows.
    pub frame: u64,
    pub width: u32,
    pub height: u32,
    pub outline: Option<Vec<Point>>,
}

// Codes came into view: what the technician should see of the best one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CameraSeen {
    pub report: ScanReport,
    pub frame_width: u32,
    pub frame_height: u32,
}

// The camera stopped by itself (unplugged, file removed), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CameraEnded {
    pub error: AppError,
}

// What the camera session tells the Scan screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CameraEvent {
    Preview(PreviewShown),
    Seen(CameraSeen),
    Ended(CameraEnded),
}
