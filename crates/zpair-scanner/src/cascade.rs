//! The decoding cascade: which passes run on a frame, in what order, and
//! within what time.
//!
//! Order follows cost and hit rate measured on real photos and on frames
//! from two independent generators (see `benches/scanner.rs`):
//!
//! 1. rxing's hybrid binarizer on the working image reads most codes in one
//!    pass;
//! 2. large frames then get a full-detail pass: a monitor a few metres away
//!    has 2.5–5 pixels per module at 720p, too few once the frame is
//!    halved;
//! 3. an adaptive threshold of the working image reads most of what remains
//!    of glare and low contrast;
//! 4. the sharpened code regions ([`region`]): defocus and motion blur
//!    erase the finder patterns' 1:1:3:1:1 profile, unsharp masking of the
//!    region where a code probably is restores it. It is cheap because
//!    only the region is sharpened;
//! 5. then the perspective pass on full detail ([`perspective`]): a steeply
//!    tilted code whose finder patterns rxing finds but will not group is
//!    resampled face-on and read;
//! 6. the enlarged code regions: a distant code at 1.5–2.5 pixels per
//!    module, enlarged and sharpened before binarization, so module centres
//!    no longer blend with their edges;
//! 7. a global-histogram pass, a full-detail adaptive threshold and rqrr
//!    follow;
//! 8. small photos finally get an upscaled rxing pass and rqrr retries at a
//!    different scale and at small rotations, which move module edges
//!    relative to rqrr's sampling grid and read some warped codes nothing
//!    else does. They do not get the perspective pass: it read none of the
//!    photos the others miss, and would take budget from rqrr's retries.
//!
//! Every rxing pass also tries the inverted bitmap, for dark-mode screens —
//! nearly free, since the binarization is reused.
//!
//! A camera stream does not need every pass on every frame: consecutive
//! frames show nearly the same scene. [`Passes::InTurn`] runs the first pass
//! and one of the others, a different one each frame, so a code only a later
//! pass reads is still found within one round of the plan, and a frame with
//! no code in it — most frames, while the technician aims — costs two passes
//! rather than all of them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, RXingResult};

use super::guard::contain;
use super::perspective::{self, Rectified};
use super::preprocess::{self, Mapping, Plane, View};
use super::region::{self, Region};
use super::{DecoderKind, Detection, GreyFrame, ScanOutcome, is_z_monitor_payload};

/// Frames whose shorter side reaches this are decoded first at reduced size:
/// a monitor's code then still has ≥ 2 px per module, and a pass costs a
/// quarter.
const LARGE_MIN_SIDE: usize = 600;
/// Longest side of the reduced working image of a large frame.
const BASE_MAX_SIDE: usize = 1600;
/// Longest side of the full-detail image of a large frame (bounds the work
/// on huge frames).
const DETAIL_MAX_SIDE: usize = 2048;
/// Small images (photos, crops) get upscaled and resampled retries.
const SMALL_MAX_SIDE: usize = 1024;
/// Adaptive threshold offset: a pixel must be this much darker than its
/// neighbourhood to count as a dark module (suppresses sensor noise).
const THRESHOLD_OFFSET: u8 = 5;
/// rqrr retries for small images: scale factors and rotations (degrees).
const RQRR_RESAMPLE: f32 = 1.3;
const RQRR_ROTATIONS: [f32; 2] = [10.0, -10.0];
/// Unsharp masking of a region: the blur it undoes (pixels) and how much
/// detail it adds back. Defocus discs of up to about a module and motion of
/// up to two read again at these, on generated frames of both generators.
const SHARPEN_SIGMA: f32 = 1.5;
const SHARPEN_AMOUNT: f32 = 3.0;
/// Regions up to this side are enlarged (codes of up to ~2.5 pixels per
/// module, past which the whole-frame passes read them anyway).
const UPSCALE_MAX_SIDE: usize = 400;
/// Enlargement of small regions, then unsharp masking of the enlargement:
/// interpolation alone keeps the straddling pixels grey, sharpening pushes
/// them to the module they mostly belong to. On distant codes of both
/// generators (1.5–2.5 pixels per module) this reads two to four times what
/// either does alone.
const UPSCALE_FACTOR: usize = 2;
const UPSCALE_SHARPEN_SIGMA: f32 = 2.0;
const UPSCALE_SHARPEN_AMOUNT: f32 = 2.0;
/// Regions larger than this are reduced to it first (huge frames).
const REGION_MAX_SIDE: usize = 1024;

