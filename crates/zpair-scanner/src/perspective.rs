//! Strongly tilted codes, resampled face-on.
//!
//! On a steeply tilted code rxing still finds the three finder patterns, but
//! it rejects or mislabels them, for three assumptions perspective breaks:
//!
//! - the finders of one code differ in size by at most 2x, while the near
//!   corner of a steeply tilted code can be three times the far one;
//! - the corner finder is the one opposite the longest side, while
//!   foreshortening can make the code's diagonal look shorter than a side;
//! - the module size between two finders is the mean of theirs, while under
//!   perspective it is their geometric mean, so the code's dimension comes
//!   out several modules short and the version check then discards it.
//!
//! So this pass takes the finders, tries every triple with each finder as
//! the corner, and estimates the code's full perspective from the finders
//! alone: along the line between two finder centres the image is a 1-D
//! projective map, and the module sizes measured at both ends fix it (their
//! ratio is the square of the map's foreshortening). The maps along the top
//! and the left side determine the homography from code to image, the
//! fourth corner included, without looking for it. The code is then
//! resampled face-on, quiet zone included, and handed to rxing's sampler
//! and decoder as an untilted code; the sampler's fit of the grid to the
//! alignment patterns absorbs what error the estimate leaves.

use std::cmp::Reverse;

use rxing::common::cpp_essentials::ConcentricPattern;
use rxing::common::{BitMatrix, DetectorRXingResult};
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{
    EstimateModuleSize, FindFinderPatterns, FinderPatternSet, SampleQR,
};
use rxing::{BarcodeFormat, Point, RXingResult, point};

use super::preprocess::{self, Homography, Plane, View};

/// Finder patterns considered, largest first (larger ones are less likely to
/// be noise); 8 give 168 groupings, whose geometric checks cost microseconds.
const MAX_FINDERS: usize = 8;
/// Groupings resampled and read per polarity, most plausible first: each
/// costs about as much as an rxing pass on a small image.
const MAX_RECTIFIED: usize = 4;
/// Resolution of the face-on image: enough for rxing's block binarizer and
/// sampler, small enough that a version-40 code stays under 0.6 MP.
const PX_PER_MODULE: f64 = 4.0;
/// A finder pattern's side in modules.
const FINDER_MODULES: f64 = 7.0;
/// Modules kept around a finder centre: half the finder and the 4-module
/// quiet zone the QR standard asks for.
const MARGIN_MODULES: f64 = FINDER_MODULES / 2.0 + 4.0;
/// Largest disagreement between the two sides' module counts: the code is
/// square, so more means the grouping is not one code.
const MAX_SIDE_RATIO: f64 = 1.25;
/// Modules between finder centres of the smallest and largest QR codes
/// (versions 1 and 40, a finder is 7 modules), with some tolerance.
const SPAN_RANGE: std::ops::RangeInclusive<f64> = 12.0..=180.0;

/// Where a code lies in the image.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    /// Code coordinates to image pixels: the top-left finder centre is
    /// (0, 0), the top-right (1, 0), the bottom-left (0, 1).
    to_image: Homography,
    /// Modules from the top-left finder centre to the other two.
    span: f64,
}

/// A face-on resampling of a [`Grid`].
pub(super) struct Rectified {
    pub(super) image: Plane,
    /// Rectified pixels to the pixels of the image the grid was found in.
    to_image: Homography,
    /// Where the finder centres are in `image`: known by construction, so
    /// the sampler needs no finder search, which a far finder blurred by
    /// the upsampling could fail.
    finders: FinderPatternSet,
}

impl Rectified {
    /// The code read from `matrix`, the binarized [`Rectified::image`], with
    /// rxing's sampler (which fits the grid to the alignment patterns) and
    /// error correction; its outline in the image it was resampled from.
    pub(super) fn read(&self, matrix: &BitMatrix) -> Option<RXingResult> {
        let detected = SampleQR(matrix, &self.finders).ok()?;
        let decoded = Decode(detected.getBits()).ok()?;
        if !decoded.isValid() {
            return None;
        }
        let outline: Vec<Point> = detected
            .getPoints()
            .iter()
            .map(|p| {
                let (x, y) = self.to_image.apply((f64::from(p.x), f64::from(p.y)));
                point(x as f32, y as f32)
            })
            .collect();
        Some(RXingResult::with_decoder_result(
            decoded,
            &outline,
            BarcodeFormat::QR_CODE,
        ))
    }
}

