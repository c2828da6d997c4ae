//! Pixel work that gives the decoders a second chance on hard frames:
//! box downscaling (large frames, blur, moiré), bilinear resampling and
//! rotation (retries that move module edges off the decoder's sampling
//! grid), projective warping (a tilted code resampled face-on), and a
//! local-mean adaptive threshold (glare and low contrast, where a block-wise
//! binarizer sees too little contrast).
//!
//! Every function is total: any dimensions the scanner accepts give a valid
//! image, and none of them index outside the buffers they are given.

/// A borrowed grey image, `pixels.len() == width * height`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) pixels: &'a [u8],
    pub(crate) width: usize,
    pub(crate) height: usize,
}

/// An owned grey image, the output of a preprocessing step.
#[derive(Debug, Clone)]
pub(crate) struct Plane {
    pub(crate) pixels: Vec<u8>,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl Plane {
    pub(crate) fn view(&self) -> View<'_> {
        View {
            pixels: &self.pixels,
            width: self.width,
            height: self.height,
        }
    }
}

/// How a point in a preprocessed image maps back to the original frame, so
/// the corners a decoder reports outline the code in the camera frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mapping {
    /// The image was sampled at points rotated by this about a centre
    /// (degrees, cx, cy); the same rotation maps a point back.
    pub(crate) rotation: Option<(f32, f32, f32)>,
    /// Pixels of this image per frame pixel (before rotation is undone).
    pub(crate) scale: f32,
    /// Where this image's origin is in the frame, for crops.
    pub(crate) offset: (f32, f32),
}

impl Mapping {
    pub(crate) fn scaled(scale: f32) -> Self {
        Self {
            rotation: None,
            scale,
            offset: (0.0, 0.0),
        }
    }

    pub(crate) fn to_frame(self, (x, y): (f32, f32)) -> (f32, f32) {
        let (x, y) = match self.rotation {
            Some((degrees, cx, cy)) => {
                let (sin, cos) = degrees.to_radians().sin_cos();
                let (dx, dy) = (x - cx, y - cy);
                (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy)
            }
            None => (x, y),
        };
        (
            x / self.scale + self.offset.0,
            y / self.scale + self.offset.1,
        )
    }
}

