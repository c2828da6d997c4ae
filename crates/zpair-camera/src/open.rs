//! From a [`CameraSpec`] to the source that plays it.

use std::sync::Arc;

use crate::clock::Clock;
use crate::device::{DeviceCamera, DeviceInfo, FormatChoice, list_devices};
use crate::error::CameraError;
use crate::source::FrameSource;
use crate::spec::CameraSpec;
use crate::virtual_camera::{VirtualCamera, VirtualConfig};

/// How to open whichever source a spec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceConfig {
    /// What to ask a real camera for.
    pub camera: FormatChoice,
    /// How to play a file.
    pub file: VirtualConfig,
}

/// The source `spec` names, not yet opened: a file as a [`VirtualCamera`]
/// paced on `clock`, a camera as a [`DeviceCamera`] looked up among those
/// connected now. Hand it to [`CaptureSession::start`].
///
/// [`CaptureSession::start`]: crate::CaptureSession::start
///
/// # Errors
/// [`CameraError::NoCamera`] when no camera is connected,
/// [`CameraError::DeviceNotFound`] or [`CameraError::AmbiguousName`] when the
/// spec does not name exactly one, and listing errors.
pub fn source_for(
    spec: &CameraSpec,
    config: SourceConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn FrameSource>, CameraError> {
    if let CameraSpec::File(path) = spec {
        return Ok(Box::new(VirtualCamera::new(
            path.clone(),
            config.file,
            clock,
        )));
    }
    let device = resolve(spec, &list_devices()?)?;
    Ok(Box::new(DeviceCamera::new(device, config.camera)))
}

/// The one camera among `devices` that `spec` names.
fn resolve(spec: &CameraSpec, devices: &[DeviceInfo]) -> Result<DeviceInfo, CameraError> {
    if devices.is_empty() {
        return Err(CameraError::NoCamera);
    }
    let not_found = || CameraError::DeviceNotFound {
        wanted: spec.to_string(),
        available: devices
            .iter()
            .map(|d| format!("{} \"{}\"", d.index, d.name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let found: Vec<&DeviceInfo> = match spec {
        CameraSpec::First | CameraSpec::File(_) => devices.iter().take(1).collect(),
        CameraSpec::Index(i) => devices.iter().filter(|d| d.index == *i).collect(),
        CameraSpec::Name(name) => {
            let exact: Vec<&DeviceInfo> = devices
                .iter()
                .filter(|d| d.name.eq_ignore_ascii_case(name))
                .collect();
            if exact.is_empty() {
                let wanted = name.to_lowercase();
                devices
                    .iter()
                    .filter(|d| d.name.to_lowercase().contains(&wanted))
                    .collect()
            } else {
                exact
            }
        }
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(not_found()),
        several => Err(CameraError::AmbiguousName {
            name: spec.to_string(),
            indices: several
                .iter()
                .map(|d| d.index.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::clock::SystemClock;

    fn devices() -> Vec<DeviceInfo> {
        [
            (0, "Integrated Camera: Integrated C"),
            (2, "HD Pro Webcam C920"),
            (4, "HD Pro Webcam C920"),
        ]
        .into_iter()
        .map(|(index, name)| DeviceInfo {
            index,
            name: name.to_owned(),
        })
        .collect()
    }

    fn pick(spec: &str) -> Result<u32, CameraError> {
        resolve(&spec.parse().expect("spec"), &devices()).map(|d| d.index)
    }

    #[test]
    fn finds_cameras_by_number_or_name() {
        assert_eq!(
            resolve(&CameraSpec::First, &devices())
                .map(|d| d.index)
                .ok(),
            Some(0)
        );
        assert_eq!(pick("2").ok(), Some(2));
        assert_eq!(pick("integrated").ok(), Some(0));
        assert_eq!(pick("Integrated Camera: Integrated C").ok(), Some(0));
    }

    #[test]
    fn unknown_and_ambiguous_cameras_say_which_there_are() {
        let error = pick("1").expect_err("no camera 1");
        assert!(matches!(error, CameraError::DeviceNotFound { .. }));
        assert!(
            error.to_string().contains("2 \"HD Pro Webcam C920\""),
            "{error}"
        );
        let error = pick("c920").expect_err("two of them");
        assert!(
            matches!(&error, CameraError::AmbiguousName { indices, .. } if indices == "2, 4"),
            "{error}"
        );
        assert!(matches!(
            resolve(&CameraSpec::First, &[]),
            Err(CameraError::NoCamera)
        ));
    }

    #[test]
    fn a_machine_without_cameras_says_no_camera() {
        // CI machines have no /dev/video*; there the answer must be the
        // "connect a camera" state, not a crash or a vague failure.
        if Path::new("/dev/video0").exists() {
            return;
        }
        let error = source_for(
            &CameraSpec::First,
            SourceConfig::default(),
            Arc::new(SystemClock::new()),
        )
        .err()
        .expect("no camera here");
        assert!(matches!(error, CameraError::NoCamera), "{error}");
    }

    #[test]
    fn files_need_no_camera() {
        let source = source_for(
            &"file:/nonexistent/qr.png".parse().expect("spec"),
            SourceConfig::default(),
            Arc::new(SystemClock::new()),
        );
        assert!(source.is_ok());
    }
}