/// Which image a pass reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The working image: the frame, or its box-downscaled version.
    Base,
    /// The adaptive threshold of [`Source::Base`].
    BaseThreshold,
    /// Full detail (large frames only).
    Detail,
    /// The adaptive threshold of [`Source::Detail`].
    DetailThreshold,
    /// Bilinear resampling of the base by a factor.
    Resampled(f32),
    /// The base rotated by some degrees.
    Rotated(f32),
    /// The likeliest code regions ([`region`]) at full detail, each
    /// enhanced; a pass reads them one by one until one reads.
    Regions(Enhance),
}

/// What is done to a code region before it is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Enhance {
    /// Unsharp masking, for defocus and motion blur.
    Sharpen,
    /// Bicubic enlargement, for distant codes; only regions small enough
    /// to be such a code.
    Upscale,
}

impl Enhance {
    /// Cost per region pixel relative to an rxing pass on it.
    fn relative_cost(self) -> f64 {
        match self {
            // Six integer box passes, then the rxing pass.
            Self::Sharpen => 2.5,
            // Four times the pixels, interpolated, sharpened and read.
            Self::Upscale => 12.0,
        }
    }
}

/// Which decoder a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoder {
    /// rxing with its hybrid (block-local) binarizer.
    RxingHybrid,
    /// rxing with a global histogram threshold.
    RxingGlobal,
    /// rxing on face-on resamplings of the codes its finder patterns
    /// outline ([`perspective`]), for codes too tilted for its own grouping.
    RxingRectified,
    /// rqrr (quirc's adaptive threshold and grid fitting).
    Rqrr,
}

