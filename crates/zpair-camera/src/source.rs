//! The seam between where frames come from and what is done with them.

use std::time::Duration;

use zpair_scanner::{GreyFrame, ScanError};

use crate::clock::StopSignal;
use crate::error::CameraError;

/// Highest frame rate accepted from a file or a setting: above any camera a
/// tablet has, and a bound on how fast a virtual camera may spin.
pub const MAX_FPS: u32 = 240;

/// A frame rate as a fraction (Y4M writes `F30000:1001`), so pacing has no
/// rounding drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
}

/// Why a frame rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the frame rate {num}/{den} is outside 1 to {MAX_FPS} frames per second; give a rate in that range"
)]
pub struct FrameRateError {
    /// Numerator given.
    pub num: u32,
    /// Denominator given.
    pub den: u32,
}

impl FrameRate {
    /// `num / den` frames per second, between 1 and [`MAX_FPS`].
    ///
    /// # Errors
    /// [`FrameRateError`] for a zero part or a rate out of range.
    pub fn new(num: u32, den: u32) -> Result<Self, FrameRateError> {
        let in_range = den > 0
            && u64::from(num) >= u64::from(den)
            && u64::from(num) <= u64::from(den) * u64::from(MAX_FPS);
        if in_range {
            Ok(Self { num, den })
        } else {
            Err(FrameRateError { num, den })
        }
    }

    /// Whole frames per second.
    ///
    /// # Errors
    /// [`FrameRateError`] outside 1..=[`MAX_FPS`].
    pub fn per_second(fps: u32) -> Result<Self, FrameRateError> {
        Self::new(fps, 1)
    }

    /// Frames per second, for display.
    #[must_use]
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// When frame `n` is due, counted from frame 0: exact, so a long run does
    /// not drift from the rate.
    #[must_use]
    pub fn frame_time(self, n: u64) -> Duration {
        let nanos = u128::from(n) * u128::from(self.den) * 1_000_000_000 / u128::from(self.num);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Time between frames.
    #[must_use]
    pub fn interval(self) -> Duration {
        self.frame_time(1)
    }
}

impl Default for FrameRate {
    /// 30 fps, what phone scanners and most webcams deliver.
    fn default() -> Self {
        Self { num: 30, den: 1 }
    }
}

/// What an opened source delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// For the status line: the camera's name or the file's path.
    pub name: String,
    /// Frame columns.
    pub width: u32,
    /// Frame rows.
    pub height: u32,
    /// Frames per second the source paces itself at.
    pub rate: FrameRate,
}

/// A grey frame the source writes into; reused from frame to frame so a
/// steady stream allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GreyBuffer {
    /// One byte per pixel, row-major, no padding.
    pub pixels: Vec<u8>,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl GreyBuffer {
    /// The frame as the scanner takes it, checked against its dimensions.
    ///
    /// # Errors
    /// [`ScanError`] when the dimensions and the buffer disagree or are out
    /// of the scanner's bounds.
    pub fn frame(&self) -> Result<GreyFrame<'_>, ScanError> {
        GreyFrame::new(&self.pixels, self.width, self.height)
    }

    /// Replaces the contents with `width x height` pixels copied from
    /// `pixels`.
    pub fn set(&mut self, pixels: &[u8], width: u32, height: u32) {
        self.pixels.clear();
        self.pixels.extend_from_slice(pixels);
        self.width = width;
        self.height = height;
    }
}

/// What [`FrameSource::next_frame`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A new frame is in the buffer.
    Frame,
    /// The stop signal was raised while waiting; the buffer is unchanged.
    Stopped,
}

/// A camera, real or virtual, not yet opened: what a session is started
/// with and what moves to the capture thread.
///
/// Opening happens on the capture thread and yields a [`FrameStream`] that
/// never leaves it, so a backend whose handles are tied to one thread (as
/// nokhwa's are: its `Camera` is not `Send`) needs no unsafe promise.
pub trait FrameSource: Send {
    /// Acquires the device or file and starts the stream.
    ///
    /// # Errors
    /// A [`CameraError`] saying what to do, e.g. no camera, access denied.
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError>;
}

/// An open camera: frames at the source's own rate, then close.
///
/// A stream paces itself: [`FrameStream::next_frame`] returns when the next
/// frame is due, as a camera does. [`FrameStream::close`] takes the stream,
/// so it is closed at most once, and the capture loop closes it whatever
/// ended the stream.
pub trait FrameStream {
    /// Waits for the next frame and writes it, grey, into `frame`. Returns
    /// [`Next::Stopped`] as soon as `stop` is raised.
    ///
    /// # Errors
    /// A [`CameraError`] when the stream cannot go on (camera unplugged, file
    /// removed); the session then ends.
    fn next_frame(
        &mut self,
        frame: &mut GreyBuffer,
        stop: &StopSignal,
    ) -> Result<Next, CameraError>;

    /// Releases the device or file.
    fn close(self: Box<Self>);
}

impl<S: FrameSource + ?Sized> FrameSource for Box<S> {
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError> {
        (**self).open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_are_bounded() {
        assert!(FrameRate::new(30, 1).is_ok());
        assert!(FrameRate::new(30_000, 1001).is_ok());
        assert!(FrameRate::new(240, 1).is_ok());
        assert_eq!(
            FrameRate::new(241, 1),
            Err(FrameRateError { num: 241, den: 1 })
        );
        assert!(FrameRate::new(0, 1).is_err());
        assert!(FrameRate::new(1, 0).is_err());
        assert!(FrameRate::new(1, 2).is_err());
        assert!(FrameRate::new(u32::MAX, u32::MAX).is_ok());
    }

    #[test]
    fn frame_times_do_not_drift() {
        let ntsc = FrameRate::new(30_000, 1001).expect("rate");
        // 30000 frames at 29.97 fps take exactly 1001 seconds.
        assert_eq!(ntsc.frame_time(30_000), Duration::from_secs(1001));
        let ten = FrameRate::per_second(10).expect("rate");
        assert_eq!(ten.interval(), Duration::from_millis(100));
        assert_eq!(ten.frame_time(7), Duration::from_millis(700));
    }
}
