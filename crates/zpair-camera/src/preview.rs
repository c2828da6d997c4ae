//! The live preview: a few downscaled JPEG frames a second for the Scan
//! screen to aim with, and the outline of the code last found.
//!
//! Encoding runs on a thread of its own behind a one-frame mailbox, like the
//! scanner: the capture thread only copies a frame in when one is due, and a
//! slow consumer (a busy web view) makes previews skip, never the camera.
//! The preview is grey, the frames the scanner reads: it is for aiming, and
//! one conversion per frame keeps the camera thread light.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;

use zpair_scanner::mailbox::Latest;

use crate::source::GreyBuffer;

/// Preview settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewConfig {
    /// Previews per second at most; 0 turns the preview off.
    pub max_fps: u32,
    /// Widest preview, in pixels; frames are reduced by a whole factor to
    /// fit, which averages pixels cleanly and costs one pass.
    pub max_width: u32,
    /// JPEG quality, 1–100.
    pub quality: u8,
}

impl Default for PreviewConfig {
    /// 10 fps at up to 640 px, quality 70: about 25 KB a frame, smooth
    /// enough to aim with and cheap to send to the web view.
    fn default() -> Self {
        Self {
            max_fps: 10,
            max_width: 640,
            quality: 70,
        }
    }
}

/// One preview image.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewFrame {
    /// The camera frame it shows (0 = first captured).
    pub frame: u64,
    /// When that frame was captured, on the session's clock.
    pub captured: Duration,
    /// The JPEG bytes (grey).
    pub jpeg: Vec<u8>,
    /// Preview columns.
    pub width: u32,
    /// Preview rows.
    pub height: u32,
    /// Corners of the code read last, in preview pixels, while that is
    /// recent (see [`OUTLINE_HOLD`]).
    pub outline: Option<[(f32, f32); 4]>,
}

/// How long a code's outline stays on the preview after the scanner last
/// read it. A code in view is read nearly every frame (a hard one once per
/// round of the scanner's passes in turn: 6 frames, a fifth of a second at
/// 30 fps), so this bridges the frames that miss it, and the outline leaves
/// soon after the code does.
pub const OUTLINE_HOLD: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
struct Outline {
    corners: [(f32, f32); 4],
    frame_width: u32,
    until: Duration,
}

/// The latest code outline, written by the scanner's callback and read when
/// a preview is encoded.
#[derive(Debug, Default)]
pub(crate) struct OutlineCell(Mutex<Option<Outline>>);

impl OutlineCell {
    pub(crate) fn set(&self, corners: [(f32, f32); 4], frame_width: u32, captured: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Outline {
            corners,
            frame_width,
            until: captured + OUTLINE_HOLD,
        });
    }

    /// The outline scaled to a preview `width` wide of a frame captured at
    /// `at`, if still held.
    fn get(&self, at: Duration, frame_width: u32, width: u32) -> Option<[(f32, f32); 4]> {
        let outline = (*self.0.lock().unwrap_or_else(PoisonError::into_inner))?;
        if at > outline.until || outline.frame_width != frame_width || frame_width == 0 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let scale = width as f32 / frame_width as f32;
        Some(outline.corners.map(|(x, y)| (x * scale, y * scale)))
    }
}

/// Shrinks `frame` by the smallest whole factor that fits `max_width`,
/// averaging each block.
fn downscale(frame: &GreyBuffer, max_width: u32, out: &mut GreyBuffer) {
    let factor = frame.width.div_ceil(max_width.max(1)).max(1);
    let (width, height) = (frame.width / factor, frame.height / factor);
    let (f, src_w) = (factor as usize, frame.width as usize);
    out.pixels.clear();
    out.pixels.reserve(width as usize * height as usize);
    let block = u32::try_from(f * f).unwrap_or(u32::MAX);
    for y in 0..height as usize {
        for x in 0..width as usize {
            let mut sum: u32 = 0;
            for row in frame.pixels[(y * f) * src_w..].chunks(src_w).take(f) {
                sum += row[x * f..x * f + f]
                    .iter()
                    .map(|&p| u32::from(p))
                    .sum::<u32>();
            }
            out.pixels
                .push(u8::try_from(sum / block).unwrap_or(u8::MAX));
        }
    }
    out.width = width;
    out.height = height;
}

#[derive(Default)]
struct Pending {
    frame: u64,
    captured: Duration,
    pixels: GreyBuffer,
}

#[derive(Default)]
struct Shared {
    mailbox: Latest<Pending>,
    sent: AtomicU64,
    dropped: AtomicU64,
}

