//! Arbitrary bytes as a grey frame: the scanner must return (never panic,
//! never hang) and keep its promises about what it returns.
//!
//! Byte 0 picks one of two layouts, so the fuzzer reaches both the decoders'
//! front ends and their deep paths:
//! - even: byte 1 is the width in cells, byte 2 the cell size in pixels
//!   (1–4), the rest the cells' grey levels, row by row. Enlarging cells lets
//!   a few hundred bytes draw finder-pattern-like shapes.
//! - odd: a rendered Z Monitor frame with a readable code, damaged by the
//!   rest of the input taken as (position, level) patches, so finder
//!   detection, grid sampling and error correction all see hostile data.
//!
//! Frames stay at most 384 px a side so each run is quick.

#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qr_frames::{Distortion, GreyImage, monitor_frame};
use zpair_scanner::{GreyFrame, Scanner, ScannerConfig, is_z_monitor_payload};

/// Widest and tallest cell frame.
const MAX_CELLS: usize = 96;
/// A patch overwrites this many pixels of a row.
const PATCH_LEN: usize = 6;

fuzz_target!(|data: &[u8]| {
    let Some((&layout, rest)) = data.split_first() else {
        return;
    };
    let (pixels, width, height) = if layout % 2 == 0 {
        cells(rest)
    } else {
        damaged_monitor(rest)
    };
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return;
    };
    let Ok(frame) = GreyFrame::new(&pixels, w, h) else {
        assert_eq!(
            width * height,
            0,
            "a consistent {width}x{height} frame was refused"
        );
        return;
    };
    let outcome = Scanner::new(ScannerConfig::default()).scan(frame);
    assert!(outcome.passes_run >= 1, "the first pass always runs");
    let mut texts = HashSet::new();
    let mut others_started = false;
    for d in &outcome.detections {
        assert!(texts.insert(&d.text), "{:?} reported twice", d.text);
        assert_eq!(d.z_monitor, is_z_monitor_payload(&d.text));
        assert!(
            !(d.z_monitor && others_started),
            "Z Monitor payloads come first"
        );
        others_started |= !d.z_monitor;
    }
});

/// Cells of `cell`x`cell` pixels, `columns` to a row.
fn cells(data: &[u8]) -> (Vec<u8>, usize, usize) {
    let [columns, cell, levels @ ..] = data else {
        return (Vec::new(), 0, 0);
    };
    let columns = 1 + usize::from(*columns) % MAX_CELLS;
    let cell = 1 + usize::from(*cell % 4);
    let rows = (levels.len() / columns).min(MAX_CELLS);
    let mut pixels = Vec::with_capacity(columns * cell * rows * cell);
    for row in levels.chunks_exact(columns).take(rows) {
        let line: Vec<u8> = row
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, cell))
            .collect();
        for _ in 0..cell {
            pixels.extend_from_slice(&line);
        }
    }
    (pixels, columns * cell, rows * cell)
}

/// The monitor frame with every 3-byte chunk of `data` painting a short run
/// of pixels: two bytes of position, one of grey level.
fn damaged_monitor(data: &[u8]) -> (Vec<u8>, usize, usize) {
    static MONITOR: OnceLock<GreyImage> = OnceLock::new();
    let monitor = MONITOR.get_or_init(|| {
        // A readable code (checked once, so a broken base frame is noticed).
        let (payload, image) =
            monitor_frame(384, 384, Distortion::Clean, 1).expect("the base frame renders");
        let frame = GreyFrame::new(&image.pixels, image.width, image.height).expect("valid");
        let found = Scanner::new(ScannerConfig::default()).scan(frame);
        assert!(
            found.detections.iter().any(|d| d.text == payload),
            "base frame unreadable"
        );
        image
    });
    let mut pixels = monitor.pixels.clone();
    for patch in data.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([patch[0], patch[1]])) * 3 % pixels.len();
        let end = (at + PATCH_LEN).min(pixels.len());
        pixels[at..end].fill(patch[2]);
    }
    (pixels, monitor.width as usize, monitor.height as usize)
}