impl Decoder {
    /// Cost per pixel relative to an rxing hybrid pass (measured in release
    /// builds; rqrr's flood fills and grid fitting are the expensive part).
    fn relative_cost(self) -> f64 {
        match self {
            Self::RxingHybrid => 1.0,
            Self::RxingGlobal => 0.8,
            Self::RxingRectified => 1.5,
            Self::Rqrr => 10.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Pass {
    source: Source,
    decoder: Decoder,
}

const fn pass(source: Source, decoder: Decoder) -> Pass {
    Pass { source, decoder }
}

/// The passes for a frame of this size, in order.
fn plan(width: usize, height: usize) -> Vec<Pass> {
    use Decoder::{Rqrr, RxingGlobal, RxingHybrid, RxingRectified};
    use Source::{Base, BaseThreshold, Detail, DetailThreshold, Regions, Resampled, Rotated};
    let large = width.min(height) >= LARGE_MIN_SIDE;
    let mut passes = vec![pass(Base, RxingHybrid)];
    if large {
        passes.push(pass(Detail, RxingHybrid));
    }
    passes.extend([
        pass(BaseThreshold, RxingHybrid),
        pass(Regions(Enhance::Sharpen), RxingHybrid),
    ]);
    if large {
        passes.push(pass(Detail, RxingRectified));
    }
    passes.extend([
        pass(Regions(Enhance::Upscale), RxingHybrid),
        pass(Base, RxingGlobal),
    ]);
    if large {
        passes.push(pass(DetailThreshold, RxingHybrid));
    }
    passes.push(pass(Base, Rqrr));
    if width.max(height) <= SMALL_MAX_SIDE {
        passes.push(pass(Resampled(2.0), RxingHybrid));
        passes.push(pass(Resampled(RQRR_RESAMPLE), Rqrr));
        passes.extend(RQRR_ROTATIONS.map(|d| pass(Rotated(d), Rqrr)));
    }
    passes
}

/// Which passes of the plan a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Passes {
    /// Every pass, in order, until one reads a code (a single image).
    All,
    /// The first pass, then the `n`-th of the others, counting round (the
    /// `n`-th frame of a stream).
    InTurn(u64),
}

impl Passes {
    /// The passes of `plan` this selection runs, in order.
    fn select(self, plan: Vec<Pass>) -> Vec<Pass> {
        match self {
            Passes::All => plan,
            Passes::InTurn(n) => {
                let Some((&first, rest)) = plan.split_first() else {
                    return plan;
                };
                // `n % len` is below `rest.len()`, so it fits a usize.
                let len = rest.len() as u64;
                let turn = (len > 0).then(|| rest[(n % len) as usize]);
                std::iter::once(first).chain(turn).collect()
            }
        }
    }
}

/// Integer box factor that brings `max_side` down to `limit`.
fn reduction(max_side: usize, limit: usize) -> usize {
    max_side.div_ceil(limit).max(1)
}

/// The images passes read, built on first use.
struct Images<'a> {
    frame: View<'a>,
    base_factor: usize,
    detail_factor: usize,
    base: Option<Plane>,
    base_threshold: Option<Plane>,
    detail: Option<Plane>,
    detail_threshold: Option<Plane>,
    regions: Option<Vec<Region>>,
}

impl<'a> Images<'a> {
    fn new(frame: View<'a>) -> Self {
        let max_side = frame.width.max(frame.height);
        let large = frame.width.min(frame.height) >= LARGE_MIN_SIDE;
        Self {
            frame,
            base_factor: if large {
                reduction(max_side, BASE_MAX_SIDE).max(2)
            } else {
                1
            },
            detail_factor: reduction(max_side, DETAIL_MAX_SIDE),
            base: None,
            base_threshold: None,
            detail: None,
            detail_threshold: None,
            regions: None,
        }
    }

    /// The candidate code regions, found in the base on first use.
    fn regions(&mut self) -> Vec<Region> {
        if self.regions.is_none() {
            let (factor, w, h) = (self.base_factor, self.frame.width, self.frame.height);
            let found = region::candidates(self.base(), factor, w, h);
            self.regions = Some(found);
        }
        self.regions.clone().unwrap_or_default()
    }

    /// Each candidate region cut from the frame and enhanced, with its
    /// mapping back to the frame.
    fn region_images(&mut self, enhance: Enhance) -> Vec<(Plane, Mapping)> {
        let frame = self.frame;
        self.regions()
            .into_iter()
            .filter_map(|r| {
                let side = r.width.max(r.height);
                if enhance == Enhance::Upscale && side > UPSCALE_MAX_SIDE {
                    return None;
                }
                let mut plane = preprocess::crop(frame, r.x, r.y, r.width, r.height);
                let factor = reduction(side, REGION_MAX_SIDE);
                if factor > 1 {
                    plane = preprocess::downscale(plane.view(), factor);
                }
                let mut scale = 1.0 / factor as f32;
                let plane = match enhance {
                    Enhance::Sharpen => {
                        preprocess::unsharp(plane.view(), SHARPEN_SIGMA, SHARPEN_AMOUNT)
                    }
                    Enhance::Upscale => {
                        scale *= UPSCALE_FACTOR as f32;
                        let large = preprocess::upscale(plane.view(), UPSCALE_FACTOR);
                        preprocess::unsharp(
                            large.view(),
                            UPSCALE_SHARPEN_SIGMA,
                            UPSCALE_SHARPEN_AMOUNT,
                        )
                    }
                };
                let mapping = Mapping {
                    offset: (r.x as f32, r.y as f32),
                    ..Mapping::scaled(scale)
                };
                Some((plane, mapping))
            })
            .collect()
    }

