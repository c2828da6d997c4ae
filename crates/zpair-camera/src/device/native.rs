//! Real cameras through nokhwa (V4L2 on Linux, AVFoundation on macOS,
//! Media Foundation on Windows): the desktops. Kept thin on purpose: what
//! can be tested without a camera — the format choice, the grey conversion
//! and the error mapping — is plain functions over plain types; the nokhwa
//! calls only list, open, read and close.

use std::panic::{self, AssertUnwindSafe};

use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::{Camera, NokhwaError};

use super::{CameraMode, DeviceCamera, DeviceInfo, choose_format};
use crate::clock::StopSignal;
use crate::error::CameraError;
use crate::grey::{self, ConvertError, PixelFormat};
use crate::source::{FrameRate, FrameSource, FrameStream, GreyBuffer, Next, StreamInfo};

/// The cameras connected now, in the system's order. An empty list is no
/// error: the Scan screen shows "no camera" with what to do.
///
/// # Errors
/// [`CameraError::PermissionDenied`] and the like when the system refuses
/// to list cameras.
pub fn list_devices() -> Result<Vec<DeviceInfo>, CameraError> {
    // The backends unwrap and assert in places (a driver name that is not
    // UTF-8); the picker must get an error, not a panic on its thread.
    let listed = panic::catch_unwind(|| nokhwa::query(ApiBackend::Auto)).map_err(|_| {
        CameraError::Backend {
            device: "list".to_owned(),
            detail: "the camera system failed while listing cameras".to_owned(),
        }
    })?;
    let infos = listed.map_err(|e| map_error(&e, "list"))?;
    Ok(infos
        .into_iter()
        .zip(0u32..)
        .map(|(info, position)| DeviceInfo {
            index: match info.index() {
                CameraIndex::Index(i) => *i,
                CameraIndex::String(_) => position,
            },
            name: info.human_name(),
        })
        .filter(|device| captures_video(device.index))
        .collect())
}

/// Whether a V4L2 node delivers video: a UVC webcam also has a metadata
/// node, which nokhwa lists as a camera of its own that cannot be opened.
/// A node that cannot be asked (access denied) stays listed, so choosing
/// it says what is wrong.
#[cfg(target_os = "linux")]
fn captures_video(index: u32) -> bool {
    use v4l::capability::Flags;
    let Ok(index) = usize::try_from(index) else {
        return true;
    };
    panic::catch_unwind(|| {
        v4l::Device::new(index)
            .and_then(|device| device.query_caps())
            .map_or(true, |caps| {
                caps.capabilities.contains(Flags::VIDEO_CAPTURE)
            })
    })
    .unwrap_or(true)
}

/// Other systems list only cameras.
#[cfg(not(target_os = "linux"))]
fn captures_video(_index: u32) -> bool {
    true
}

fn pixel_format(format: FrameFormat) -> PixelFormat {
    match format {
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::GRAY => PixelFormat::Grey,
        FrameFormat::RAWRGB => PixelFormat::Rgb,
        FrameFormat::RAWBGR => PixelFormat::Bgr,
    }
}

fn frame_format(format: PixelFormat) -> FrameFormat {
    match format {
        PixelFormat::Mjpeg => FrameFormat::MJPEG,
        PixelFormat::Yuyv => FrameFormat::YUYV,
        PixelFormat::Nv12 => FrameFormat::NV12,
        PixelFormat::Grey => FrameFormat::GRAY,
        PixelFormat::Rgb => FrameFormat::RAWRGB,
        PixelFormat::Bgr => FrameFormat::RAWBGR,
    }
}

fn mode_of(format: &CameraFormat) -> CameraMode {
    CameraMode {
        width: format.width(),
        height: format.height(),
        fps: format.frame_rate(),
        format: pixel_format(format.format()),
    }
}

/// How a camera failure reads, from the OS error nokhwa wraps in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Denied,
    Busy,
    Gone,
    Other,
}

