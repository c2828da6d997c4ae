//! One image file as a camera, re-read when it changes: a simulated monitor
//! rewrites its `screen/qr.png` every 30 s with a fresh token.
//!
//! A writer may be caught mid-write (or replace the file by rename, briefly
//! leaving none). Neither may crash or blank the stream: the last image that
//! decoded stays on show until a whole one replaces it, and only a file gone
//! for longer than [`GONE_AFTER`] ends the session.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::CameraError;
use crate::grey::decode_image;
use crate::source::GreyBuffer;

/// A file missing or unreadable this long is gone, not being replaced.
pub(crate) const GONE_AFTER: Duration = Duration::from_secs(2);
/// Re-read at least this often even if size and time look unchanged: file
/// times can be as coarse as a kernel tick, so two writes may share one.
const RECHECK: Duration = Duration::from_secs(1);
/// Largest image file read; a QR screen is tens of kilobytes.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// What identifies one version of the file without reading it.
type Stamp = (Option<SystemTime>, u64);

#[derive(Debug)]
pub(crate) struct ImageFile {
    path: PathBuf,
    shown: GreyBuffer,
    bytes: Vec<u8>,
    stamp: Stamp,
    read_at: Duration,
    missing_since: Option<Duration>,
}

impl ImageFile {
    /// Reads and decodes the image; at open a broken image is an error, as
    /// there is nothing yet to show instead.
    pub(crate) fn open(path: &Path, now: Duration) -> Result<Self, CameraError> {
        let meta = fs::metadata(path).map_err(|e| read_error(path, e))?;
        let bytes = read_bounded(path, meta.len()).map_err(|e| read_error(path, e))?;
        let mut shown = GreyBuffer::default();
        decode_image(&bytes, None, &mut shown).map_err(|e| CameraError::Decode {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_owned(),
            shown,
            bytes,
            stamp: (meta.modified().ok(), meta.len()),
            read_at: now,
            missing_since: None,
        })
    }

    pub(crate) fn size(&self) -> (u32, u32) {
        (self.shown.width, self.shown.height)
    }

    /// The newest whole image into `out`.
    pub(crate) fn frame(&mut self, now: Duration, out: &mut GreyBuffer) -> Result<(), CameraError> {
        self.refresh(now)?;
        out.set(&self.shown.pixels, self.shown.width, self.shown.height);
        Ok(())
    }

    fn refresh(&mut self, now: Duration) -> Result<(), CameraError> {
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) => return self.missing(now, e),
        };
        let stamp = (meta.modified().ok(), meta.len());
        if stamp == self.stamp && now.saturating_sub(self.read_at) < RECHECK {
            self.missing_since = None;
            return Ok(());
        }
        let bytes = match read_bounded(&self.path, meta.len()) {
            Ok(bytes) => bytes,
            Err(e) => return self.missing(now, e),
        };
        self.missing_since = None;
        self.stamp = stamp;
        self.read_at = now;
        if bytes == self.bytes {
            return Ok(());
        }
        let mut decoded = GreyBuffer::default();
        match decode_image(&bytes, None, &mut decoded) {
            Ok(()) => self.shown = decoded,
            // Half-written: keep showing the last good image; the finished
            // file differs from these bytes and is decoded when it lands.
            Err(e) => {
                tracing::debug!(path = %self.path.display(), error = %e, "image not readable yet; keeping the last one")
            }
        }
        self.bytes = bytes;
        Ok(())
    }

    fn missing(&mut self, now: Duration, error: io::Error) -> Result<(), CameraError> {
        let since = *self.missing_since.get_or_insert(now);
        if now.saturating_sub(since) < GONE_AFTER {
            return Ok(());
        }
        Err(if error.kind() == io::ErrorKind::NotFound {
            CameraError::FileGone {
                path: self.path.clone(),
            }
        } else {
            read_error(&self.path, error)
        })
    }
}

/// Reads the whole file, refusing one larger than any screen image.
pub(crate) fn read_bounded(path: &Path, len: u64) -> io::Result<Vec<u8>> {
    if len > MAX_FILE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
        ));
    }
    fs::read(path)
}

pub(crate) fn read_error(path: &Path, error: io::Error) -> CameraError {
    if error.kind() == io::ErrorKind::NotFound {
        CameraError::FileNotFound {
            path: path.to_owned(),
        }
    } else {
        CameraError::FileRead {
            path: path.to_owned(),
            source: error,
        }
    }
}