/// The preview thread and its mailbox.
pub(crate) struct PreviewWorker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl PreviewWorker {
    pub(crate) fn start<F>(
        config: PreviewConfig,
        outline: Arc<OutlineCell>,
        mut on_preview: F,
    ) -> std::io::Result<Self>
    where
        F: FnMut(PreviewFrame) + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("zpair-preview".into())
            .spawn(move || {
                while let Some(pending) = worker.mailbox.take() {
                    let preview = encode_preview(&pending.pixels, &config).map(|jpeg| {
                        let outline =
                            outline.get(pending.captured, pending.pixels.width, jpeg.width);
                        PreviewFrame {
                            frame: pending.frame,
                            captured: pending.captured,
                            jpeg: jpeg.bytes,
                            width: jpeg.width,
                            height: jpeg.height,
                            outline,
                        }
                    });
                    worker.mailbox.recycle(pending);
                    match preview {
                        Ok(preview) => {
                            on_preview(preview);
                            worker.sent.fetch_add(1, Ordering::AcqRel);
                        }
                        Err(e) => tracing::warn!(error = %e, "preview frame not encoded"),
                    }
                }
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Copies `frame` in for encoding, replacing one not yet started.
    pub(crate) fn offer(&self, frame: &GreyBuffer, seq: u64, captured: Duration) {
        let replaced = self.shared.mailbox.put(|pending| {
            pending.frame = seq;
            pending.captured = captured;
            pending.pixels.set(&frame.pixels, frame.width, frame.height);
        });
        if replaced {
            self.shared.dropped.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Previews sent and previews replaced before encoding.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.shared.sent.load(Ordering::Acquire),
            self.shared.dropped.load(Ordering::Acquire),
        )
    }

    /// Ends the thread after the preview in hand; an unstarted one is
    /// dropped (the screen is closing).
    pub(crate) fn stop(&mut self) {
        if self.shared.mailbox.close(true) {
            self.shared.dropped.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the caller's preview callback ends only this thread.
            let _ = thread.join();
        }
    }
}

impl Drop for PreviewWorker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A preview image without its frame's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewJpeg {
    /// The JPEG bytes (grey).
    pub bytes: Vec<u8>,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

/// `frame` as the preview shows it: downscaled to fit `config.max_width`
/// and JPEG-encoded at `config.quality`. What the preview thread does per
/// preview; public so a still image can be previewed the same way and the
/// cost measured.
///
/// # Errors
/// [`image::ImageError`] if the encoder refuses the frame (a side above
/// 65,535 pixels).
pub fn encode_preview(
    frame: &GreyBuffer,
    config: &PreviewConfig,
) -> Result<PreviewJpeg, image::ImageError> {
    let mut small = GreyBuffer::default();
    downscale(frame, config.max_width, &mut small);
    Ok(PreviewJpeg {
        bytes: encode(&small, config.quality)?,
        width: small.width,
        height: small.height,
    })
}

/// The grey frame as a JPEG.
fn encode(frame: &GreyBuffer, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut jpeg = Vec::with_capacity(frame.pixels.len() / 8);
    JpegEncoder::new_with_quality(&mut jpeg, quality.clamp(1, 100)).encode(
        &frame.pixels,
        frame.width,
        frame.height,
        ExtendedColorType::L8,
    )?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::blank_frame;

    #[test]
    fn downscales_by_a_whole_factor_averaging_blocks() {
        let frame = GreyBuffer {
            pixels: vec![0, 100, 10, 10, 50, 50, 30, 30],
            width: 4,
            height: 2,
        };
        let mut out = GreyBuffer::default();
        downscale(&frame, 2, &mut out);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.pixels, [50, 20]);
        downscale(&frame, 640, &mut out);
        assert_eq!(out, frame);
        let hd = blank_frame(1280, 720, 9);
        downscale(&hd, 640, &mut out);
        assert_eq!((out.width, out.height), (640, 360));
        let full_hd = blank_frame(1920, 1080, 9);
        downscale(&full_hd, 640, &mut out);
        assert_eq!((out.width, out.height), (640, 360));
    }

    #[test]
    fn previews_are_jpeg() {
        let jpeg = encode(&blank_frame(64, 48, 128), 70).expect("encode");
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        let decoded = image::load_from_memory(&jpeg).expect("decode");
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
    }

    #[test]
    fn the_outline_is_scaled_and_held_for_a_while() {
        let cell = OutlineCell::default();
        assert_eq!(cell.get(Duration::ZERO, 1280, 640), None);
        let corners = [
            (100.0, 100.0),
            (300.0, 100.0),
            (300.0, 300.0),
            (100.0, 300.0),
        ];
        cell.set(corners, 1280, Duration::from_secs(1));
        let at = Duration::from_secs(1) + OUTLINE_HOLD;
        assert_eq!(
            cell.get(at, 1280, 640),
            Some([(50.0, 50.0), (150.0, 50.0), (150.0, 150.0), (50.0, 150.0)])
        );
        assert_eq!(cell.get(at + Duration::from_millis(1), 1280, 640), None);
        // A frame of another size (the image was replaced) has no outline.
        assert_eq!(cell.get(Duration::from_secs(1), 640, 640), None);
    }
}