fn classify(text: &str) -> Failure {
    let text = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "os error 13",
        "os error 1)",
        "permission denied",
        "not authorized",
    ]) {
        Failure::Denied
    } else if has(&["os error 16", "resource busy", "in use"]) {
        Failure::Busy
    } else if has(&[
        "os error 19",
        "os error 2)",
        "os error 5)",
        "no such device",
        "no such file",
        "input/output error",
    ]) {
        Failure::Gone
    } else {
        Failure::Other
    }
}

/// Maps a nokhwa error on `device` to what the technician should do. Nokhwa
/// keeps the OS error only as text, so the mapping reads the errno in it
/// (EACCES, EBUSY, ENODEV/ENOENT/EIO from V4L2).
#[must_use]
fn map_error(error: &NokhwaError, device: &str) -> CameraError {
    let detail = error.to_string();
    let device = device.to_owned();
    match classify(&detail) {
        Failure::Denied => CameraError::PermissionDenied { device },
        Failure::Busy => CameraError::Busy { device },
        Failure::Gone => CameraError::Disconnected { device },
        Failure::Other => CameraError::Backend { device, detail },
    }
}

impl FrameSource for DeviceCamera {
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError> {
        let label = format!("\"{}\" ({})", self.device.name, self.device.index);
        let nokhwa_error = |e: NokhwaError| map_error(&e, &label);
        // Any format first, to read what the camera offers; then the best.
        let mut camera = Camera::new(
            CameraIndex::Index(self.device.index),
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::None),
        )
        .map_err(nokhwa_error)?;
        let offered: Vec<CameraMode> = camera
            .compatible_camera_formats()
            .map_err(nokhwa_error)?
            .iter()
            .map(mode_of)
            .collect();
        let chosen =
            choose_format(&offered, self.want).ok_or_else(|| CameraError::NoUsableFormat {
                device: label.clone(),
                offered: describe(&offered),
            })?;
        let fourcc = [frame_format(chosen.format)];
        let exact = CameraFormat::new(
            Resolution::new(chosen.width, chosen.height),
            fourcc[0],
            chosen.fps,
        );
        let set = camera
            .set_camera_requset(RequestedFormat::with_formats(
                RequestedFormatType::Exact(exact),
                &fourcc,
            ))
            .map_err(nokhwa_error)?;
        camera.open_stream().map_err(nokhwa_error)?;
        let mode = mode_of(&set);
        let info = StreamInfo {
            name: self.device.name.clone(),
            width: mode.width,
            height: mode.height,
            rate: FrameRate::per_second(mode.fps).unwrap_or_default(),
        };
        Ok((
            info,
            Box::new(DeviceStream {
                camera,
                mode,
                label,
                bad: BadFrames::default(),
            }),
        ))
    }
}

/// Undecodable frames in a row tolerated before the camera counts as
/// failed: USB webcams now and then send a corrupt MJPEG frame, which a
/// camera app skips; a second of nothing but corrupt frames is a fault.
const MAX_BAD_FRAMES: u32 = 30;

/// Counts undecodable frames in a row.
#[derive(Debug, Default)]
struct BadFrames(u32);

impl BadFrames {
    /// `Ok(true)` for a good frame, `Ok(false)` for a bad one to skip, the
    /// error once too many came in a row.
    fn check(&mut self, converted: Result<(), ConvertError>) -> Result<bool, CameraError> {
        match converted {
            Ok(()) => {
                self.0 = 0;
                Ok(true)
            }
            Err(e) => {
                self.0 += 1;
                if self.0 >= MAX_BAD_FRAMES {
                    Err(e.into())
                } else {
                    tracing::debug!(error = %e, "skipping a corrupt camera frame");
                    Ok(false)
                }
            }
        }
    }
}

/// An open camera; lives on the capture thread.
struct DeviceStream {
    camera: Camera,
    mode: CameraMode,
    label: String,
    bad: BadFrames,
}

