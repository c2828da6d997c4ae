//! The app's own camera (zpair-camera: nokhwa devices, or the virtual camera
//! `--camera file:PATH`) on a capture thread of its own. Detections go
//! through the same [`crate::scan::Sightings`] as the web view's frames;
//! previews reach the Scan screen as JPEG on the app's `preview:` URI scheme
//! ([`preview`]), announced with everything else as JSON events on a Tauri
//! channel.
//!
//! One session at a time: opening the Scan screen starts it, leaving the
//! screen (or closing the app) stops it, and stopping joins its threads and
//! closes the camera before returning.

mod preview;
mod session;

pub use preview::{PREVIEW_SCHEME, PreviewShelf, not_found};
pub use session::{CameraDesk, CameraDeskError};

use zpair_camera::{CameraSpec, SpecError};

/// The app's command line: `--camera SPEC` chooses the camera (a number, a
/// name, or `file:PATH`); without it the app offers the cameras it finds.
pub fn spec_from_args(
    args: impl IntoIterator<Item = String>,
) -> Result<Option<CameraSpec>, SpecError> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--camera=") {
            return value.parse().map(Some);
        }
        if arg == "--camera" {
            return args.next().unwrap_or_default().parse().map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_camera_flag_in_both_spellings() {
        assert_eq!(spec_from_args(args(&["zpair-app"])), Ok(None));
        assert_eq!(
            spec_from_args(args(&["zpair-app", "--camera", "file:/tmp/qr.png"])),
            Ok(Some(CameraSpec::File("/tmp/qr.png".into())))
        );
        assert_eq!(
            spec_from_args(args(&["zpair-app", "--camera=1"])),
            Ok(Some(CameraSpec::Index(1)))
        );
        assert_eq!(
            spec_from_args(args(&["zpair-app", "--camera"])),
            Err(SpecError::Empty)
        );
    }
}