/// The plausible codes among the finder patterns of `matrix`, most
/// right-angled corner first, at most [`MAX_RECTIFIED`].
pub(super) fn grids(matrix: &BitMatrix) -> Vec<Grid> {
    // Trying harder scans every third row, so far finders a few pixels tall
    // are not stepped over.
    let mut finders = FindFinderPatterns(matrix, true, 0);
    finders.sort_by_key(|f| Reverse(f.size));
    finders.truncate(MAX_FINDERS);
    let mut scored = Vec::new();
    for (i, &a) in finders.iter().enumerate() {
        for (j, &b) in finders.iter().enumerate().skip(i + 1) {
            for &c in &finders[j + 1..] {
                for (corner, p, q) in [(a, b, c), (b, a, c), (c, a, b)] {
                    if let Some(grid) = grid(matrix, corner, p, q) {
                        scored.push((corner_cosine(corner, p, q), grid));
                    }
                }
            }
        }
    }
    scored.sort_by(|x, y| x.0.total_cmp(&y.0));
    scored
        .into_iter()
        .take(MAX_RECTIFIED)
        .map(|(_, grid)| grid)
        .collect()
}

/// The code `grid` describes, resampled from `image` (where its finders were
/// found) face-on with its quiet zone.
pub(super) fn rectify(image: View<'_>, grid: &Grid) -> Rectified {
    let side = ((grid.span + 2.0 * MARGIN_MODULES) * PX_PER_MODULE).round() as usize;
    let scale = 1.0 / (PX_PER_MODULE * grid.span);
    let offset = -MARGIN_MODULES / grid.span;
    let to_code = Homography([scale, 0.0, offset, 0.0, scale, offset, 0.0, 0.0, 1.0]);
    let to_image = grid.to_image.after(&to_code);
    let size = (FINDER_MODULES * PX_PER_MODULE).round() as i32;
    let finder = |x: f64, y: f64| ConcentricPattern {
        p: point((x * PX_PER_MODULE) as f32, (y * PX_PER_MODULE) as f32),
        size,
    };
    let (near, far) = (MARGIN_MODULES, MARGIN_MODULES + grid.span);
    Rectified {
        image: preprocess::warp(image, side, side, &to_image),
        to_image,
        finders: FinderPatternSet {
            bl: finder(near, far),
            tl: finder(near, near),
            tr: finder(far, near),
        },
    }
}

/// |cos| of the angle at `corner` between the other two finders: 0 for a
/// right angle, NaN (sorted last) for coincident points.
fn corner_cosine(corner: ConcentricPattern, p: ConcentricPattern, q: ConcentricPattern) -> f32 {
    let (u, v) = (p - corner, q - corner);
    (u.dot(v) / (u.dot(u) * v.dot(v)).sqrt()).abs()
}

/// The code with `corner` as its top-left finder, if the other two can be
/// its top-right and bottom-left ones.
fn grid(
    matrix: &BitMatrix,
    corner: ConcentricPattern,
    p: ConcentricPattern,
    q: ConcentricPattern,
) -> Option<Grid> {
    // cross(tr − tl, bl − tl) ≥ 0 with y pointing down: the orientation test
    // rxing applies to its own groupings, so the code is not read mirrored.
    let (bl, tr) = if (q - corner).cross(p - corner) < 0.0 {
        (q, p)
    } else {
        (p, q)
    };
    let top = Side::measure(matrix, corner, tr)?;
    let left = Side::measure(matrix, corner, bl)?;
    let ratio = top.span.max(left.span) / top.span.min(left.span);
    let span = (top.span + left.span) / 2.0;
    if ratio > MAX_SIDE_RATIO || !SPAN_RANGE.contains(&span) {
        return None;
    }
    let [tl, tr, bl] = [corner, tr, bl].map(|f| (f64::from(f.p.x), f64::from(f.p.y)));
    let to_image = code_to_image(tl, (tr, top.foreshortening), (bl, left.foreshortening));
    Some(Grid { to_image, span })
}

