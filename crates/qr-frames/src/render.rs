//! The scene model and the camera that photographs it.
//!
//! The scene lives in "world" coordinates measured in QR modules; a
//! homography (similarity plus corner jitter for perspective) maps it to the
//! frame. Pixels over the code are supersampled 2x2 through the inverse
//! homography, so module edges are anti-aliased the way a real sensor
//! integrates light;
//! photometric effects (contrast, glare, moiré, blur, noise) follow in image
//! space.

use qrcode::{Color, EcLevel, QrCode};

use crate::rng::SplitMix;
use crate::{Distortion, FrameError, GreyImage, MAX_SIDE, MIN_SIDE};

/// Light modules and the quiet zone, as the monitor's panel emits them.
const PANEL_LIGHT: f64 = 0.95;
/// Dark modules.
const PANEL_DARK: f64 = 0.04;
/// The clinical UI background (monitors use dark themes).
const UI_BACKGROUND: f64 = 0.07;
/// The bezel around the screen.
const BEZEL: f64 = 0.12;
/// Quiet zone the monitor draws around its code, in modules.
const QUIET: f64 = 4.0;
/// Gap between codes when several are on screen, in modules.
const GAP: f64 = 8.0;
/// Sample offsets within a pixel where module edges need anti-aliasing.
const SUPERSAMPLE: [(f64, f64); 4] = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];

/// Renders `payloads` side by side on a monitor screen photographed with
/// `distortion`, deterministic from `seed`.
///
/// # Errors
/// [`FrameError::BadSize`], [`FrameError::NoPayload`], or
/// [`FrameError::Encode`] if a payload does not fit a QR code at level H.
pub fn render_frame(
    payloads: &[&str],
    width: u32,
    height: u32,
    distortion: Distortion,
    seed: u64,
) -> Result<GreyImage, FrameError> {
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(FrameError::BadSize { width, height });
    }
    if payloads.is_empty() {
        return Err(FrameError::NoPayload);
    }
    let codes = payloads
        .iter()
        .map(|p| Code::encode(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = SplitMix::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ distortion as u64);
    let params = Params::draw(distortion, &mut rng);
    let scene = Scene::layout(codes, params.inverted, &mut rng);
    let camera = Camera::aim(&scene, &params, width, height, &mut rng);
    Ok(photograph(
        &scene, &camera, &params, width, height, &mut rng,
    ))
}

/// One QR code's module grid.
struct Code {
    side: usize,
    dark: Vec<bool>,
}

impl Code {
    fn encode(payload: &str) -> Result<Self, FrameError> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::H)?;
        Ok(Self {
            side: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Panel side in modules, quiet zone included.
    fn panel(&self) -> f64 {
        self.side as f64 + 2.0 * QUIET
    }
}

/// How hard the camera is on the code. Module size is derived from `span`.
#[derive(Debug, Clone)]
struct Params {
    /// Width of the row of codes as a fraction of the frame's shorter side.
    span: f64,
    /// In-plane rotation, radians.
    rotation: f64,
    /// Corner jitter as a fraction of the code row's side.
    perspective: f64,
    /// Gaussian blur sigma in modules.
    blur_modules: f64,
    /// Noise sigma in full-scale units.
    noise: f64,
    /// Output level of a black screen pixel.
    black: f64,
    /// Output level of a white screen pixel.
    white: f64,
    /// Peak of the glare highlight, full-scale units.
    glare: f64,
    /// Amplitude of the moiré interference (multiplicative).
    moire: f64,
    /// Dark-mode panel.
    inverted: bool,
}

impl Params {
    fn clean(rng: &mut SplitMix) -> Self {
        Self {
            span: rng.range(0.45, 0.6),
            rotation: rng.range(-3.0, 3.0).to_radians(),
            perspective: 0.02,
            blur_modules: 0.12,
            noise: 0.01,
            black: 0.06,
            white: 0.9,
            glare: 0.0,
            moire: 0.0,
            inverted: false,
        }
    }

    fn draw(distortion: Distortion, rng: &mut SplitMix) -> Self {
        let mut p = Self::clean(rng);
        match distortion {
            Distortion::Clean => {}
            Distortion::Scale => p.span = rng.range(0.25, 0.95),
            Distortion::Rotation => {
                p.span = rng.range(0.4, 0.65);
                p.rotation = rng.range(0.0, 360.0).to_radians();
            }
            Distortion::Perspective => p.perspective = rng.range(0.12, 0.22),
            Distortion::Blur => p.blur_modules = rng.range(0.25, 0.4),
            Distortion::Noise => p.noise = rng.range(0.06, 0.11),
            Distortion::Glare => {
                p.black = rng.range(0.25, 0.4);
                p.white = p.black + rng.range(0.18, 0.3);
                p.glare = rng.range(0.25, 0.5);
            }
            Distortion::Moire => p.moire = rng.range(0.15, 0.3),
            Distortion::Inverted => p.inverted = true,
            Distortion::Combined => {
                p.span = rng.range(0.35, 0.75);
                p.rotation = rng.range(0.0, 360.0).to_radians();
                p.perspective = rng.range(0.0, 0.12);
                p.blur_modules = rng.range(0.12, 0.25);
                p.noise = rng.range(0.02, 0.05);
                p.black = rng.range(0.06, 0.25);
                p.white = rng.range(0.6, 0.9);
                p.glare = rng.range(0.0, 0.3);
                p.moire = rng.range(0.05, 0.15);
                p.inverted = rng.chance(0.5);
            }
        }
        p
    }
}

/// An axis-aligned rectangle in world coordinates.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn contains(&self, u: f64, v: f64) -> bool {
        u >= self.x0 && u < self.x1 && v >= self.y0 && v < self.y1
    }

    fn grow(&self, dx: f64, dy: f64) -> Self {
        Self {
            x0: self.x0 - dx,
            y0: self.y0 - dy,
            x1: self.x1 + dx,
            y1: self.y1 + dy,
        }
    }
}

