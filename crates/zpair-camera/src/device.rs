//! Real cameras: what a camera offers and which mode to open (plain
//! functions over plain types, tested without a camera), and the devices
//! themselves through nokhwa (V4L2 on Linux, AVFoundation on macOS, Media
//! Foundation on Windows) in [`native`]. Android and iPadOS have no native
//! camera here: the Scan screen uses the web view's camera there, and
//! [`list_devices`] lists none.

use crate::grey::PixelFormat;

#[cfg(not(any(target_os = "android", target_os = "ios")))]
mod native;
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub use native::list_devices;

/// Tablets list no native camera: the web view's camera is the way there.
///
/// # Errors
/// None; the signature is the desktops'.
#[cfg(any(target_os = "android", target_os = "ios"))]
pub fn list_devices() -> Result<Vec<DeviceInfo>, crate::CameraError> {
    Ok(Vec::new())
}

/// Nothing to open on a tablet: [`list_devices`] lists no camera, so only a
/// stale choice gets here.
#[cfg(any(target_os = "android", target_os = "ios"))]
impl crate::source::FrameSource for DeviceCamera {
    fn open(
        &mut self,
    ) -> Result<
        (
            crate::source::StreamInfo,
            Box<dyn crate::source::FrameStream>,
        ),
        crate::CameraError,
    > {
        Err(crate::CameraError::NoCamera)
    }
}

/// Below this rate aiming a camera at a screen feels sluggish; a format that
/// reaches it wins over a sharper one that does not.
const MIN_SMOOTH_FPS: u32 = 15;

/// A camera the system lists, for the picker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// Its number, what `--camera N` and [`CameraSpec::Index`] take.
    ///
    /// [`CameraSpec::Index`]: crate::CameraSpec::Index
    pub index: u32,
    /// The name the camera gives itself.
    pub name: String,
}

/// A picture format a camera offers: size, rate and pixel layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraMode {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Pixel layout.
    pub format: PixelFormat,
}

/// What to ask a camera for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatChoice {
    /// Wanted columns.
    pub width: u32,
    /// Wanted rows.
    pub height: u32,
    /// Wanted frames per second.
    pub fps: u32,
}

impl Default for FormatChoice {
    /// 1280x720 at 30 fps: what phone scanners use. Enough pixels per module
    /// for a version-16 code across a third of the frame, and cheap to scan.
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// The mode to open among those `offered`, or `None` if none is usable.
///
/// In order: a smooth rate (at least 15 fps, or the wanted rate if lower)
/// over sharpness; then the smallest size that covers the wanted one (more
/// only costs scan time), or the largest if none does; then the format
/// cheapest to turn into grey (YUYV before MJPEG); then the rate nearest the
/// wanted one.
#[must_use]
pub fn choose_format(offered: &[CameraMode], want: FormatChoice) -> Option<CameraMode> {
    let smooth = MIN_SMOOTH_FPS.min(want.fps);
    offered
        .iter()
        .filter(|m| m.fps > 0 && m.width > 0 && m.height > 0)
        .min_by_key(|m| {
            let area = u64::from(m.width) * u64::from(m.height);
            let covers = m.width >= want.width && m.height >= want.height;
            (
                m.fps < smooth,
                !covers,
                if covers { area } else { u64::MAX - area },
                m.format.grey_cost(),
                m.fps.abs_diff(want.fps),
            )
        })
        .copied()
}

/// A real camera, to be opened at the best mode for decoding (see
/// [`choose_format`]) and converted to grey frame by frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCamera {
    device: DeviceInfo,
    want: FormatChoice,
}

impl DeviceCamera {
    /// The camera `device`, to be opened asking for `want`.
    #[must_use]
    pub fn new(device: DeviceInfo, want: FormatChoice) -> Self {
        Self { device, want }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CameraError;

    fn mode(width: u32, height: u32, fps: u32, format: PixelFormat) -> CameraMode {
        CameraMode {
            width,
            height,
            fps,
            format,
        }
    }

    fn choose(offered: &[CameraMode]) -> Option<CameraMode> {
        choose_format(offered, FormatChoice::default())
    }

    #[test]
    fn prefers_720p_in_the_cheapest_format() {
        let offered = [
            mode(640, 480, 30, PixelFormat::Yuyv),
            mode(1280, 720, 30, PixelFormat::Mjpeg),
            mode(1280, 720, 30, PixelFormat::Yuyv),
            mode(1920, 1080, 30, PixelFormat::Mjpeg),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(1280, 720, 30, PixelFormat::Yuyv))
        );
    }

    #[test]
    fn a_smooth_rate_beats_a_cheap_format() {
        // USB 2 webcams: YUYV at 720p only at 10 fps, MJPEG at 30.
        let offered = [
            mode(1280, 720, 10, PixelFormat::Yuyv),
            mode(1280, 720, 30, PixelFormat::Mjpeg),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(1280, 720, 30, PixelFormat::Mjpeg))
        );
        // And a smaller smooth mode beats a sharp jerky one.
        let offered = [
            mode(1280, 720, 5, PixelFormat::Yuyv),
            mode(640, 480, 30, PixelFormat::Yuyv),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(640, 480, 30, PixelFormat::Yuyv))
        );
    }

    #[test]
    fn smallest_cover_or_else_largest() {
        let offered = [
            mode(3840, 2160, 30, PixelFormat::Mjpeg),
            mode(1920, 1080, 30, PixelFormat::Mjpeg),
            mode(640, 480, 30, PixelFormat::Mjpeg),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(1920, 1080, 30, PixelFormat::Mjpeg))
        );
        let offered = [
            mode(320, 240, 30, PixelFormat::Yuyv),
            mode(800, 600, 30, PixelFormat::Yuyv),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(800, 600, 30, PixelFormat::Yuyv))
        );
    }

    #[test]
    fn the_rate_nearest_the_wanted_one() {
        let offered = [
            mode(1280, 720, 60, PixelFormat::Yuyv),
            mode(1280, 720, 24, PixelFormat::Yuyv),
            mode(1280, 720, 30, PixelFormat::Yuyv),
        ];
        assert_eq!(
            choose(&offered),
            Some(mode(1280, 720, 30, PixelFormat::Yuyv))
        );
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(choose(&[]), None);
        assert_eq!(choose(&[mode(0, 0, 30, PixelFormat::Yuyv)]), None);
        assert_eq!(choose(&[mode(1280, 720, 0, PixelFormat::Yuyv)]), None);
    }

    #[test]
    fn messages_say_what_to_do() {
        use zpair_proto::user_facing::UserFacing;
        let denied = CameraError::PermissionDenied {
            device: "cam".into(),
        };
        assert_eq!(denied.code(), zpair_proto::ErrorCode::CameraDenied);
        assert!(denied.to_string().contains("video\" group"), "{denied}");
        let busy = CameraError::Busy {
            device: "cam".into(),
        };
        assert!(busy.to_string().contains("Close the other app"), "{busy}");
        assert!(
            CameraError::NoCamera
                .to_string()
                .contains("Connect a camera"),
        );
    }
}