/// The homography taking the code's (0, 0), (1, 0), (0, 1) to `tl`, `tr`,
/// `bl` whose restrictions to the top and left sides have the given
/// foreshortening ([`Side::foreshortening`]). Its columns are the images of
/// the code's x direction, y direction and origin in homogeneous
/// coordinates: `ρ·tr − tl` (the vanishing point of the top side, at
/// infinity when ρ = 1), `ρ·bl − tl`, and `tl`.
fn code_to_image(
    tl: (f64, f64),
    (tr, rho_top): ((f64, f64), f64),
    (bl, rho_left): ((f64, f64), f64),
) -> Homography {
    let direction = |(x, y): (f64, f64), rho: f64| [rho * x - tl.0, rho * y - tl.1, rho - 1.0];
    let (u, v) = (direction(tr, rho_top), direction(bl, rho_left));
    Homography([u[0], v[0], tl.0, u[1], v[1], tl.1, u[2], v[2], 1.0])
}

/// The segment between two finder centres, which runs along a side of the
/// code.
struct Side {
    /// Modules between the centres.
    span: f64,
    /// ρ, the square root of how much larger a module is at the start than
    /// at the end: the 1-D projective map `s ↦ (a + s(ρb − a)) / (1 + s(ρ − 1))`
    /// from the code's `s ∈ [0, 1]` to the image runs from `a` to `b` with
    /// derivatives in exactly the ratio ρ² at its ends.
    foreshortening: f64,
}

impl Side {
    /// `None` unless both ends show a finder pattern along the line.
    fn measure(matrix: &BitMatrix, from: ConcentricPattern, to: ConcentricPattern) -> Option<Self> {
        let start = EstimateModuleSize(matrix, from, to);
        let end = EstimateModuleSize(matrix, to, from);
        if !(start > 0.0 && end > 0.0) {
            return None;
        }
        // Under a projective map the mean module size over a segment is the
        // geometric mean of the sizes at its ends.
        let span = f64::from(from.distance(to)) / (start * end).sqrt();
        Some(Self {
            span,
            foreshortening: (start / end).sqrt(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within a hundredth of a pixel (the scales below are numerical
    /// derivatives).
    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).hypot(a.1 - b.1) < 0.01
    }

    /// Length of the image of a step `d` along `direction` at `(s, r)`.
    fn local_scale(h: &Homography, (s, r): (f64, f64), direction: (f64, f64)) -> f64 {
        let d = 1e-6;
        let (a, b) = (
            h.apply((s, r)),
            h.apply((s + d * direction.0, r + d * direction.1)),
        );
        (b.0 - a.0).hypot(b.1 - a.1) / d
    }

    #[test]
    fn the_fourth_corner_follows_from_three_points_and_their_foreshortening() {
        // A code seen at a steep angle from the left and above.
        let truth = Homography([300.0, 40.0, 200.0, -30.0, 280.0, 150.0, -0.45, -0.2, 1.0]);
        let [tl, tr, bl] = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)].map(|p| truth.apply(p));
        // What the module sizes at the finders measure along each side.
        let rho = |end: (f64, f64), direction| {
            let start = local_scale(&truth, (0.0, 0.0), direction);
            (start / local_scale(&truth, end, direction)).sqrt()
        };
        let estimate = code_to_image(
            tl,
            (tr, rho((1.0, 0.0), (1.0, 0.0))),
            (bl, rho((0.0, 1.0), (0.0, 1.0))),
        );
        for p in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.3, 0.7)] {
            let (got, want) = (estimate.apply(p), truth.apply(p));
            assert!(close(got, want), "{p:?}: {got:?} instead of {want:?}");
        }
    }

    #[test]
    fn without_foreshortening_the_code_is_a_parallelogram() {
        let h = code_to_image((10.0, 20.0), ((110.0, 30.0), 1.0), ((0.0, 120.0), 1.0));
        assert!(close(h.apply((1.0, 1.0)), (100.0, 130.0)));
    }
}
