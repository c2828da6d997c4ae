//! The QR scanner: camera frames in, pairing payloads out.
//!
//! It takes only grey pixels and dimensions (no image formats, no camera
//! API), runs a cascade of decoders and preprocessing passes within a
//! per-frame time budget, contains any decoder panic, and puts Z Monitor
//! payloads ahead of other codes in view. [`LiveScanner`] wraps it for a
//! camera stream: a worker thread, a one-frame mailbox that drops rather than
//! queues, and duplicate suppression across consecutive frames.
//!
//! Why a cascade: on real photos no single decoder wins. rxing (a port of
//! ZXing) is fast and strong on sharp codes; rqrr fits its sampling grid
//! differently and reads some warped codes rxing cannot, but is slower and
//! panics on some inputs; an adaptive threshold rescues glare and low
//! contrast; downscaling makes large frames cheap and averages out noise and
//! moiré; resampling a steeply tilted code face-on reads codes whose finder
//! patterns rxing finds but will not group; inversion reads dark-mode
//! screens. The passes run cheapest and most likely first, so a frame that
//! reads at once costs one rxing pass.

mod cascade;
mod guard;
mod live;
pub mod mailbox;
mod perspective;
mod preprocess;
mod region;

use std::time::{Duration, Instant};

pub use live::{LiveConfig, LiveError, LiveEvent, LiveScanner, LiveStats, Offer};

/// Largest frame accepted, in pixels (a 48-megapixel sensor's full frame).
/// Work per frame is bounded by this and by the downscaling in the cascade.
pub const MAX_FRAME_PIXELS: u64 = 8_000 * 6_000;

/// A borrowed grey camera frame: one byte per pixel, row-major, no padding.
#[derive(Debug, Clone, Copy)]
pub struct GreyFrame<'a> {
    pixels: &'a [u8],
    width: u32,
    height: u32,
}

impl<'a> GreyFrame<'a> {
    /// Checks the buffer against the dimensions so the decoders never see an
    /// inconsistent frame.
    ///
    /// # Errors
    /// [`ScanError::EmptyFrame`] for a zero dimension,
    /// [`ScanError::FrameTooLarge`] above [`MAX_FRAME_PIXELS`], and
    /// [`ScanError::SizeMismatch`] when `pixels.len() != width * height`.
    pub fn new(pixels: &'a [u8], width: u32, height: u32) -> Result<Self, ScanError> {
        if width == 0 || height == 0 {
            return Err(ScanError::EmptyFrame { width, height });
        }
        let area = u64::from(width) * u64::from(height);
        if area > MAX_FRAME_PIXELS {
            return Err(ScanError::FrameTooLarge { width, height });
        }
        if pixels.len() as u64 != area {
            return Err(ScanError::SizeMismatch {
                width,
                height,
                len: pixels.len(),
            });
        }
        Ok(Self {
            pixels,
            width,
            height,
        })
    }

    /// The pixels, `width * height` bytes.
    #[must_use]
    pub fn pixels(&self) -> &'a [u8] {
        self.pixels
    }

    /// Columns.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    fn view(&self) -> preprocess::View<'a> {
        preprocess::View {
            pixels: self.pixels,
            width: self.width as usize,
            height: self.height as usize,
        }
    }
}

/// Why a frame was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// A frame with no pixels (camera not started, or a bad conversion).
    #[error("the camera frame is empty ({width}x{height}); restart the camera")]
    EmptyFrame {
        /// Columns given.
        width: u32,
        /// Rows given.
        height: u32,
    },
    /// More pixels than any camera the app supports delivers.
    #[error(
        "the camera frame is {width}x{height}, above the {MAX_FRAME_PIXELS}-pixel limit; choose a lower camera resolution"
    )]
    FrameTooLarge {
        /// Columns given.
        width: u32,
        /// Rows given.
        height: u32,
    },
    /// The buffer does not hold exactly one byte per pixel.
    #[error(
        "the camera frame says {width}x{height} but holds {len} bytes; the camera conversion is wrong"
    )]
    SizeMismatch {
        /// Columns given.
        width: u32,
        /// Rows given.
        height: u32,
        /// Bytes given.
        len: usize,
    },
}

/// Which decoder read a code (for diagnostics and the benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecoderKind {
    /// rxing, the Rust port of ZXing.
    Rxing,
    /// rqrr, the Rust port of quirc.
    Rqrr,
}

/// One QR code read from a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The decoded text, exactly as encoded.
    pub text: String,
    /// The code's outline in frame pixels, when the decoder reports it, so
    /// the UI can draw it over the camera preview.
    pub corners: Option<[(f32, f32); 4]>,
    /// Who read it.
    pub decoder: DecoderKind,
    /// Whether `text` looks like a Z Monitor pairing payload
    /// ([`is_z_monitor_payload`]).
    pub z_monitor: bool,
}

/// What one scan found and what it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanOutcome {
    /// Distinct codes found, Z Monitor payloads first, each group in the
    /// order the decoders reported them.
    pub detections: Vec<Detection>,
    /// Decoder panics contained during this scan.
    pub panics_caught: u32,
    /// Cascade passes run (the first that finds a code is the last).
    pub passes_run: u32,
    /// Passes skipped because the time budget would not cover them.
    pub passes_skipped: u32,
    /// Wall time of the scan.
    pub elapsed: Duration,
}

