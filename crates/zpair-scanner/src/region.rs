//! Where in a frame a code probably is, before any decoder has found it.
//!
//! The whole-frame passes fail on a blurred or distant code for reasons a
//! crop can fix: a blurred code's finder patterns lose their 1:1:3:1:1
//! profile, which sharpening restores, and a code at 1.5–2.5 pixels per
//! module is binarized with most pixels straddling module edges, which
//! upscaling before binarization avoids. Both cost too much on a whole
//! frame but little on the code alone — so this finds the code without
//! decoding it: a QR code is the part of a frame with dense edges in both
//! directions (text has mostly vertical strokes at its scale, waveforms are
//! sparse, a room is smooth). Blur lowers the edge strength but not where
//! it is, so the regions still come out where the code is.

use super::preprocess::View;

/// Side of a scoring cell in the working image, in pixels: small enough
/// that a code 20 working pixels wide covers several cells.
const CELL: usize = 8;
/// Cells whose edge score reaches this fraction of the frame's strongest
/// cells (its 99th percentile) are code candidates.
const RELATIVE_THRESHOLD: f32 = 0.3;
/// Below this mean gradient (grey levels per pixel) a cell is flat,
/// however flat the rest of the frame is.
const ABSOLUTE_THRESHOLD: f32 = 3.0;
/// At most this many regions, strongest first.
const MAX_REGIONS: usize = 2;
/// Smallest candidate, in cells (a code under 2x2 cells is under 16 working
/// pixels wide: unreadable).
const MIN_CELLS: usize = 4;
/// A code is square: a blob whose box is longer than this ratio, or fills
/// less than this share of its box, is text or a waveform.
const MAX_ASPECT: usize = 3;
const MIN_FILL: f32 = 0.3;

/// A rectangle of the frame, in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

/// The likeliest code regions of a frame, found in `working` (the frame
/// reduced by `factor`), in frame pixels with a quiet-zone margin, clipped
/// to the `frame_width` x `frame_height` frame.
pub(crate) fn candidates(
    working: View<'_>,
    factor: usize,
    frame_width: usize,
    frame_height: usize,
) -> Vec<Region> {
    let (cols, rows) = (working.width / CELL, working.height / CELL);
    if cols == 0 || rows == 0 {
        return Vec::new();
    }
    let scores = cell_scores(working, cols, rows);
    let mut sorted = scores.clone();
    sorted.sort_by(f32::total_cmp);
    let strong = sorted[(sorted.len() - 1) * 99 / 100];
    let threshold = (strong * RELATIVE_THRESHOLD).max(ABSOLUTE_THRESHOLD);
    let on: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    let mut blobs = blobs(&on, &scores, cols, rows);
    blobs.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    let scale = CELL * factor.max(1);
    blobs
        .into_iter()
        .filter(Blob::plausible)
        .take(MAX_REGIONS)
        .map(|b| {
            let (x0, y0) = (b.x0 * scale, b.y0 * scale);
            let (x1, y1) = ((b.x1 + 1) * scale, (b.y1 + 1) * scale);
            // The cells cover the code's modules; its quiet zone and a cell
            // cut off at either edge lie outside them.
            let margin = (x1 - x0).max(y1 - y0) / 6 + scale;
            let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
            let (x1, y1) = (
                (x1 + margin).min(frame_width),
                (y1 + margin).min(frame_height),
            );
            Region {
                x: x0,
                y: y0,
                width: x1.saturating_sub(x0),
                height: y1.saturating_sub(y0),
            }
        })
        .filter(|r| r.width > 0 && r.height > 0)
        .collect()
}

