//! What the app does with the QR codes it reads, wherever the frames come
//! from (the web view's camera, an image file): decode with zpair-core's
//! scanner, check the payload, and keep each monitor found until the
//! technician pairs it.
//!
//! A found monitor stays here with its one-time pairing token; the web view
//! only ever sees a `scanId`, so no token crosses the IPC boundary. Each QR
//! (one token) is sent for pairing at most once, however many frames show
//! it or however often "Pair" is tapped.

pub use zpair_core::sightings::{ScanDeskError, Seen, Sightings};

use time::OffsetDateTime;
use zpair_core::error::ErrorCode;
use zpair_proto::user_facing::UserFacing;
use zpair_scanner::{Detection, GreyFrame, ScanError, ScanOutcome, Scanner};

use crate::ipc::{AppError, FoundMonitor, Point, ScanReport, SentMonitor, Sighting, timestamp};
use zpair_core::pairings::BookError;

/// Why a frame could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A size header is missing or not a number.
    #[error("The camera frame arrived without its {0}. Close the Scan screen and open it again.")]
    MissingSize(&'static str),
    /// The frame number header is not a number.
    #[error(
        "The camera frame arrived with a damaged frame number. Close the Scan screen and open it again."
    )]
    BadIndex,
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
    fn code(&self) -> ErrorCode {
        ErrorCode::FrameInvalid
    }
}

/// Decodes one grey frame (`width * height` bytes) on the calling thread;
/// callers run it off the UI and IPC threads. The `index`-th frame of a
/// camera stream takes the cascade's passes in turn (consecutive frames
/// show the same scene); a single picture (`None`) gets every pass.
pub fn scan_pixels(
    scanner: &Scanner,
    pixels: &[u8],
    width: u32,
    height: u32,
    index: Option<u64>,
) -> Result<ScanOutcome, FrameError> {
    let frame = GreyFrame::new(pixels, width, height)?;
    Ok(match index {
        Some(n) => scanner.scan_in_turn(frame, n),
        None => scanner.scan(frame),
    })
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
        sighting: sighting(sightings.consider(&best.text, now, pairing_running)),
        outline: best.corners.map(|corners| outline(&corners)),
    }
}

/// What the Scan screen is told: a found monitor without its token, a
/// refusal as `{code, message}`.
pub(crate) fn sighting(seen: Seen) -> Sighting {
    match seen {
        Seen::Nothing => Sighting::Nothing,
        Seen::Found { scan_id, monitor } => Sighting::Found(FoundMonitor {
            scan_id,
            device_id: monitor.device_id,
            device_serial: monitor.device_serial,
            ip_address: monitor.ip_address.to_string(),
            firmware_version: monitor.firmware_version,
            expires_at: timestamp(monitor.expires_at),
        }),
        Seen::Sent { device_id } => Sighting::Sent(SentMonitor { device_id }),
        Seen::Running { device_id } => {
            Sighting::Refused(AppError::from(BookError::InProgress { device_id }))
        }
        Seen::Refused(e) => Sighting::Refused(AppError::from(e)),
    }
}

/// Four corners as the UI draws them.
pub fn outline(corners: &[(f32, f32); 4]) -> Vec<Point> {
    corners.iter().map(|&(x, y)| Point { x, y }).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use zpair_scanner::ScannerConfig;

    use super::*;

    #[test]
    fn a_cameras_frames_take_the_passes_in_turn_and_a_picture_gets_them_all() {
        let scanner = Scanner::new(ScannerConfig {
            budget: Duration::from_secs(60),
        });
        let blank = vec![40u8; 1280 * 720];
        let picture = scan_pixels(&scanner, &blank, 1280, 720, None).expect("scans");
        assert!(picture.passes_run > 2, "{picture:?}");
        for n in [0, 1, 41] {
            let frame = scan_pixels(&scanner, &blank, 1280, 720, Some(n)).expect("scans");
            assert_eq!(frame.passes_run, 2, "frame {n}: {frame:?}");
        }
    }
}