impl FrameStream for DeviceStream {
    fn next_frame(
        &mut self,
        frame: &mut GreyBuffer,
        stop: &StopSignal,
    ) -> Result<Next, CameraError> {
        let mode = self.mode;
        loop {
            if stop.is_raised() {
                return Ok(Next::Stopped);
            }
            // Blocks until the camera delivers, at most a frame interval.
            let raw = self
                .camera
                .frame_raw()
                .map_err(|e| map_error(&e, &self.label))?;
            let converted = grey::to_grey(mode.format, &raw, mode.width, mode.height, frame);
            if self.bad.check(converted)? {
                return Ok(Next::Frame);
            }
        }
    }

    fn close(self: Box<Self>) {
        let Self {
            mut camera, label, ..
        } = *self;
        if let Err(e) = camera.stop_stream() {
            tracing::warn!(device = %label, error = %e, "stopping the camera stream failed");
        }
        // nokhwa's Drop unwraps a second stop_stream; a backend that fails
        // there must not take the capture thread down with it.
        if panic::catch_unwind(AssertUnwindSafe(move || drop(camera))).is_err() {
            tracing::warn!(device = %label, "the camera backend panicked while closing");
        }
    }
}

fn describe(modes: &[CameraMode]) -> String {
    if modes.is_empty() {
        return "nothing".to_owned();
    }
    modes
        .iter()
        .map(|m| format!("{:?} {}x{}@{}", m.format, m.width, m.height, m.fps))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nokhwa_errors_map_to_what_to_do() {
        let denied = NokhwaError::OpenDeviceError(
            "0".into(),
            "V4L2 Error: Permission denied (os error 13)".into(),
        );
        assert!(matches!(
            map_error(&denied, "cam"),
            CameraError::PermissionDenied { device } if device == "cam"
        ));
        let busy = NokhwaError::OpenStreamError("Device or resource busy (os error 16)".into());
        assert!(matches!(map_error(&busy, "cam"), CameraError::Busy { .. }));
        let gone = NokhwaError::ReadFrameError("No such device (os error 19)".into());
        assert!(matches!(
            map_error(&gone, "cam"),
            CameraError::Disconnected { .. }
        ));
        let other = NokhwaError::GetPropertyError {
            property: "FrameFormat".into(),
            error: "unsupported".into(),
        };
        let mapped = map_error(&other, "cam");
        assert!(matches!(mapped, CameraError::Backend { .. }));
        assert!(mapped.to_string().contains("unsupported"), "{mapped}");
    }

    #[test]
    fn a_corrupt_frame_now_and_then_is_skipped_a_stream_of_them_fails() {
        let corrupt = || Err(ConvertError::Jpeg("bad Huffman code".into()));
        let mut bad = BadFrames::default();
        for _ in 0..3 {
            for _ in 1..MAX_BAD_FRAMES {
                assert!(matches!(bad.check(corrupt()), Ok(false)));
            }
            assert!(matches!(bad.check(Ok(())), Ok(true)));
        }
        for _ in 1..MAX_BAD_FRAMES {
            assert!(matches!(bad.check(corrupt()), Ok(false)));
        }
        assert!(matches!(
            bad.check(corrupt()),
            Err(CameraError::BadFrame { .. })
        ));
    }

    #[test]
    fn nokhwa_formats_round_trip() {
        for format in [
            PixelFormat::Grey,
            PixelFormat::Yuyv,
            PixelFormat::Nv12,
            PixelFormat::Mjpeg,
            PixelFormat::Rgb,
            PixelFormat::Bgr,
        ] {
            assert_eq!(pixel_format(frame_format(format)), format);
        }
    }

    #[test]
    fn a_machine_without_cameras_lists_none() {
        // CI has no /dev/video*: the list is empty, not an error, so the
        // Scan screen can show "no camera" with what to do. A developer's
        // machine with a webcam lists it, named.
        let devices = list_devices().expect("listing needs no camera");
        if std::path::Path::new("/dev/video0").exists() {
            assert!(devices.iter().all(|d| !d.name.is_empty()), "{devices:?}");
        } else {
            assert_eq!(devices, []);
        }
    }
}
