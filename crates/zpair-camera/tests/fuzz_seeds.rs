//! The `video_files` fuzz target's committed seeds reach the readers' deep
//! paths: whole frames of a Y4M video, frames split out of an MJPEG stream.
//! Read from the checkout the test runs in, found at run time.

use std::path::PathBuf;

use zpair_camera::fuzzing::{read_mjpeg, read_y4m};

fn seed(name: &str) -> Vec<u8> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = PathBuf::from(manifest)
        .join("../../fuzz/seeds/video_files")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Byte 0 picks the reader in the target; the file follows.
    bytes[1..].to_vec()
}

#[test]
fn the_seeds_are_read_to_their_frames() {
    assert_eq!(read_y4m(&seed("y4m-two-frames")), 2);
    assert_eq!(read_y4m(&seed("y4m-mono")), 1);
    assert_eq!(read_mjpeg(&seed("mjpeg-markers")), 2);
    assert_eq!(read_y4m(b"not a video"), 0);
}
