//! A folder of images as a camera: each image one frame, in name order,
//! looping, all decoded up front so playback costs no decode per frame.

use std::fs;
use std::path::{Path, PathBuf};

use super::image::{read_bounded, read_error};
use super::is_image;
use crate::error::CameraError;
use crate::grey::decode_image;
use crate::source::GreyBuffer;

/// Memory set aside for a folder's decoded frames: about 580 frames of
/// 1280x720.
const MAX_FOLDER_BYTES: u64 = 512 << 20;

#[derive(Debug)]
pub(crate) struct Folder {
    frames: Vec<GreyBuffer>,
}

impl Folder {
    pub(crate) fn load(path: &Path) -> Result<Self, CameraError> {
        let mut files: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| read_error(path, e))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.is_file() && is_image(p))
            .collect();
        files.sort();
        let mut frames = Vec::with_capacity(files.len());
        let mut total: u64 = 0;
        for file in files {
            let len = fs::metadata(&file).map_err(|e| read_error(&file, e))?.len();
            let bytes = read_bounded(&file, len).map_err(|e| read_error(&file, e))?;
            let mut frame = GreyBuffer::default();
            decode_image(&bytes, None, &mut frame).map_err(|e| CameraError::Decode {
                path: file.clone(),
                detail: e.to_string(),
            })?;
            total += frame.pixels.len() as u64;
            if total > MAX_FOLDER_BYTES {
                return Err(CameraError::FolderTooLarge {
                    path: path.to_owned(),
                    limit_mib: MAX_FOLDER_BYTES >> 20,
                });
            }
            frames.push(frame);
        }
        if frames.is_empty() {
            return Err(CameraError::EmptyFolder {
                path: path.to_owned(),
            });
        }
        Ok(Self { frames })
    }

    pub(crate) fn size(&self) -> (u32, u32) {
        self.frames.first().map_or((0, 0), |f| (f.width, f.height))
    }

    /// The image for frame slot `slot`: slots advance with time, so a late
    /// reader skips images as a camera would.
    pub(crate) fn frame(&self, slot: u64, out: &mut GreyBuffer) {
        let index = usize::try_from(slot % self.frames.len().max(1) as u64).unwrap_or(0);
        if let Some(frame) = self.frames.get(index) {
            out.set(&frame.pixels, frame.width, frame.height);
        }
    }
}
