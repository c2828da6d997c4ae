//! `--camera SPEC`: which camera to use, as a person types it.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The prefix of a virtual camera spec.
const FILE_PREFIX: &str = "file:";

/// Which camera a session uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum CameraSpec {
    /// The first camera the system lists (no `--camera` given).
    #[default]
    First,
    /// A camera by its number in the list (`--camera 1`).
    Index(u32),
    /// A camera by its name, case-insensitive; a unique part of the name is
    /// enough (`--camera "HD Pro Webcam"`).
    Name(String),
    /// The virtual camera: an image, a folder of images or a Y4M video
    /// (`--camera file:PATH`).
    File(PathBuf),
}

/// Why a `--camera` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing given.
    #[error(
        "--camera needs a value: a camera number (0, 1, …), a camera name, or file:PATH for an image, folder or .y4m video"
    )]
    Empty,
    /// `file:` with nothing after it.
    #[error("--camera file: needs a path after it, e.g. file:screen/qr.png")]
    EmptyPath,
    /// A number too large to be a camera.
    #[error("--camera {0}: no camera has that number; give the number shown in the camera list")]
    BadIndex(String),
    /// A `scheme:` prefix other than `file:`.
    #[error(
        "--camera {0}: only file:PATH is understood after a colon; for a camera give its number or name"
    )]
    UnknownScheme(String),
}

impl FromStr for CameraSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(SpecError::Empty);
        }
        if let Some(prefix) = trimmed.get(..FILE_PREFIX.len())
            && prefix.eq_ignore_ascii_case(FILE_PREFIX)
        {
            let path = &trimmed[FILE_PREFIX.len()..];
            return if path.is_empty() {
                Err(SpecError::EmptyPath)
            } else {
                Ok(Self::File(PathBuf::from(path)))
            };
        }
        if trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return trimmed
                .parse()
                .map(Self::Index)
                .map_err(|_| SpecError::BadIndex(trimmed.to_owned()));
        }
        if looks_like_scheme(trimmed) {
            return Err(SpecError::UnknownScheme(trimmed.to_owned()));
        }
        Ok(Self::Name(trimmed.to_owned()))
    }
}

/// `rtsp://…` or `video:0` are mistakes; camera names do have colons (V4L2
/// names read "Integrated Camera: Integrated C"), but after a space.
fn looks_like_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme.bytes().all(|b| b.is_ascii_alphabetic())
            && !rest.starts_with(' ')
    })
}

impl fmt::Display for CameraSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::First => f.write_str("the first camera"),
            Self::Index(i) => write!(f, "{i}"),
            Self::Name(name) => f.write_str(name),
            Self::File(path) => write!(f, "{FILE_PREFIX}{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<CameraSpec, SpecError> {
        s.parse()
    }

    #[test]
    fn files_indices_and_names() {
        assert_eq!(
            parse("file:screen/qr.png"),
            Ok(CameraSpec::File("screen/qr.png".into()))
        );
        assert_eq!(
            parse(" FILE:/tmp/a b.y4m "),
            Ok(CameraSpec::File("/tmp/a b.y4m".into()))
        );
        assert_eq!(parse("0"), Ok(CameraSpec::Index(0)));
        assert_eq!(parse("12"), Ok(CameraSpec::Index(12)));
        assert_eq!(
            parse("HD Pro Webcam C920"),
            Ok(CameraSpec::Name("HD Pro Webcam C920".into()))
        );
        assert_eq!(
            parse("Integrated Camera: Integrated C"),
            Ok(CameraSpec::Name("Integrated Camera: Integrated C".into()))
        );
    }

    #[test]
    fn mistakes_are_typed_errors() {
        assert_eq!(parse(""), Err(SpecError::Empty));
        assert_eq!(parse("   "), Err(SpecError::Empty));
        assert_eq!(parse("file:"), Err(SpecError::EmptyPath));
        assert_eq!(
            parse("99999999999"),
            Err(SpecError::BadIndex("99999999999".into()))
        );
        assert_eq!(
            parse("rtsp://10.0.0.1/cam"),
            Err(SpecError::UnknownScheme("rtsp://10.0.0.1/cam".into()))
        );
        assert_eq!(
            parse("video:0"),
            Err(SpecError::UnknownScheme("video:0".into()))
        );
    }

    #[test]
    fn display_round_trips() {
        for s in ["file:/tmp/qr.png", "3", "USB Camera"] {
            assert_eq!(parse(s).expect("parse").to_string(), s);
        }
    }
}
