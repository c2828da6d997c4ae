//! What the app does with the QR codes it reads, wherever the frames come
//! from (the web view's camera, an image file): decode with zpair-core's
//! scanner, check the payload, and keep each monitor found until the
//! technician pairs it.
//!
//! A found monitor stays here with its one-time pairing token; the web view
//! only ever sees a `scanId`, so no token crosses the IPC boundary. Each QR
//! (one token) is sent for pairing at most once, however many frames show
//! it or however often "Pair" is tapped.

mod sightings;

pub use sightings::{ScanDeskError, Sightings};

use time::OffsetDateTime;
use zpair_core::UserFacing;
use zpair_core::scanner::{Detection, GreyFrame, ScanError, ScanOutcome, Scanner};

use crate::ipc::{Point, ScanReport, Sighting};

/// Why a frame could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A size header is missing or not a number.
    #[error("The camera frame arrived without its {0}. Close the Scan screen and open it again.")]
    MissingSize(&'static str),
    /// The frame was not a raw byte body.
    #[error("The camera frame arrived in the wrong form. Close the Scan screen and open it again.")]
    NotBinary,
    /// The scanner refused the frame's dimensions.
    #[error(transparent)]
    Invalid(#[from] ScanError),
    /// The scanning thread ended before it answered.
    #[error("The scanner stopped unexpectedly. Close the Scan screen and open it again.")]
    Stopped,
}

impl UserFacing for FrameError {
    fn code(&self) -> &str {
        "frame_invalid"
    }
}

/// Decodes one grey frame (`width * height` bytes) on the calling thread;
/// callers run it off the UI and IPC threads.
pub fn scan_pixels(
    scanner: &Scanner,
    pixels: &[u8],
    width: u32,
    height: u32,
) -> Result<ScanOutcome, FrameError> {
    Ok(scanner.scan(GreyFrame::new(pixels, width, height)?))
}

/// What the Scan screen shows for the codes read from one frame. The
/// scanner orders Z Monitor payloads first, so a monitor's QR wins over an
/// asset tag beside it.
pub fn report(
    detections: &[Detection],
    sightings: &Sightings,
    now: OffsetDateTime,
    pairing_running: impl Fn(&str) -> bool,
) -> ScanReport {
    let Some(best) = detections.first() else {
        return ScanReport {
            sighting: Sighting::Nothing,
            outline: None,
        };
    };
    ScanReport {
        sighting: sightings.consider(&best.text, now, pairing_running),
        outline: best.corners.map(|corners| outline(&corners)),
    }
}

/// Four corners as the UI draws them.
pub fn outline(corners: &[(f32, f32); 4]) -> Vec<Point> {
    corners.iter().map(|&(x, y)| Point { x, y }).collect()
}