/// Scanner settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerConfig {
    /// Per-frame time budget. The first pass always runs; later passes run
    /// only while their estimated cost fits in what is left, so a scan ends
    /// near the budget even when nothing is found.
    pub budget: Duration,
}

impl Default for ScannerConfig {
    /// 40 ms: a little over one frame at 30 fps, enough for every pass on a
    /// 1280x720 frame and for rqrr's retries on a small photo.
    fn default() -> Self {
        Self {
            budget: Duration::from_millis(40),
        }
    }
}

/// Decodes the QR codes in grey frames. Cheap to create, `Send + Sync`, and
/// stateless between frames (see [`LiveScanner`] for streams).
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    config: ScannerConfig,
}

impl Scanner {
    /// A scanner with `config`.
    #[must_use]
    pub fn new(config: ScannerConfig) -> Self {
        Self { config }
    }

    /// The settings this scanner runs with.
    #[must_use]
    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }

    /// Finds the QR codes in `frame`. Never panics: decoder panics are
    /// contained and counted in [`ScanOutcome::panics_caught`].
    #[must_use]
    pub fn scan(&self, frame: GreyFrame<'_>) -> ScanOutcome {
        self.scan_passes(frame, cascade::Passes::All)
    }

    /// Finds the QR codes in `frame`, the `n`-th of a camera stream: the
    /// cascade's first pass, which reads most codes, and one of the others
    /// in turn. A code only a later pass reads is found within one round of
    /// frames (8 for 1280x720: a quarter of a second at 30 fps); a frame with
    /// no code costs two passes instead of all. Never panics.
    #[must_use]
    pub fn scan_in_turn(&self, frame: GreyFrame<'_>, n: u64) -> ScanOutcome {
        self.scan_passes(frame, cascade::Passes::InTurn(n))
    }

    fn scan_passes(&self, frame: GreyFrame<'_>, passes: cascade::Passes) -> ScanOutcome {
        let start = Instant::now();
        let mut outcome = cascade::run(frame, passes, start + self.config.budget);
        outcome.detections = order_and_dedup(outcome.detections);
        outcome.elapsed = start.elapsed();
        outcome
    }
}

/// Whether `text` is a Z Monitor pairing payload: JSON with string fields
/// `deviceId` and `pairingCode`. Only a triage for ordering; the full schema
/// check happens when the payload is used.
#[must_use]
pub fn is_z_monitor_payload(text: &str) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    ["deviceId", "pairingCode"]
        .iter()
        .all(|k| map.get(*k).is_some_and(serde_json::Value::is_string))
}

/// Z Monitor payloads first (stable), each text once.
fn order_and_dedup(detections: Vec<Detection>) -> Vec<Detection> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<Detection> = detections
        .into_iter()
        .filter(|d| seen.insert(d.text.clone()))
        .collect();
    unique.sort_by_key(|d| !d.z_monitor);
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(text: &str) -> Detection {
        Detection {
            text: text.to_owned(),
            corners: None,
            decoder: DecoderKind::Rxing,
            z_monitor: is_z_monitor_payload(text),
        }
    }

    #[test]
    fn recognises_z_monitor_payloads() {
        assert!(is_z_monitor_payload(
            r#"{"deviceId":"ZM-ICU-04","pairingCode":"K7P-M3X-Q9R","ipAddress":"127.0.0.2"}"#
        ));
        assert!(!is_z_monitor_payload(r#"{"deviceId":"ZM-ICU-04"}"#));
        assert!(!is_z_monitor_payload(
            r#"{"deviceId":4,"pairingCode":"K7P-M3X-Q9R"}"#
        ));
        assert!(!is_z_monitor_payload("https://example.org"));
        assert!(!is_z_monitor_payload(r#"["deviceId","pairingCode"]"#));
    }

    #[test]
    fn orders_z_monitor_first_and_drops_repeats() {
        let zm = r#"{"deviceId":"ZM-1","pairingCode":"AAA-BBB-CCC"}"#;
        let out = order_and_dedup(vec![
            detection("asset tag 17"),
            detection(zm),
            detection("asset tag 17"),
            detection("https://example.org"),
        ]);
        let texts: Vec<&str> = out.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, [zm, "asset tag 17", "https://example.org"]);
    }

    #[test]
    fn invalid_frames_are_typed_errors() {
        assert_eq!(
            GreyFrame::new(&[], 0, 10).err(),
            Some(ScanError::EmptyFrame {
                width: 0,
                height: 10
            })
        );
        assert_eq!(
            GreyFrame::new(&[0; 5], 2, 2).err(),
            Some(ScanError::SizeMismatch {
                width: 2,
                height: 2,
                len: 5
            })
        );
        assert!(matches!(
            GreyFrame::new(&[], u32::MAX, u32::MAX),
            Err(ScanError::FrameTooLarge { .. })
        ));
        assert!(GreyFrame::new(&[0; 4], 2, 2).is_ok());
    }
}