/// Per cell, the weaker of its mean horizontal and vertical gradients: high
/// only where edges run both ways, as a code's module edges do.
fn cell_scores(src: View<'_>, cols: usize, rows: usize) -> Vec<f32> {
    let mut gx = vec![0u32; cols * rows];
    let mut gy = vec![0u32; cols * rows];
    let w = src.width;
    for y in 0..rows * CELL {
        let row = &src.pixels[y * w..(y + 1) * w];
        let below = src.pixels.get((y + 1) * w..(y + 2) * w).unwrap_or(row);
        let cell_row = (y / CELL) * cols;
        for x in 0..cols * CELL {
            let p = i32::from(row[x]);
            let right = i32::from(row.get(x + 1).copied().unwrap_or(row[x]));
            let i = cell_row + x / CELL;
            gx[i] += (right - p).unsigned_abs();
            gy[i] += (i32::from(below[x]) - p).unsigned_abs();
        }
    }
    let area = (CELL * CELL) as f32;
    gx.iter()
        .zip(&gy)
        .map(|(&a, &b)| a.min(b) as f32 / area)
        .collect()
}

/// A 4-connected group of candidate cells.
#[derive(Debug, Clone, Copy)]
struct Blob {
    cells: usize,
    weight: f32,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Blob {
    fn plausible(&self) -> bool {
        let (w, h) = (self.x1 - self.x0 + 1, self.y1 - self.y0 + 1);
        let fill = self.cells as f32 / (w * h) as f32;
        self.cells >= MIN_CELLS && w <= MAX_ASPECT * h && h <= MAX_ASPECT * w && fill >= MIN_FILL
    }
}

fn blobs(on: &[bool], scores: &[f32], cols: usize, rows: usize) -> Vec<Blob> {
    let mut seen = vec![false; on.len()];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..on.len() {
        if !on[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut blob = Blob {
            cells: 0,
            weight: 0.0,
            x0: cols,
            y0: rows,
            x1: 0,
            y1: 0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % cols, i / cols);
            blob.cells += 1;
            blob.weight += scores[i];
            blob.x0 = blob.x0.min(x);
            blob.y0 = blob.y0.min(y);
            blob.x1 = blob.x1.max(x);
            blob.y1 = blob.y1.max(y);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < cols).then(|| i + 1),
                (y > 0).then(|| i - cols),
                (y + 1 < rows).then(|| i + cols),
            ];
            for j in neighbours.into_iter().flatten() {
                if on[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        found.push(blob);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat frame with a checkerboard of 3-pixel squares (a code's
    /// texture) and a run of vertical stripes (text-like) elsewhere.
    fn scene() -> (Vec<u8>, usize, usize) {
        let (w, h) = (320, 200);
        let mut px = vec![30u8; w * h];
        for y in 100..160 {
            for x in 200..260 {
                if ((x / 3) + (y / 3)) % 2 == 0 {
                    px[y * w + x] = 220;
                }
            }
        }
        for y in 20..30 {
            for x in 20..200 {
                if x % 4 == 0 {
                    px[y * w + x] = 200;
                }
            }
        }
        (px, w, h)
    }

    #[test]
    fn finds_the_textured_square_and_not_the_stripes() {
        let (px, w, h) = scene();
        let view = View {
            pixels: &px,
            width: w,
            height: h,
        };
        let regions = candidates(view, 2, 2 * w, 2 * h);
        let first = regions.first().expect("a region");
        // The square is at (400..520, 200..320) in frame pixels.
        assert!(first.x <= 400 && first.x + first.width >= 520, "{first:?}");
        assert!(first.y <= 200 && first.y + first.height >= 320, "{first:?}");
        assert!(first.width < 260 && first.height < 260, "{first:?}");
        assert!(
            regions.iter().all(|r| r.y > 80),
            "stripes taken: {regions:?}"
        );
    }

    #[test]
    fn flat_and_tiny_frames_have_no_regions() {
        let flat = vec![128u8; 64 * 64];
        let view = View {
            pixels: &flat,
            width: 64,
            height: 64,
        };
        assert!(candidates(view, 1, 64, 64).is_empty());
        let tiny = View {
            pixels: &flat[..7 * 5],
            width: 7,
            height: 5,
        };
        assert!(candidates(tiny, 1, 7, 5).is_empty());
    }
}
