//! Motion JPEG files (`.mjpeg`, `.mjpg`): whole JPEG images one after
//! another, the other format Chromium's fake camera plays. Frames are found
//! by walking each image's marker segments rather than by searching for the
//! end marker, so a JPEG inside a JPEG (an EXIF thumbnail) does not split a
//! frame, and a file cut short is a typed error, not a panic.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use image::ImageFormat;

use super::image::read_error;
use crate::error::CameraError;
use crate::grey::decode_image;
use crate::source::GreyBuffer;

/// Largest file read into memory: a minute of 1280x720 MJPEG at 30 fps.
const MAX_FILE_BYTES: u64 = 256 << 20;

const MARKER: u8 = 0xFF;
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
/// Markers without a length: TEM and the restart markers.
const STANDALONE: [u8; 9] = [0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7];

/// Why an MJPEG file cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MjpegError {
    /// Bytes that do not start a JPEG image where a frame should start.
    #[error("there is no JPEG image at byte {offset}")]
    NotJpeg {
        /// Where the frame should have started.
        offset: usize,
    },
    /// A frame whose structure is broken or cut short.
    #[error("frame {frame} is broken or cut short")]
    Broken {
        /// Frame number, 0 first.
        frame: usize,
    },
    /// An empty file.
    #[error("it holds no frames")]
    NoFrames,
    /// A file too large to hold in memory.
    #[error("it is larger than {limit_mib} MiB; use a shorter video")]
    TooLarge {
        /// The limit.
        limit_mib: u64,
    },
}

/// Where each frame of `data` lies.
pub(crate) fn split_frames(data: &[u8]) -> Result<Vec<Range<usize>>, MjpegError> {
    let mut frames = Vec::new();
    let mut start = 0;
    while start < data.len() {
        if data.get(start..start + 2) != Some(&[MARKER, SOI]) {
            return Err(MjpegError::NotJpeg { offset: start });
        }
        let end = image_end(data, start + 2).ok_or(MjpegError::Broken {
            frame: frames.len(),
        })?;
        frames.push(start..end);
        start = end;
    }
    if frames.is_empty() {
        return Err(MjpegError::NoFrames);
    }
    Ok(frames)
}

/// The end of the JPEG image whose segments start at `at` (just after its
/// start marker), or `None` if it is broken or cut short.
fn image_end(data: &[u8], mut at: usize) -> Option<usize> {
    loop {
        if *data.get(at)? != MARKER {
            return None;
        }
        // Any number of fill bytes may precede a marker code.
        while *data.get(at + 1)? == MARKER {
            at += 1;
        }
        let marker = *data.get(at + 1)?;
        at += 2;
        match marker {
            EOI => return Some(at),
            SOI | 0x00 => return None,
            m if STANDALONE.contains(&m) => {}
            _ => {
                let len = usize::from(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]));
                if len < 2 {
                    return None;
                }
                at = at.checked_add(len)?;
                if marker == SOS {
                    at = entropy_end(data, at)?;
                }
            }
        }
    }
}

/// The first marker after entropy-coded data starting at `at`: there a
/// 0xFF is followed by a stuffed 0x00 or a restart marker, anything else
/// ends the scan.
fn entropy_end(data: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let offset = data.get(at..)?.iter().position(|&b| b == MARKER)?;
        at += offset;
        let next = *data.get(at + 1)?;
        if next == 0x00 || (0xD0..=0xD7).contains(&next) {
            at += 2;
        } else {
            return Some(at);
        }
    }
}

/// A looping MJPEG file, each frame decoded when it is shown.
#[derive(Debug)]
pub(crate) struct Mjpeg {
    path: PathBuf,
    data: Vec<u8>,
    frames: Vec<Range<usize>>,
    shown: GreyBuffer,
    shown_index: usize,
}

