//! Helpers the tests share: a clock that moves only when told, frames with
//! a Z Monitor QR code rendered by `qr-frames`, and file writers.

use std::io::Cursor;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use qr_frames::Distortion;

use crate::clock::{Clock, StopSignal};
use crate::source::GreyBuffer;

/// A clock whose waits return at once, moving time to their deadline: the
/// pacing is exact and a test runs as fast as the machine allows.
#[derive(Debug, Default)]
pub(crate) struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sleep_until(&self, deadline: Duration, stop: &StopSignal) -> bool {
        if stop.is_raised() {
            return false;
        }
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = (*now).max(deadline);
        true
    }
}

/// A 640x480 camera view of a monitor showing the QR of payload `seed`.
pub(crate) fn qr_frame(seed: u64) -> (String, GreyBuffer) {
    let (payload, image) =
        qr_frames::monitor_frame(640, 480, Distortion::Clean, seed).expect("render frame");
    (
        payload,
        GreyBuffer {
            pixels: image.pixels,
            width: image.width,
            height: image.height,
        },
    )
}

/// A frame with no code in it.
pub(crate) fn blank_frame(width: u32, height: u32, level: u8) -> GreyBuffer {
    GreyBuffer {
        pixels: vec![level; width as usize * height as usize],
        width,
        height,
    }
}

/// The frame as PNG bytes.
pub(crate) fn png(frame: &GreyBuffer) -> Vec<u8> {
    let image = ::image::GrayImage::from_raw(frame.width, frame.height, frame.pixels.clone())
        .expect("frame size");
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ::image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

/// Frames as a mono Y4M stream at `fps`.
pub(crate) fn y4m(frames: &[GreyBuffer], fps: u32) -> Vec<u8> {
    let first = &frames[0];
    let mut out = format!(
        "YUV4MPEG2 W{} H{} F{fps}:1 Ip A1:1 Cmono\n",
        first.width, first.height
    )
    .into_bytes();
    for frame in frames {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&frame.pixels);
    }
    out
}

/// Writes `bytes` as a monitor does: to a temporary file, then renamed over
/// the old one, so a reader sees either the old or the new file whole.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes).expect("write temp");
    std::fs::rename(&temp, path).expect("rename");
}