/// A waveform trace on the monitor UI: a bright sinusoid across the screen.
struct Trace {
    y: f64,
    amplitude: f64,
    frequency: f64,
    phase: f64,
    level: f64,
}

/// The monitor in world coordinates (module units).
struct Scene {
    codes: Vec<(Rect, Code)>,
    /// The row of code panels: what the camera frames.
    row: Rect,
    screen: Rect,
    bezel: Rect,
    widgets: Vec<(Rect, f64)>,
    traces: Vec<Trace>,
    inverted: bool,
}

impl Scene {
    fn layout(codes: Vec<Code>, inverted: bool, rng: &mut SplitMix) -> Self {
        let row_h = codes.iter().map(Code::panel).fold(0.0, f64::max);
        let mut x = 0.0;
        let mut placed = Vec::with_capacity(codes.len());
        for code in codes {
            let side = code.panel();
            let y0 = (row_h - side) / 2.0;
            placed.push((
                Rect {
                    x0: x,
                    y0,
                    x1: x + side,
                    y1: y0 + side,
                },
                code,
            ));
            x += side + GAP;
        }
        let row = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: x - GAP,
            y1: row_h,
        };
        let screen = row.grow(row_h * 0.9, row_h * 0.35);
        let bezel = screen.grow(row_h * 0.12, row_h * 0.12);
        // Text and numeric readouts: light blocks in the UI around the code.
        let widgets = (0..24)
            .filter_map(|_| {
                let w = rng.range(2.0, 14.0);
                let h = rng.range(1.0, 4.0);
                let x0 = rng.range(screen.x0, screen.x1 - w);
                let y0 = rng.range(screen.y0, screen.y1 - h);
                let r = Rect {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                };
                let clear = row.grow(2.0, 2.0);
                let overlaps =
                    r.x0 < clear.x1 && r.x1 > clear.x0 && r.y0 < clear.y1 && r.y1 > clear.y0;
                (!overlaps).then(|| (r, rng.range(0.35, 0.8)))
            })
            .collect();
        let traces = (0..3)
            .map(|i| Trace {
                y: screen.y0 + (screen.y1 - screen.y0) * (0.2 + 0.3 * f64::from(i)),
                amplitude: rng.range(1.0, 3.0),
                frequency: rng.range(0.2, 0.6),
                phase: rng.range(0.0, std::f64::consts::TAU),
                level: rng.range(0.4, 0.7),
            })
            .collect();
        Self {
            codes: placed,
            row,
            screen,
            bezel,
            widgets,
            traces,
            inverted,
        }
    }

    /// Emitted/reflected luminance at world point `(u, v)`, and whether it is
    /// on the screen (where moiré appears).
    fn luminance(&self, u: f64, v: f64) -> (f64, bool) {
        for (rect, code) in &self.codes {
            if rect.contains(u, v) {
                let mx = (u - rect.x0 - QUIET).floor();
                let my = (v - rect.y0 - QUIET).floor();
                let n = code.side as f64;
                let dark = mx >= 0.0
                    && my >= 0.0
                    && mx < n
                    && my < n
                    && code.dark[my as usize * code.side + mx as usize];
                let level = if dark == self.inverted {
                    PANEL_LIGHT
                } else {
                    PANEL_DARK
                };
                return (level, true);
            }
        }
        if self.screen.contains(u, v) {
            for (rect, level) in &self.widgets {
                if rect.contains(u, v) {
                    return (*level, true);
                }
            }
            if !self.row.grow(1.0, 1.0).contains(u, v) {
                for t in &self.traces {
                    // Cheap band test first: the sine is the costly part.
                    if (v - t.y).abs() > t.amplitude + 0.35 {
                        continue;
                    }
                    let y = t.y + t.amplitude * (t.frequency * u + t.phase).sin();
                    if (v - y).abs() < 0.35 {
                        return (t.level, true);
                    }
                }
            }
            return (UI_BACKGROUND, true);
        }
        if self.bezel.contains(u, v) {
            return (BEZEL, false);
        }
        (0.45 + 0.12 * (0.03 * u + 0.02 * v).sin(), false)
    }
}

