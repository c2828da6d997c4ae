//! Camera pixel formats and image files to grey, one byte per pixel: the
//! only form the scanner takes. YUYV and NV12 carry luminance as is, so grey
//! costs one pass over the Y bytes; MJPEG and image files need a decode.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use zpair_scanner::MAX_FRAME_PIXELS;

use crate::source::GreyBuffer;

/// Largest image side decoded, so a hostile or broken file cannot make the
/// decoder allocate without bound.
const MAX_SIDE: u32 = 8_192;
/// Largest decoder allocation: an RGBA frame at the scanner's pixel limit.
const MAX_DECODE_BYTES: u64 = MAX_FRAME_PIXELS * 4;

/// A camera frame's layout, as nokhwa reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 8-bit luminance: already grey.
    Grey,
    /// YUV 4:2:2 packed `Y0 U Y1 V`: grey is every other byte.
    Yuyv,
    /// YUV 4:2:0, a full Y plane then interleaved UV: grey is the Y plane.
    Nv12,
    /// Motion JPEG: each frame a JPEG, decoded to luminance.
    Mjpeg,
    /// Packed 8-bit RGB.
    Rgb,
    /// Packed 8-bit BGR.
    Bgr,
}

impl PixelFormat {
    /// Relative cost of turning a frame into grey, lowest first; the format
    /// choice prefers cheap formats at equal resolution and rate.
    #[must_use]
    pub const fn grey_cost(self) -> u8 {
        match self {
            Self::Grey => 0,
            Self::Yuyv | Self::Nv12 => 1,
            Self::Rgb | Self::Bgr => 2,
            Self::Mjpeg => 3,
        }
    }

    /// Bytes a `width x height` frame needs at least (`None` for MJPEG,
    /// whose size varies).
    fn min_len(self, width: u32, height: u32) -> Option<u64> {
        let area = u64::from(width) * u64::from(height);
        match self {
            Self::Grey => Some(area),
            Self::Yuyv => Some(area * 2),
            Self::Nv12 => Some(area + area.div_ceil(2)),
            Self::Rgb | Self::Bgr => Some(area * 3),
            Self::Mjpeg => None,
        }
    }
}

/// Why a camera frame could not be turned into grey.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Fewer bytes than the format and size need.
    #[error("a {format:?} frame of {width}x{height} needs {needed} bytes but has {got}")]
    TooShort {
        /// Frame layout.
        format: PixelFormat,
        /// Columns.
        width: u32,
        /// Rows.
        height: u32,
        /// Bytes needed.
        needed: u64,
        /// Bytes received.
        got: usize,
    },
    /// A JPEG frame that does not decode.
    #[error("a JPEG frame does not decode: {0}")]
    Jpeg(String),
}

/// Writes the grey image of a `width x height` frame in `format` into `out`.
///
/// # Errors
/// [`ConvertError`] for a frame shorter than its format needs or an MJPEG
/// frame that does not decode.
pub fn to_grey(
    format: PixelFormat,
    data: &[u8],
    width: u32,
    height: u32,
    out: &mut GreyBuffer,
) -> Result<(), ConvertError> {
    if let Some(needed) = format.min_len(width, height)
        && (data.len() as u64) < needed
    {
        return Err(ConvertError::TooShort {
            format,
            width,
            height,
            needed,
            got: data.len(),
        });
    }
    let area = width as usize * height as usize;
    match format {
        PixelFormat::Grey | PixelFormat::Nv12 => out.set(&data[..area], width, height),
        PixelFormat::Yuyv => {
            out.pixels.clear();
            out.pixels
                .extend(data[..area * 2].iter().step_by(2).copied());
            out.width = width;
            out.height = height;
        }
        PixelFormat::Rgb | PixelFormat::Bgr => {
            let (r, b) = if format == PixelFormat::Rgb {
                (0, 2)
            } else {
                (2, 0)
            };
            out.pixels.clear();
            out.pixels.extend(
                data[..area * 3]
                    .chunks_exact(3)
                    .map(|p| luma(p[r], p[1], p[b])),
            );
            out.width = width;
            out.height = height;
        }
        PixelFormat::Mjpeg => decode_image(data, Some(ImageFormat::Jpeg), out)
            .map_err(|e| ConvertError::Jpeg(e.to_string()))?,
    }
    Ok(())
}