    /// Pixel count of a source, for the cost estimate, without building it.
    fn pixels(&self, source: Source) -> f64 {
        let (w, h) = (self.frame.width as f64, self.frame.height as f64);
        let base = (w * h) / (self.base_factor * self.base_factor) as f64;
        match source {
            Source::Base | Source::BaseThreshold | Source::Rotated(_) => base,
            Source::Detail | Source::DetailThreshold => {
                (w * h) / (self.detail_factor * self.detail_factor) as f64
            }
            Source::Resampled(s) => base * f64::from(s * s),
            // Before the regions are known: a fifth of the frame, about
            // what a code and its margin cover.
            Source::Regions(enhance) => {
                let area = match &self.regions {
                    Some(regions) => regions.iter().map(|r| (r.width * r.height) as f64).sum(),
                    None => w * h / 5.0,
                };
                area * enhance.relative_cost()
            }
        }
    }

    fn reduced<'s>(frame: View<'s>, factor: usize, slot: &'s mut Option<Plane>) -> View<'s> {
        if factor <= 1 {
            frame
        } else {
            slot.get_or_insert_with(|| preprocess::downscale(frame, factor))
                .view()
        }
    }

    fn base(&mut self) -> View<'_> {
        Self::reduced(self.frame, self.base_factor, &mut self.base)
    }

    fn base_scale(&self) -> f32 {
        1.0 / self.base_factor as f32
    }

    /// The image for `source` and how its coordinates map to the frame.
    /// Resampled and rotated images are used once, so they are returned
    /// owned rather than cached.
    fn get(&mut self, source: Source) -> (Image<'_>, Mapping) {
        let base_scale = self.base_scale();
        match source {
            Source::Base => (Image::View(self.base()), Mapping::scaled(base_scale)),
            Source::BaseThreshold => {
                if self.base_threshold.is_none() {
                    let t = preprocess::adaptive_threshold(self.base(), THRESHOLD_OFFSET);
                    self.base_threshold = Some(t);
                }
                let view = self.base_threshold.as_ref().map(Plane::view);
                (Image::from_option(view), Mapping::scaled(base_scale))
            }
            Source::Detail | Source::DetailThreshold => {
                let scale = 1.0 / self.detail_factor as f32;
                let detail = Self::reduced(self.frame, self.detail_factor, &mut self.detail);
                if source == Source::Detail {
                    return (Image::View(detail), Mapping::scaled(scale));
                }
                let threshold = self.detail_threshold.get_or_insert_with(|| {
                    preprocess::adaptive_threshold(detail, THRESHOLD_OFFSET)
                });
                (Image::View(threshold.view()), Mapping::scaled(scale))
            }
            Source::Resampled(s) => {
                let plane = preprocess::resample(self.base(), s);
                (Image::Owned(plane), Mapping::scaled(base_scale * s))
            }
            // Read one by one in `run`, never as one image.
            Source::Regions(_) => (Image::Missing, Mapping::scaled(1.0)),
            Source::Rotated(degrees) => {
                let (plane, rotation) = preprocess::rotate(self.base(), degrees);
                let mapping = Mapping {
                    rotation: Some(rotation),
                    ..Mapping::scaled(base_scale)
                };
                (Image::Owned(plane), mapping)
            }
        }
    }
}

/// A pass's input: borrowed from the cache or built for this pass only.
enum Image<'a> {
    View(View<'a>),
    Owned(Plane),
    Missing,
}

impl<'a> Image<'a> {
    fn from_option(view: Option<View<'a>>) -> Self {
        view.map_or(Self::Missing, Self::View)
    }

    fn view(&self) -> Option<View<'_>> {
        match self {
            Self::View(v) => Some(*v),
            Self::Owned(p) => Some(p.view()),
            Self::Missing => None,
        }
    }
}