/// A 3x3 projective transform, row-major, acting on column vectors.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 9]);

impl Homography {
    /// Maps the unit square's corners (0,0), (1,0), (1,1), (0,1) to `q`.
    fn square_to_quad(q: [(f64, f64); 4]) -> Self {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
        let dx3 = x0 - x1 + x2 - x3;
        let dy3 = y0 - y1 + y2 - y3;
        let dx1 = x1 - x2;
        let dx2 = x3 - x2;
        let dy1 = y1 - y2;
        let dy2 = y3 - y2;
        let den = dx1 * dy2 - dx2 * dy1;
        let (g, h) = if den.abs() < 1e-12 {
            (0.0, 0.0)
        } else {
            ((dx3 * dy2 - dx2 * dy3) / den, (dx1 * dy3 - dx3 * dy1) / den)
        };
        Self([
            x1 - x0 + g * x1,
            x3 - x0 + h * x3,
            x0,
            y1 - y0 + g * y1,
            y3 - y0 + h * y3,
            y0,
            g,
            h,
            1.0,
        ])
    }

    fn inverse(&self) -> Self {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        let k = if det.abs() < 1e-12 { 0.0 } else { 1.0 / det };
        Self([
            (e * i - f * h) * k,
            (c * h - b * i) * k,
            (b * f - c * e) * k,
            (f * g - d * i) * k,
            (a * i - c * g) * k,
            (c * d - a * f) * k,
            (d * h - e * g) * k,
            (b * g - a * h) * k,
            (a * e - b * d) * k,
        ])
    }

    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }
}

/// Where the camera puts the code row in the frame.
struct Camera {
    /// Image pixel → unit square of the code row.
    to_row: Homography,
    /// Module size in pixels (before perspective).
    module_px: f64,
    /// Centre of the code row in the image, for placing glare.
    centre: (f64, f64),
    /// Side of the code row in pixels.
    side_px: f64,
    /// Bounding box of the code row in the image (x0, y0, x1, y1): only
    /// there do module edges need supersampling.
    code_box: (f64, f64, f64, f64),
}