/// Box filter by an integer `factor` (≥ 2): averaging, not sampling, so
/// noise and moiré fall instead of aliasing. Trailing rows/columns that do
/// not fill a whole box are dropped.
pub(crate) fn downscale(src: View<'_>, factor: usize) -> Plane {
    let factor = factor.max(1);
    let (w, h) = ((src.width / factor).max(1), (src.height / factor).max(1));
    let area = u32::try_from(factor * factor).unwrap_or(u32::MAX);
    let mut pixels = vec![0u8; w * h];
    let mut sums = vec![0u32; w];
    for (y, out_row) in pixels.chunks_exact_mut(w).enumerate() {
        sums.iter_mut().for_each(|s| *s = 0);
        for sy in y * factor..((y + 1) * factor).min(src.height) {
            let row = &src.pixels[sy * src.width..(sy + 1) * src.width];
            for (x, sum) in sums.iter_mut().enumerate() {
                let start = x * factor;
                let end = (start + factor).min(src.width);
                *sum += row[start..end].iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        for (o, s) in out_row.iter_mut().zip(&sums) {
            *o = u8::try_from(s / area).unwrap_or(u8::MAX);
        }
    }
    Plane {
        pixels,
        width: w,
        height: h,
    }
}

/// Bilinear sample at `(fx, fy)`; callers clamp to the image.
fn bilinear(src: View<'_>, fx: f32, fy: f32) -> u8 {
    let max_x = src.width.saturating_sub(1);
    let max_y = src.height.saturating_sub(1);
    let fx = fx.clamp(0.0, max_x as f32);
    let fy = fy.clamp(0.0, max_y as f32);
    // Non-negative and clamped above, so the casts are exact floors.
    let x0 = (fx as usize).min(max_x);
    let y0 = (fy as usize).min(max_y);
    let x1 = (x0 + 1).min(max_x);
    let y1 = (y0 + 1).min(max_y);
    let ax = fx - x0 as f32;
    let ay = fy - y0 as f32;
    let p = |x: usize, y: usize| f32::from(src.pixels[y * src.width + x]);
    let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
    let bottom = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
    (top * (1.0 - ay) + bottom * ay).round().clamp(0.0, 255.0) as u8
}

/// Bilinear resampling by `scale` (> 0). Small photos upscaled by 2 give
/// rxing's 8x8-block binarizer enough pixels per module; odd factors such as
/// 1.3 shift module edges relative to rqrr's sampling points.
pub(crate) fn resample(src: View<'_>, scale: f32) -> Plane {
    let w = ((src.width as f32 * scale).round() as usize).max(1);
    let h = ((src.height as f32 * scale).round() as usize).max(1);
    let mut pixels = vec![0u8; w * h];
    for (y, row) in pixels.chunks_exact_mut(w).enumerate() {
        let fy = (y as f32 + 0.5) / scale - 0.5;
        for (x, out) in row.iter_mut().enumerate() {
            *out = bilinear(src, (x as f32 + 0.5) / scale - 0.5, fy);
        }
    }
    Plane {
        pixels,
        width: w,
        height: h,
    }
}

/// A plane projective transform: a 3x3 matrix, row-major, acting on
/// homogeneous column vectors `(x, y, 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Homography(pub(crate) [f64; 9]);

impl Homography {
    /// The image of `(x, y)`; a point mapped to infinity (only possible far
    /// outside the region a warp samples) comes back non-finite.
    pub(crate) fn apply(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }

    /// `self` after `first`: the map `p ↦ self(first(p))`.
    pub(crate) fn after(&self, first: &Self) -> Self {
        let (a, b) = (&self.0, &first.0);
        Self(std::array::from_fn(|i| {
            let (row, col) = (i / 3, i % 3);
            (0..3).map(|k| a[row * 3 + k] * b[k * 3 + col]).sum()
        }))
    }
}

/// A `width`x`height` image whose pixel centres `to_src` maps into `src`,
/// sampled bilinearly; points outside `src` (or at infinity) take its mean,
/// like [`rotate`], so they add no edges. Coordinates on both sides measure
/// pixel areas, as rxing's do: pixel `(i, j)` covers `[i, i + 1) × [j, j + 1)`.
pub(crate) fn warp(src: View<'_>, width: usize, height: usize, to_src: &Homography) -> Plane {
    let mean = mean(src);
    let (max_x, max_y) = (src.width as f64 - 1.0, src.height as f64 - 1.0);
    let mut pixels = vec![mean; width * height];
    for (y, row) in pixels.chunks_exact_mut(width.max(1)).enumerate() {
        for (x, out) in row.iter_mut().enumerate() {
            let (sx, sy) = to_src.apply((x as f64 + 0.5, y as f64 + 0.5));
            // From pixel areas to the sample grid `bilinear` indexes.
            let (sx, sy) = (sx - 0.5, sy - 0.5);
            if (0.0..=max_x).contains(&sx) && (0.0..=max_y).contains(&sy) {
                *out = bilinear(src, sx as f32, sy as f32);
            }
        }
    }
    Plane {
        pixels,
        width,
        height,
    }
}

fn mean(src: View<'_>) -> u8 {
    let total: u64 = src.pixels.iter().map(|&p| u64::from(p)).sum();
    u8::try_from(total / (src.pixels.len().max(1) as u64)).unwrap_or(128)
}

/// Rotation about the centre by `degrees`, same size; uncovered corners take
/// the image's mean so they add no edges. Returns the rotation for
/// [`Mapping::rotation`].
pub(crate) fn rotate(src: View<'_>, degrees: f32) -> (Plane, (f32, f32, f32)) {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (src.width as f32 / 2.0, src.height as f32 / 2.0);
    let mut pixels = vec![mean(src); src.width * src.height];
    let (max_x, max_y) = (src.width as f32 - 1.0, src.height as f32 - 1.0);
    for (y, row) in pixels.chunks_exact_mut(src.width).enumerate() {
        let dy = y as f32 - cy;
        for (x, out) in row.iter_mut().enumerate() {
            let dx = x as f32 - cx;
            let sx = cos * dx + sin * dy + cx;
            let sy = -sin * dx + cos * dy + cy;
            if (0.0..=max_x).contains(&sx) && (0.0..=max_y).contains(&sy) {
                *out = bilinear(src, sx, sy);
            }
        }
    }
    let plane = Plane {
        pixels,
        width: src.width,
        height: src.height,
    };
    (plane, (degrees, cx, cy))
}

/// Local-mean threshold: black where a pixel is `offset` darker than the
/// mean of the `(2r+1)²` window around it. The window is a fixed fraction of
/// the image, so it spans several modules at any plausible code size and
/// follows glare gradients that defeat a global or coarse block threshold.
pub(crate) fn adaptive_threshold(src: View<'_>, offset: u8) -> Plane {
    let (w, h) = (src.width, src.height);
    let radius = (w.min(h) / 16).max(4);
    // Integral image with a zero first row and column.
    let stride = w + 1;
    let mut integral = vec![0u64; stride * (h + 1)];
    for y in 0..h {
        let mut row_sum = 0u64;
        for x in 0..w {
            row_sum += u64::from(src.pixels[y * w + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row_sum;
        }
    }
    let offset = u64::from(offset);
    let mut pixels = vec![0u8; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let sum = integral[y1 * stride + x1] + integral[y0 * stride + x0]
                - integral[y0 * stride + x1]
                - integral[y1 * stride + x0];
            let count = ((x1 - x0) * (y1 - y0)) as u64;
            let value = u64::from(src.pixels[y * w + x]);
            // value < mean - offset, without division or underflow.
            let dark = (value + offset) * count < sum;
            pixels[y * w + x] = if dark { 0 } else { 255 };
        }
    }
    Plane {
        pixels,
        width: w,
        height: h,
    }
}

/// The `width`x`height` rectangle at (`x`, `y`), clipped to `src`.
pub(crate) fn crop(src: View<'_>, x: usize, y: usize, width: usize, height: usize) -> Plane {
    let (x, y) = (x.min(src.width), y.min(src.height));
    let (width, height) = (width.min(src.width - x), height.min(src.height - y));
    let mut pixels = Vec::with_capacity(width * height);
    for row in src
        .pixels
        .chunks_exact(src.width.max(1))
        .skip(y)
        .take(height)
    {
        pixels.extend_from_slice(&row[x..x + width]);
    }
    Plane {
        pixels,
        width,
        height,
    }
}

/// Box radius for a blur of about `sigma` as three boxes: three boxes of
/// width 2r + 1 have variance 3((2r + 1)² − 1)/12.
fn box_radius(sigma: f32) -> usize {
    ((((4.0 * sigma * sigma + 1.0).sqrt() - 1.0) / 2.0).round() as usize).clamp(1, MAX_BOX_RADIUS)
}

/// Largest box radius: three passes each way of width 2r + 1 sum up to
/// 255·(2r + 1)⁶ per pixel, which must fit a u32.
const MAX_BOX_RADIUS: usize = 4;

/// Gaussian blur of `src` by three box blurs each way (within a few percent
/// of a Gaussian, at a cost independent of its width), in integers and
/// unnormalised: each output is `(2 * radius + 1)^6` times the blurred
/// value. Integer running sums keep each pass at a few cycles a pixel.
fn gaussian_sums(src: View<'_>, radius: usize) -> Vec<u32> {
    let (w, h) = (src.width, src.height);
    let mut a: Vec<u32> = src.pixels.iter().map(|&p| u32::from(p)).collect();
    let mut b = vec![0u32; a.len()];
    if w == 0 || h == 0 {
        return a;
    }
    for _ in 0..3 {
        box_rows(&a, &mut b, w, radius);
        std::mem::swap(&mut a, &mut b);
    }
    for _ in 0..3 {
        box_columns(&a, &mut b, w, h, radius);
        std::mem::swap(&mut a, &mut b);
    }
    a
}

/// Sum over `2 * radius + 1` pixels along each row, edges repeated.
fn box_rows(src: &[u32], out: &mut [u32], width: usize, radius: usize) {
    // The row with `radius + 1` repeats of its ends, so the running sum
    // needs no bounds logic: padded[i + radius + 1] is row[i].
    let mut padded = vec![0u32; width + 2 * radius + 2];
    for (row, out_row) in src.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        padded[..=radius].fill(row[0]);
        padded[radius + 1..radius + 1 + width].copy_from_slice(row);
        padded[radius + 1 + width..].fill(row[width - 1]);
        let mut sum: u32 = padded[1..=2 * radius + 1].iter().sum();
        let adds = &padded[2 * radius + 2..];
        for ((o, &add), &sub) in out_row.iter_mut().zip(adds).zip(&padded[1..]) {
            *o = sum;
            sum = sum + add - sub;
        }
    }
}

/// Sum over `2 * radius + 1` pixels down each column, edges repeated: a
/// running sum per column, updated a whole row at a time so memory is read
/// in order.
fn box_columns(src: &[u32], out: &mut [u32], width: usize, height: usize, radius: usize) {
    let last = height as isize - 1;
    let r = radius as isize;
    let row = |y: isize| {
        let y = y.clamp(0, last) as usize;
        &src[y * width..(y + 1) * width]
    };
    let mut sums = vec![0u32; width];
    for y in -r..=r {
        sums.iter_mut().zip(row(y)).for_each(|(s, &v)| *s += v);
    }
    for (y, out_row) in out.chunks_exact_mut(width).enumerate() {
        out_row.copy_from_slice(&sums);
        let y = y as isize;
        let (add, sub) = (row(y + r + 1), row(y - r));
        for ((s, &a), &b) in sums.iter_mut().zip(add).zip(sub) {
            *s = *s + a - b;
        }
    }
}

/// Unsharp masking: `amount` times the detail finer than `sigma` added
/// back. Defocus and motion spread a module over its neighbours; this
/// steepens the edges again so the finder patterns' 1:1:3:1:1 runs
/// reappear after binarization.
pub(crate) fn unsharp(src: View<'_>, sigma: f32, amount: f32) -> Plane {
    let radius = box_radius(sigma);
    let blurred = gaussian_sums(src, radius);
    let norm = 1.0 / ((2 * radius + 1) as f32).powi(6);
    let pixels = src
        .pixels
        .iter()
        .zip(&blurred)
        .map(|(&v, &b)| {
            let v = f32::from(v);
            (v + amount * (v - b as f32 * norm))
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    Plane {
        pixels,
        width: src.width,
        height: src.height,
    }
}

/// Catmull-Rom weights of the four samples around an offset `t` in [0, 1).
fn cubic_weights(t: f32) -> [f32; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        0.5 * (-t3 + 2.0 * t2 - t),
        0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
        0.5 * (-3.0 * t3 + 4.0 * t2 + t),
        0.5 * (t3 - t2),
    ]
}

/// Bicubic (Catmull-Rom) enlargement by an integer `factor`, separable.
/// Where a code has under three pixels per module, binarizing the frame
/// assigns each straddling pixel to one module or the other; binarizing
/// the enlargement keeps module centres apart from their edges.
pub(crate) fn upscale(src: View<'_>, factor: usize) -> Plane {
    let factor = factor.max(1);
    let (w, h) = (src.width * factor, src.height * factor);
    // Output coordinate i samples the source at (i + 0.5) / factor - 0.5.
    let taps: Vec<(isize, [f32; 4])> = (0..factor)
        .map(|phase| {
            let f = (phase as f32 + 0.5) / factor as f32 - 0.5;
            let base = f.floor();
            (base as isize, cubic_weights(f - base))
        })
        .collect();
    // Source index of the first of the four taps for output index i.
    let origin = |i: usize| (i / factor) as isize + taps[i % factor].0 - 1;
    // Rows first, into floating point: one enlarged row per source row.
    let mut wide = vec![0.0f32; w * src.height];
    // A source row with its ends repeated twice, so no tap needs clamping:
    // padded[i + 2] is row[i] for i in -2..width + 2.
    let mut padded = vec![0.0f32; src.width + 4];
    for (row, out) in src
        .pixels
        .chunks_exact(src.width.max(1))
        .zip(wide.chunks_exact_mut(w.max(1)))
    {
        let (first, last) = (row[0], row[row.len() - 1]);
        padded[..2].fill(f32::from(first));
        padded[src.width + 2..].fill(f32::from(last));
        for (p, &v) in padded[2..src.width + 2].iter_mut().zip(row) {
            *p = f32::from(v);
        }
        for (x, o) in out.iter_mut().enumerate() {
            let (start, weights) = (origin(x), taps[x % factor].1);
            // start ≥ -2 and start + 3 ≤ width + 1 for these phases.
            let at = (start + 2).clamp(0, src.width as isize) as usize;
            let window = &padded[at..at + 4];
            *o = window[0] * weights[0]
                + window[1] * weights[1]
                + window[2] * weights[2]
                + window[3] * weights[3];
        }
    }
    // Then columns, a whole output row at a time from four enlarged rows,
    // so memory is read in order.
    let mut pixels = vec![0u8; w * h];
    let last = src.height as isize - 1;
    let mut acc = vec![0.0f32; w];
    for (y, out) in pixels.chunks_exact_mut(w.max(1)).enumerate() {
        let (start, weights) = (origin(y), taps[y % factor].1);
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (k, weight) in weights.iter().enumerate() {
            let sy = (start + k as isize).clamp(0, last) as usize;
            let row = &wide[sy * w..(sy + 1) * w];
            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += weight * v);
        }
        for (o, &a) in out.iter_mut().zip(&acc) {
            *o = a.round().clamp(0.0, 255.0) as u8;
        }
    }
    Plane {
        pixels,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(pixels: &[u8], width: usize, height: usize) -> View<'_> {
        View {
            pixels,
            width,
            height,
        }
    }

    #[test]
    fn downscale_averages_boxes() {
        let px = [0, 255, 10, 20, 0, 255, 30, 40, 1, 2, 3, 4];
        let out = downscale(view(&px, 4, 3), 2);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.pixels, vec![127, 25]);
    }

    #[test]
    fn downscale_of_tiny_images_stays_valid() {
        let out = downscale(view(&[9], 1, 1), 4);
        assert_eq!((out.width, out.height, out.pixels.len()), (1, 1, 1));
    }

    #[test]
    fn resample_doubles_and_keeps_flat_regions() {
        let out = resample(view(&[50; 6], 3, 2), 2.0);
        assert_eq!((out.width, out.height), (6, 4));
        assert!(out.pixels.iter().all(|&p| p == 50));
    }

    #[test]
    fn rotation_maps_back_to_the_frame() {
        let px: Vec<u8> = (0..100).map(|i| (i * 2) as u8).collect();
        let (_, rotation) = rotate(view(&px, 10, 10), 90.0);
        let mapping = Mapping {
            rotation: Some(rotation),
            ..Mapping::scaled(1.0)
        };
        // The centre stays put; a point right of it came from above it.
        let (x, y) = mapping.to_frame((5.0, 5.0));
        assert!((x - 5.0).abs() < 1e-4 && (y - 5.0).abs() < 1e-4);
        let (x, y) = mapping.to_frame((8.0, 5.0));
        assert!(
            (x - 5.0).abs() < 1e-4 && (y - 2.0).abs() < 1e-4,
            "({x}, {y})"
        );
    }

    #[test]
    fn homographies_compose_and_warp() {
        let shift = Homography([1.0, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
        let tilt = Homography([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.1, 0.0, 1.0]);
        let (x, y) = shift.apply(tilt.apply((3.0, 4.0)));
        let (cx, cy) = shift.after(&tilt).apply((3.0, 4.0));
        assert!((x - cx).abs() < 1e-12 && (y - cy).abs() < 1e-12);
        // A shift by whole pixels copies; what falls outside takes the mean.
        let px: Vec<u8> = (0..16).map(|i| i * 10).collect();
        let out = warp(view(&px, 4, 4), 3, 4, &shift);
        assert_eq!(out.pixels[0], px[4 + 2]);
        assert_eq!(out.pixels[4], px[2 * 4 + 3]);
        assert_eq!(out.pixels[3 * 3], 75, "below the source: its mean");
    }

    #[test]
    fn adaptive_threshold_follows_a_gradient() {
        // A dark dot on a bright ramp that a global threshold would lose.
        let (w, h) = (64, 64);
        let mut px: Vec<u8> = (0..w * h).map(|i| (100 + (i % w) * 2) as u8).collect();
        px[32 * w + 60] = 150;
        px[32 * w + 4] = 60;
        let out = adaptive_threshold(view(&px, w, h), 5);
        assert_eq!(out.pixels[32 * w + 60], 0);
        assert_eq!(out.pixels[32 * w + 4], 0);
        assert_eq!(out.pixels[10 * w + 30], 255);
    }

    #[test]
    fn crop_clips_to_the_image() {
        let px: Vec<u8> = (0..20).collect();
        let out = crop(view(&px, 5, 4), 3, 2, 10, 10);
        assert_eq!((out.width, out.height), (2, 2));
        assert_eq!(out.pixels, vec![13, 14, 18, 19]);
        let none = crop(view(&px, 5, 4), 9, 9, 3, 3);
        assert_eq!((none.width, none.height), (0, 0));
    }

    #[test]
    fn unsharp_steepens_an_edge_and_keeps_flat_regions() {
        let (w, h) = (32, 8);
        let px: Vec<u8> = (0..w * h)
            .map(|i| if i % w < 16 { 60 } else { 180 })
            .collect();
        let out = unsharp(view(&px, w, h), 2.0, 1.5);
        let row = &out.pixels[4 * w..5 * w];
        assert_eq!(row[0], 60);
        assert_eq!(row[w - 1], 180);
        assert!(row[15] < 60 && row[16] > 180, "{row:?}");
    }

    #[test]
    fn upscale_keeps_samples_and_interpolates_between() {
        let out = upscale(view(&[50; 6], 3, 2), 2);
        assert_eq!((out.width, out.height), (6, 4));
        assert!(out.pixels.iter().all(|&p| p == 50));
        let ramp: Vec<u8> = (0..8).map(|i| i * 20).collect();
        let out = upscale(view(&ramp, 8, 1), 2);
        assert_eq!(out.width, 16);
        // Between samples 3 (60) and 4 (80) of a linear ramp.
        assert_eq!(&out.pixels[7..9], &[65, 75]);
    }
}