/// Runs the cascade until a pass finds a code or the budget runs out.
pub(super) fn run(frame: GreyFrame<'_>, passes: Passes, deadline: Instant) -> ScanOutcome {
    let view = frame.view();
    let mut images = Images::new(view);
    let mut outcome = ScanOutcome::default();
    // Measured cost of one rxing-hybrid pixel on this machine and build,
    // calibrated by the first pass and used to predict the others.
    let mut nanos_per_pixel: Option<f64> = None;
    // The working image is built before the first pass is timed, so its
    // cost per pixel is the decoder's alone: counting the reduction in it
    // overestimated every later pass and skipped some that fit.
    let _ = images.base();
    for p in passes.select(plan(view.width, view.height)) {
        let pixels = images.pixels(p.source);
        if let Some(unit) = nanos_per_pixel {
            let estimate = Duration::from_nanos((unit * pixels * p.decoder.relative_cost()) as u64);
            if Instant::now() + estimate > deadline {
                outcome.passes_skipped += 1;
                continue;
            }
        }
        let started = Instant::now();
        let (found, mapping) = if let Source::Regions(enhance) = p.source {
            read_regions(&mut images, enhance, p.decoder, &mut outcome.panics_caught)
        } else {
            let (image, mapping) = images.get(p.source);
            let Some(input) = image.view() else {
                continue;
            };
            (
                decode(input, p.decoder, &mut outcome.panics_caught),
                mapping,
            )
        };
        outcome.passes_run += 1;
        if nanos_per_pixel.is_none() {
            let spent = started.elapsed().as_nanos() as f64;
            nanos_per_pixel = Some(spent / (pixels * p.decoder.relative_cost()).max(1.0));
        }
        if !found.is_empty() {
            let kind = match p.decoder {
                Decoder::RxingHybrid | Decoder::RxingGlobal | Decoder::RxingRectified => {
                    DecoderKind::Rxing
                }
                Decoder::Rqrr => DecoderKind::Rqrr,
            };
            outcome.detections = found
                .into_iter()
                .map(|(text, corners)| Detection {
                    z_monitor: is_z_monitor_payload(&text),
                    corners: corners.map(|c| c.map(|pt| mapping.to_frame(pt))),
                    text,
                    decoder: kind,
                })
                .collect();
            break;
        }
    }
    outcome
}

fn decode(input: View<'_>, decoder: Decoder, panics: &mut u32) -> Found {
    match decoder {
        Decoder::RxingHybrid => decode_rxing(input, true, panics),
        Decoder::RxingGlobal => decode_rxing(input, false, panics),
        Decoder::RxingRectified => decode_rectified(input, panics),
        Decoder::Rqrr => decode_rqrr(input, panics),
    }
}

/// The candidate regions, enhanced, read one by one until one reads; what
/// it found and its mapping to the frame.
fn read_regions(
    images: &mut Images<'_>,
    enhance: Enhance,
    decoder: Decoder,
    panics: &mut u32,
) -> (Found, Mapping) {
    for (plane, mapping) in images.region_images(enhance) {
        let found = decode(plane.view(), decoder, panics);
        if !found.is_empty() {
            return (found, mapping);
        }
    }
    (Found::new(), Mapping::scaled(1.0))
}

/// Text and outline of each code one decoder call found.
type Found = Vec<(String, Option<[(f32, f32); 4]>)>;

/// Runs one decoder call through [`contain`], counting a panic as nothing
/// found.
fn contained(panics: &mut u32, decode: impl FnOnce() -> Found) -> Found {
    contain(decode).unwrap_or_else(|| {
        *panics += 1;
        Found::new()
    })
}