/// BT.601 luminance in fixed point, the weights cameras encode Y with.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = (77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8;
    u8::try_from(y).unwrap_or(u8::MAX)
}

/// Decodes an image file's bytes (PNG, JPEG, WebP; the format guessed from
/// the bytes unless given) into grey, within size limits.
///
/// # Errors
/// [`image::ImageError`] for a file that is not a readable image, truncated,
/// or larger than the limits.
pub fn decode_image(
    bytes: &[u8],
    format: Option<ImageFormat>,
    out: &mut GreyBuffer,
) -> Result<(), image::ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    match format {
        Some(format) => reader.set_format(format),
        None => reader = reader.with_guessed_format()?,
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let grey = reader.decode()?.into_luma8();
    out.width = grey.width();
    out.height = grey.height();
    out.pixels = grey.into_raw();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(format: PixelFormat, data: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ConvertError> {
        let mut out = GreyBuffer::default();
        to_grey(format, data, w, h, &mut out)?;
        assert_eq!((out.width, out.height), (w, h));
        Ok(out.pixels)
    }

    #[test]
    fn yuyv_grey_is_the_y_bytes() {
        // Two rows of two pixels: Y0 U Y1 V per pixel pair.
        let yuyv = [10, 128, 20, 128, 30, 90, 40, 200];
        assert_eq!(
            convert(PixelFormat::Yuyv, &yuyv, 2, 2),
            Ok(vec![10, 20, 30, 40])
        );
    }

    #[test]
    fn nv12_and_grey_take_the_first_plane() {
        let nv12 = [1, 2, 3, 4, 100, 200];
        assert_eq!(
            convert(PixelFormat::Nv12, &nv12, 2, 2),
            Ok(vec![1, 2, 3, 4])
        );
        assert_eq!(convert(PixelFormat::Grey, &[9, 8], 2, 1), Ok(vec![9, 8]));
    }

    #[test]
    fn rgb_and_bgr_give_luminance() {
        let white_red = [255, 255, 255, 255, 0, 0];
        assert_eq!(
            convert(PixelFormat::Rgb, &white_red, 2, 1),
            Ok(vec![255, 77])
        );
        let white_blue_as_bgr = [255, 255, 255, 255, 0, 0];
        assert_eq!(
            convert(PixelFormat::Bgr, &white_blue_as_bgr, 2, 1),
            Ok(vec![255, 29])
        );
    }

    #[test]
    fn short_frames_are_typed_errors() {
        assert_eq!(
            convert(PixelFormat::Yuyv, &[0; 7], 2, 2),
            Err(ConvertError::TooShort {
                format: PixelFormat::Yuyv,
                width: 2,
                height: 2,
                needed: 8,
                got: 7
            })
        );
        assert!(convert(PixelFormat::Nv12, &[0; 5], 2, 2).is_err());
        assert!(convert(PixelFormat::Rgb, &[0; 5], 2, 1).is_err());
        assert!(matches!(
            convert(PixelFormat::Mjpeg, b"\xff\xd8 not a jpeg", 2, 2),
            Err(ConvertError::Jpeg(_))
        ));
    }

    #[test]
    fn mjpeg_frames_decode_to_grey() {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&[200; 64], 8, 8, image::ExtendedColorType::L8)
            .expect("encode");
        let grey = convert(PixelFormat::Mjpeg, &jpeg, 8, 8).expect("decode");
        assert!(grey.iter().all(|&p| p.abs_diff(200) <= 2), "{grey:?}");
    }

    #[test]
    fn oversized_images_are_refused_before_decoding() {
        let huge = image::GrayImage::new(1, MAX_SIDE + 1);
        let mut bytes = Cursor::new(Vec::new());
        huge.write_to(&mut bytes, ImageFormat::Png).expect("encode");
        let mut out = GreyBuffer::default();
        assert!(decode_image(bytes.get_ref(), None, &mut out).is_err());
    }
}
