//! Entry points for the `video_files` fuzz target: the virtual camera's
//! readers of the Y4M and MJPEG files handed to the app (`--camera
//! file:PATH`), run on arbitrary bytes. Not the camera's API: a seam for
//! the fuzzer, which can only reach what the crate makes public.

use std::io::Cursor;

use image::ImageFormat;

use crate::grey::decode_image;
use crate::source::GreyBuffer;
use crate::virtual_camera::{mjpeg, y4m};

/// Frames read at most from one input, so each run stays quick.
const MAX_FRAMES: usize = 16;

/// Reads `data` as a Y4M video: the header, then its frames to the end or
/// the first error, then a rewind and a skip. The frames read.
pub fn read_y4m(data: &[u8]) -> usize {
    let Ok(mut reader) = y4m::Reader::new(Cursor::new(data)) else {
        return 0;
    };
    let mut frame = GreyBuffer::default();
    let mut read = 0;
    while read < MAX_FRAMES && matches!(reader.read_frame(&mut frame), Ok(true)) {
        read += 1;
    }
    if reader.rewind().is_ok() {
        let _ = reader.skip_frame();
    }
    read
}

/// Splits `data` into MJPEG frames, checks every range lies inside it, and
/// decodes the first few. The frames found.
pub fn read_mjpeg(data: &[u8]) -> usize {
    let Ok(frames) = mjpeg::split_frames(data) else {
        return 0;
    };
    let mut frame = GreyBuffer::default();
    for range in frames.iter().take(MAX_FRAMES) {
        assert!(
            range.start <= range.end && range.end <= data.len(),
            "a frame outside the file"
        );
        let _ = decode_image(&data[range.clone()], Some(ImageFormat::Jpeg), &mut frame);
    }
    frames.len()
}