fn luma(input: View<'_>) -> Option<Luma8Source<'_>> {
    let (w, h) = (
        u32::try_from(input.width).ok()?,
        u32::try_from(input.height).ok()?,
    );
    Luma8Source::new_with_slice(input.pixels, w, h).ok()
}

fn decode_rxing(input: View<'_>, hybrid: bool, panics: &mut u32) -> Found {
    contained(panics, || {
        let Some(source) = luma(input) else {
            return Found::new();
        };
        let results = if hybrid {
            read_rxing(BinaryBitmap::new(HybridBinarizer::new(source)))
        } else {
            read_rxing(BinaryBitmap::new(GlobalHistogramBinarizer::new(source)))
        };
        found(results, |x, y| (x, y))
    })
}

/// The [`perspective`] pass: finder patterns in the hybrid binarization of
/// `input` (then of its inversion), each plausible code among them resampled
/// face-on and read, until one reads.
fn decode_rectified(input: View<'_>, panics: &mut u32) -> Found {
    contained(panics, || {
        let Some(source) = luma(input) else {
            return Found::new();
        };
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        for inverted in [false, true] {
            if inverted {
                bitmap.invert();
            }
            for grid in perspective::grids(bitmap.get_black_matrix()) {
                let found = read_rectified(&perspective::rectify(input, &grid), inverted);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        Found::new()
    })
}

/// A face-on image read in the polarity its finders were found in.
fn read_rectified(rectified: &Rectified, inverted: bool) -> Found {
    let Some(source) = luma(rectified.image.view()) else {
        return Found::new();
    };
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    if inverted {
        bitmap.invert();
    }
    let result = rectified.read(bitmap.get_black_matrix());
    found(result.into_iter().collect(), |x, y| (x, y))
}

/// Each text once, with its outline through `map`.
fn found(results: Vec<RXingResult>, map: impl Fn(f32, f32) -> (f32, f32)) -> Found {
    let mut seen = HashSet::new();
    results
        .into_iter()
        .filter(|r| seen.insert(r.getText().to_owned()))
        .map(|r| {
            let pts = r.getPoints();
            let corners =
                (pts.len() >= 4).then(|| std::array::from_fn(|i| map(pts[i].x, pts[i].y)));
            (r.getText().to_owned(), corners)
        })
        .collect()
}

/// All codes in the bitmap, then in its inversion (dark-mode screens).
fn read_rxing<B: Binarizer>(mut bitmap: BinaryBitmap<B>) -> Vec<RXingResult> {
    let found = read_qr(&mut bitmap);
    if !found.is_empty() {
        return found;
    }
    bitmap.invert();
    read_qr(&mut bitmap)
}

/// rxing's QR reader: its own finder grouping and sampling.
fn read_qr<B: Binarizer>(bitmap: &mut BinaryBitmap<B>) -> Vec<RXingResult> {
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    QrReader
        .decode_multiple_with_hints(bitmap, &hints)
        .unwrap_or_default()
}

fn decode_rqrr(input: View<'_>, panics: &mut u32) -> Found {
    contained(panics, || {
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(input.width, input.height, |x, y| {
                input
                    .pixels
                    .get(y * input.width + x)
                    .copied()
                    .unwrap_or(u8::MAX)
            });
        let mut found = Found::new();
        for grid in prepared.detect_grids() {
            let mut bytes = Vec::new();
            if grid.decode_to(&mut bytes).is_ok() {
                let corners = grid.bounds.map(|p| (p.x as f32, p.y as f32));
                found.push((bytes_to_text(bytes), Some(corners)));
            }
        }
        found
    })
}

/// QR byte segments carry no encoding without an ECI; UTF-8 is what
/// monitors send, and ISO-8859-1 (the QR default) covers the rest.
fn bytes_to_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::Homography;

    #[test]
    fn large_frames_start_reduced_and_small_ones_get_retries() {
        let large = plan(1280, 720);
        assert_eq!(large[0].source, Source::Base);
        assert!(large.iter().any(|p| p.source == Source::Detail));
        assert!(!large.iter().any(|p| matches!(p.source, Source::Rotated(_))));
        let small = plan(240, 240);
        assert!(!small.iter().any(|p| p.source == Source::Detail));
        assert!(small.iter().any(|p| matches!(p.source, Source::Rotated(_))));
        assert_eq!(
            Images::new(view_of(&[0; 1280 * 720], 1280, 720)).base_factor,
            2
        );
        assert_eq!(
            Images::new(view_of(&[0; 240 * 240], 240, 240)).base_factor,
            1
        );
    }

    #[test]
    fn in_turn_each_frame_runs_the_first_pass_and_one_other_and_a_round_runs_them_all() {
        let all = plan(1280, 720);
        let rest = all.len() - 1;
        let mut seen = Vec::new();
        for n in 0..rest as u64 {
            let chosen = Passes::InTurn(n).select(plan(1280, 720));
            assert_eq!(chosen.len(), 2, "turn {n}");
            assert_eq!(chosen[0].source, all[0].source);
            assert_eq!(chosen[0].decoder, all[0].decoder);
            seen.push(format!("{:?}", chosen[1]));
        }
        let mut expected: Vec<String> = all[1..].iter().map(|p| format!("{p:?}")).collect();
        seen.sort();
        expected.sort();
        assert_eq!(seen, expected, "one round covers every other pass once");
        assert_eq!(Passes::All.select(plan(1280, 720)).len(), all.len());
    }

    #[test]
    fn huge_frames_are_bounded() {
        assert_eq!(reduction(8000, BASE_MAX_SIDE), 5);
        assert_eq!(reduction(8000, DETAIL_MAX_SIDE), 4);
        assert_eq!(reduction(100, DETAIL_MAX_SIDE), 1);
    }

    #[test]
    fn latin1_fallback_for_non_utf8() {
        assert_eq!(bytes_to_text(vec![0x48, 0xE9]), "Hé");
        assert_eq!(bytes_to_text("héllo".as_bytes().to_vec()), "héllo");
    }

    /// `clean` as a camera sees it from well left of and above the monitor:
    /// a projective tilt about the frame centre, zoomed out so the code stays
    /// in view. Returns the frame and its map back to `clean`.
    fn steeply_tilted(clean: View<'_>) -> (Plane, Homography) {
        let (cx, cy) = (clean.width as f64 / 2.0, clean.height as f64 / 2.0);
        let shift = |dx, dy| Homography([1.0, 0.0, dx, 0.0, 1.0, dy, 0.0, 0.0, 1.0]);
        // The local scale goes with 1/w², and w is about 1.8 at the code's
        // top-left finder and 1.1 at its top-right one: the near finder is
        // some 2.8 times the size of the far one, past rxing's limit of 2.
        let tilt = Homography([1.6, 0.0, 0.0, 0.0, 1.6, 0.0, -0.0016, -0.0008, 1.0]);
        let to_clean = shift(cx, cy).after(&tilt.after(&shift(-cx, -cy)));
        let tilted = preprocess::warp(clean, clean.width, clean.height, &to_clean);
        (tilted, to_clean)
    }

    #[test]
    fn a_steeply_tilted_code_reads_face_on_and_is_outlined_in_the_frame() {
        let (payload, clean) =
            qr_frames::monitor_frame(1280, 720, qr_frames::Distortion::Clean, 0).expect("renders");
        let clean = view_of(&clean.pixels, 1280, 720);
        let (tilted, to_clean) = steeply_tilted(clean);
        let mut panics = 0;
        let direct = decode_rxing(tilted.view(), true, &mut panics);
        assert!(direct.is_empty(), "rxing reads it as it is: {direct:?}");
        let found = decode_rectified(tilted.view(), &mut panics);
        let [(text, Some(outline))] = found.as_slice() else {
            panic!("the perspective pass did not read it: {found:?}");
        };
        assert_eq!(text, &payload);
        // Mapped back through the tilt, the outline is where rxing finds the
        // code in the untilted frame (modules are 4-5 px there).
        let untilted = decode_rxing(clean, true, &mut panics);
        let [(_, Some(expected))] = untilted.as_slice() else {
            panic!("the clean frame reads: {untilted:?}");
        };
        for (&(x, y), &(ex, ey)) in outline.iter().zip(expected) {
            let (x, y) = to_clean.apply((f64::from(x), f64::from(y)));
            let off = (x - f64::from(ex)).hypot(y - f64::from(ey));
            assert!(
                off < 3.0,
                "corner {off} px off: {outline:?} vs {expected:?}"
            );
        }
        assert_eq!(panics, 0);
    }

    fn view_of(pixels: &[u8], width: usize, height: usize) -> View<'_> {
        View {
            pixels,
            width,
            height,
        }
    }
}
