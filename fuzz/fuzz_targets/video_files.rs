//! Arbitrary bytes as the video files the app's virtual camera plays
//! (`--camera file:PATH`): the Y4M and MJPEG readers must return a typed
//! result on anything (never panic, never hang, never read outside the
//! file), as a camera's driver would on a broken stream.
//!
//! Byte 0 picks the reader: even for Y4M, odd for MJPEG; the rest is the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zpair_camera::fuzzing::{read_mjpeg, read_y4m};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, file)) = data.split_first() else {
        return;
    };
    if kind % 2 == 0 {
        read_y4m(file);
    } else {
        read_mjpeg(file);
    }
});