impl Mjpeg {
    pub(crate) fn open(path: &Path) -> Result<Self, CameraError> {
        let video_error = |source| CameraError::Mjpeg {
            path: path.to_owned(),
            source,
        };
        let len = fs::metadata(path).map_err(|e| read_error(path, e))?.len();
        if len > MAX_FILE_BYTES {
            return Err(video_error(MjpegError::TooLarge {
                limit_mib: MAX_FILE_BYTES >> 20,
            }));
        }
        let data = fs::read(path).map_err(|e| read_error(path, e))?;
        let frames = split_frames(&data).map_err(video_error)?;
        let mut shown = GreyBuffer::default();
        let first = frames.first().cloned().unwrap_or_default();
        decode_image(&data[first], Some(ImageFormat::Jpeg), &mut shown).map_err(|e| {
            CameraError::Decode {
                path: path.to_owned(),
                detail: e.to_string(),
            }
        })?;
        Ok(Self {
            path: path.to_owned(),
            data,
            frames,
            shown,
            shown_index: 0,
        })
    }

    pub(crate) fn size(&self) -> (u32, u32) {
        (self.shown.width, self.shown.height)
    }

    /// The frame for slot `slot`; a frame that does not decode leaves the
    /// previous one on show, as a camera's glitch would.
    pub(crate) fn frame(&mut self, slot: u64, out: &mut GreyBuffer) {
        let count = self.frames.len().max(1) as u64;
        let index = usize::try_from(slot % count).unwrap_or(0);
        if index != self.shown_index
            && let Some(range) = self.frames.get(index).cloned()
        {
            let mut decoded = GreyBuffer::default();
            match decode_image(&self.data[range], Some(ImageFormat::Jpeg), &mut decoded) {
                Ok(()) => self.shown = decoded,
                Err(e) => {
                    tracing::debug!(path = %self.path.display(), frame = index, error = %e, "MJPEG frame does not decode; keeping the last one")
                }
            }
            self.shown_index = index;
        }
        out.set(&self.shown.pixels, self.shown.width, self.shown.height);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::blank_frame;

    fn jpeg(level: u8) -> Vec<u8> {
        let frame = blank_frame(16, 16, level);
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode(&frame.pixels, 16, 16, image::ExtendedColorType::L8)
            .expect("encode");
        out
    }

    /// `jpeg` with an APP1 segment holding a whole JPEG, as an EXIF
    /// thumbnail does.
    fn with_thumbnail(jpeg: &[u8], thumbnail: &[u8]) -> Vec<u8> {
        let len = u16::try_from(thumbnail.len() + 2).expect("small");
        let mut out = vec![MARKER, SOI, MARKER, 0xE1];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(thumbnail);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn frames_are_split_by_structure_not_by_searching() {
        let (a, b) = (jpeg(10), jpeg(200));
        let c = with_thumbnail(&jpeg(120), &jpeg(0));
        let file = [a.clone(), c.clone(), b.clone()].concat();
        let frames = split_frames(&file).expect("split");
        assert_eq!(
            frames,
            [
                0..a.len(),
                a.len()..a.len() + c.len(),
                a.len() + c.len()..file.len()
            ]
        );
        let mut out = GreyBuffer::default();
        decode_image(&file[frames[1].clone()], Some(ImageFormat::Jpeg), &mut out).expect("decode");
        assert!(out.pixels.iter().all(|&p| p.abs_diff(120) <= 3));
    }

    #[test]
    fn broken_files_are_typed_errors() {
        let a = jpeg(10);
        assert_eq!(split_frames(&[]), Err(MjpegError::NoFrames));
        assert_eq!(
            split_frames(b"GIF89a"),
            Err(MjpegError::NotJpeg { offset: 0 })
        );
        let cut = [a.clone(), a[..a.len() - 5].to_vec()].concat();
        assert_eq!(split_frames(&cut), Err(MjpegError::Broken { frame: 1 }));
        let trailing = [a.clone(), vec![0, 0]].concat();
        assert_eq!(
            split_frames(&trailing),
            Err(MjpegError::NotJpeg { offset: a.len() })
        );
        // Every prefix and byte flip ends in frames or a typed error.
        for n in 0..a.len() {
            let _ = split_frames(&a[..n]);
            let mut flipped = a.clone();
            flipped[n] ^= 0xFF;
            let _ = split_frames(&flipped);
        }
    }
}