impl Camera {
    fn aim(scene: &Scene, p: &Params, width: u32, height: u32, rng: &mut SplitMix) -> Self {
        let (w, h) = (f64::from(width), f64::from(height));
        let row_w = scene.row.x1 - scene.row.x0;
        let row_h = scene.row.y1 - scene.row.y0;
        let module_px = p.span * (w / row_w).min(h / row_h);
        let (sin, cos) = p.rotation.sin_cos();
        let side_px = module_px * row_w.max(row_h);
        let corners = [(0.0, 0.0), (row_w, 0.0), (row_w, row_h), (0.0, row_h)].map(|(x, y)| {
            let (x, y) = ((x - row_w / 2.0) * module_px, (y - row_h / 2.0) * module_px);
            let jx = p.perspective * side_px * rng.range(-1.0, 1.0);
            let jy = p.perspective * side_px * rng.range(-1.0, 1.0);
            (x * cos - y * sin + jx, x * sin + y * cos + jy)
        });
        let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
        let max_x = corners
            .iter()
            .map(|c| c.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let max_y = corners
            .iter()
            .map(|c| c.1)
            .fold(f64::NEG_INFINITY, f64::max);
        // Anywhere in the frame where the whole code stays in view; centred
        // when it cannot.
        let place = |lo: f64, hi: f64, room: f64, rng: &mut SplitMix| {
            let slack = room - (hi - lo);
            if slack > 0.0 {
                -lo + slack * rng.range(0.1, 0.9)
            } else {
                -lo + slack / 2.0
            }
        };
        let tx = place(min_x, max_x, w, rng);
        let ty = place(min_y, max_y, h, rng);
        let quad = corners.map(|(x, y)| (x + tx, y + ty));
        let code_box = (
            min_x + tx - 2.0,
            min_y + ty - 2.0,
            max_x + tx + 2.0,
            max_y + ty + 2.0,
        );
        Self {
            code_box,
            to_row: Homography::square_to_quad(quad).inverse(),
            module_px,
            centre: (
                quad.iter().map(|c| c.0).sum::<f64>() / 4.0,
                quad.iter().map(|c| c.1).sum::<f64>() / 4.0,
            ),
            side_px,
        }
    }
}

fn photograph(
    scene: &Scene,
    cam: &Camera,
    p: &Params,
    width: u32,
    height: u32,
    rng: &mut SplitMix,
) -> GreyImage {
    let (w, h) = (width as usize, height as usize);
    let row_w = scene.row.x1 - scene.row.x0;
    let row_h = scene.row.y1 - scene.row.y0;
    let moire = Moire::draw(p.moire, rng);
    let glare_at = (
        cam.centre.0 + cam.side_px * rng.range(-0.35, 0.35),
        cam.centre.1 + cam.side_px * rng.range(-0.35, 0.35),
    );
    let glare_r = cam.side_px * rng.range(0.15, 0.35);
    let mut buf = vec![0.0f64; w * h];
    for (y, row) in buf.chunks_exact_mut(w).enumerate() {
        for (x, out) in row.iter_mut().enumerate() {
            let (fx, fy) = (x as f64, y as f64);
            let (x0, y0, x1, y1) = cam.code_box;
            let in_code = fx >= x0 && fx <= x1 && fy >= y0 && fy <= y1;
            let offsets: &[(f64, f64)] = if in_code { &SUPERSAMPLE } else { &[(0.5, 0.5)] };
            let mut sum = 0.0;
            let mut on_screen = false;
            for (sx, sy) in offsets {
                let (u, v) = cam.to_row.apply(fx + sx, fy + sy);
                let (l, s) = scene.luminance(scene.row.x0 + u * row_w, scene.row.y0 + v * row_h);
                sum += l;
                on_screen |= s;
            }
            let mut l = sum / offsets.len() as f64;
            if on_screen {
                l *= moire.factor(fx, fy);
            }
            let mut level = p.black + (p.white - p.black) * l;
            if p.glare > 0.0 {
                let d2 = (fx - glare_at.0).powi(2) + (fy - glare_at.1).powi(2);
                level += p.glare * (-d2 / (2.0 * glare_r * glare_r)).exp();
            }
            *out = level;
        }
    }
    gaussian_blur(&mut buf, w, h, p.blur_modules * cam.module_px);
    let pixels = buf
        .into_iter()
        .map(|v| {
            let v = v + p.noise * rng.gaussian();
            // Clamped to 0..=255 first, so the cast cannot truncate.
            (v * 255.0).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    GreyImage {
        width,
        height,
        pixels,
    }
}

/// Two nearly equal gratings whose beat is the large-scale banding a camera
/// sees on a screen; the fine component is the pixel grid itself.
struct Moire {
    amplitude: f64,
    k1: (f64, f64),
    k2: (f64, f64),
}

impl Moire {
    fn draw(amplitude: f64, rng: &mut SplitMix) -> Self {
        let period = rng.range(2.5, 6.0);
        let angle = rng.range(0.0, std::f64::consts::PI);
        let period2 = period * (1.0 + rng.range(0.04, 0.12));
        let angle2 = angle + rng.range(0.03, 0.15);
        let k = |per: f64, a: f64| {
            let f = std::f64::consts::TAU / per;
            (f * a.cos(), f * a.sin())
        };
        Self {
            amplitude,
            k1: k(period, angle),
            k2: k(period2, angle2),
        }
    }

    fn factor(&self, x: f64, y: f64) -> f64 {
        if self.amplitude == 0.0 {
            return 1.0;
        }
        let a = (self.k1.0 * x + self.k1.1 * y).sin();
        let b = (self.k2.0 * x + self.k2.1 * y).sin();
        1.0 - self.amplitude * (0.5 + 0.25 * (a + b))
    }
}

/// Separable Gaussian blur in place; a no-op below a third of a pixel.
fn gaussian_blur(buf: &mut [f64], w: usize, h: usize, sigma: f64) {
    if sigma < 0.33 {
        return;
    }
    let radius = (sigma * 3.0).ceil() as usize;
    let kernel: Vec<f64> = (0..=2 * radius)
        .map(|i| {
            let d = i as f64 - radius as f64;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let norm: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.into_iter().map(|k| k / norm).collect();
    let mut tmp = vec![0.0; buf.len()];
    for y in 0..h {
        let row = &buf[y * w..(y + 1) * w];
        for x in 0..w {
            let mut acc = 0.0;
            for (i, k) in kernel.iter().enumerate() {
                let sx = (x + i).saturating_sub(radius).min(w - 1);
                acc += k * row[sx];
            }
            tmp[y * w + x] = acc;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (i, k) in kernel.iter().enumerate() {
                let sy = (y + i).saturating_sub(radius).min(h - 1);
                acc += k * tmp[sy * w + x];
            }
            buf[y * w + x] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{monitor_frame, sample_payload};

    #[test]
    fn frames_are_deterministic_and_sized() {
        for d in Distortion::ALL {
            let (p1, a) = monitor_frame(320, 200, d, 9).expect("renders");
            let (p2, b) = monitor_frame(320, 200, d, 9).expect("renders");
            assert_eq!(p1, p2);
            assert_eq!(a, b, "{} is not deterministic", d.name());
            assert_eq!(a.pixels.len(), 320 * 200);
        }
    }

    #[test]
    fn seeds_and_kinds_change_the_frame() {
        let (_, a) = monitor_frame(320, 200, Distortion::Clean, 1).expect("renders");
        let (_, b) = monitor_frame(320, 200, Distortion::Clean, 2).expect("renders");
        let (_, c) = monitor_frame(320, 200, Distortion::Inverted, 1).expect("renders");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_requests_are_errors() {
        assert!(matches!(
            render_frame(&["x"], 10, 10, Distortion::Clean, 0),
            Err(FrameError::BadSize { .. })
        ));
        assert!(matches!(
            render_frame(&[], 640, 480, Distortion::Clean, 0),
            Err(FrameError::NoPayload)
        ));
        let huge = "x".repeat(4000);
        assert!(matches!(
            render_frame(&[huge.as_str()], 640, 480, Distortion::Clean, 0),
            Err(FrameError::Encode(_))
        ));
    }

    #[test]
    fn payload_needs_a_version_16_code_at_level_h() {
        let code = Code::encode(&sample_payload(3)).expect("fits");
        // Version 15 or 16: 77 or 81 modules.
        assert!((77..=81).contains(&code.side), "side {}", code.side);
    }

    #[test]
    fn homography_maps_the_square_to_the_quad_and_back() {
        let q = [(10.0, 20.0), (110.0, 25.0), (120.0, 130.0), (5.0, 115.0)];
        let m = Homography::square_to_quad(q);
        for ((u, v), (x, y)) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .into_iter()
            .zip(q)
        {
            let (px, py) = m.apply(u, v);
            assert!((px - x).abs() < 1e-9 && (py - y).abs() < 1e-9);
            let (bu, bv) = m.inverse().apply(x, y);
            assert!((bu - u).abs() < 1e-9 && (bv - v).abs() < 1e-9);
        }
    }
}
