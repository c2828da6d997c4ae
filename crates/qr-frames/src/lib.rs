//! Synthetic camera frames of a Z Monitor showing its pairing QR code.
//!
//! The scanner in `zpair-core` is tested and benchmarked on frames this crate
//! renders, so the project never depends on photos it cannot ship. A frame is
//! a tablet camera's view of a monitor: the room, the bezel, a dark clinical
//! UI with waveforms and text, and the QR code (error correction level H, as
//! the monitor draws it) in a light panel — or a dark one in dark mode. On top
//! of that come the distortions a real camera adds, each chosen from a seed so
//! every frame is reproducible.

mod payload;
mod render;
mod rng;

pub use payload::sample_payload;
pub use render::render_frame;

/// A single-channel 8-bit image, row-major, `pixels.len() == width * height`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyImage {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Luminance, 0 = black, 255 = white.
    pub pixels: Vec<u8>,
}

/// What the camera does to the monitor's QR code in a frame. Each kind varies
/// one aspect well past the clean frame; [`Distortion::Combined`] mixes all of
/// them at moderate strength, as a hand-held tablet in a ward would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Distortion {
    /// Straight on, sharp, good contrast: the baseline.
    Clean,
    /// The code small (about 2 pixels per module) to large (filling the frame).
    Scale,
    /// Any in-plane rotation.
    Rotation,
    /// A strongly tilted camera: the code is a trapezoid.
    Perspective,
    /// Out of focus or motion: Gaussian blur of a third of a module.
    Blur,
    /// Sensor noise in a dim room.
    Noise,
    /// A reflection over the code on a washed-out, low-contrast screen.
    Glare,
    /// Interference between the screen's pixel grid and the camera's sensor.
    Moire,
    /// A dark-mode screen: light modules on a dark background.
    Inverted,
    /// All of the above at once, each at a moderate level.
    Combined,
}

impl Distortion {
    /// Every kind, in a stable order (the benchmark's subfolders follow it).
    pub const ALL: [Self; 10] = [
        Self::Clean,
        Self::Scale,
        Self::Rotation,
        Self::Perspective,
        Self::Blur,
        Self::Noise,
        Self::Glare,
        Self::Moire,
        Self::Inverted,
        Self::Combined,
    ];

    /// A short lowercase name, used for folder names and test messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Scale => "scale",
            Self::Rotation => "rotation",
            Self::Perspective => "perspective",
            Self::Blur => "blur",
            Self::Noise => "noise",
            Self::Glare => "glare",
            Self::Moire => "moire",
            Self::Inverted => "inverted",
            Self::Combined => "combined",
        }
    }
}

/// Why a frame could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The requested frame is too small to hold a code or absurdly large.
    #[error("frame size {width}x{height} is outside {MIN_SIDE}..={MAX_SIDE} pixels per side")]
    BadSize {
        /// Requested columns.
        width: u32,
        /// Requested rows.
        height: u32,
    },
    /// Nothing to draw.
    #[error("no payload to render")]
    NoPayload,
    /// The payload is too long for a QR code at error correction level H.
    #[error("payload does not fit a QR code at error correction level H: {0}")]
    Encode(#[from] qrcode::types::QrError),
}

/// Smallest frame side accepted: a version-16 code needs at least ~180 px.
pub const MIN_SIDE: u32 = 64;
/// Largest frame side accepted, well above any tablet camera.
pub const MAX_SIDE: u32 = 8192;

/// A Z Monitor frame for `seed`: its payload ([`sample_payload`]) and the
/// rendered image.
///
/// # Errors
/// [`FrameError::BadSize`] for sizes outside [`MIN_SIDE`]..=[`MAX_SIDE`].
pub fn monitor_frame(
    width: u32,
    height: u32,
    distortion: Distortion,
    seed: u64,
) -> Result<(String, GreyImage), FrameError> {
    let payload = sample_payload(seed);
    let image = render_frame(&[payload.as_str()], width, height, distortion, seed)?;
    Ok((payload, image))
}
