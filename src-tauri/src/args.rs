//! The app's command line, read once at start.
//!
//! - `--camera SPEC` chooses the camera (a number, a name, or `file:PATH`);
//!   without it the app offers the cameras it finds.
//! - `--station URL` fills in the station's address on the setup screen
//!   (the demo passes the one its banner prints). It only suggests: the
//!   technician still compares the fingerprint or imports the CA before
//!   anything is trusted.
//!
//! Both take `--flag VALUE` or `--flag=VALUE`. Words not starting with `--`
//! are left alone (some systems pass their own to a launched app).

use zpair_camera::{CameraSpec, SpecError};
use zpair_core::client::{ClientError, check_station_url};

/// What the command line chose.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AppArgs {
    pub camera: Option<CameraSpec>,
    pub station: Option<String>,
}

/// Why the command line was refused; the app says so and exits.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("--camera: {0}")]
    Camera(#[from] SpecError),
    #[error("--station: {0}")]
    Station(#[from] ClientError),
    #[error("unknown option `{0}` (the app takes --camera SPEC and --station URL)")]
    Unknown(String),
}

impl AppArgs {
    /// Reads the arguments after the program's name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, ArgsError> {
        let mut parsed = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(option) = arg.strip_prefix("--") else {
                continue;
            };
            let (name, inline) = match option.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (option, None),
            };
            let mut value = || inline.clone().or_else(|| args.next()).unwrap_or_default();
            match name {
                "camera" => parsed.camera = Some(value().parse()?),
                "station" => parsed.station = Some(check_station_url(&value())?),
                _ => return Err(ArgsError::Unknown(arg)),
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<AppArgs, ArgsError> {
        AppArgs::parse(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn the_camera_flag_in_both_spellings() {
        assert_eq!(parse(&[]).expect("no flags"), AppArgs::default());
        assert_eq!(
            parse(&["--camera", "file:/tmp/qr.png"])
                .expect("path")
                .camera,
            Some(CameraSpec::File("/tmp/qr.png".into()))
        );
        assert_eq!(
            parse(&["--camera=1"]).expect("index").camera,
            Some(CameraSpec::Index(1))
        );
        assert!(matches!(
            parse(&["--camera"]),
            Err(ArgsError::Camera(SpecError::Empty))
        ));
    }

    #[test]
    fn the_station_is_checked_like_a_typed_one() {
        let args = parse(&["--station", "https://127.0.0.1:8443", "--camera=0"]).expect("both");
        assert_eq!(args.station.as_deref(), Some("https://127.0.0.1:8443/"));
        assert_eq!(args.camera, Some(CameraSpec::Index(0)));
        for refused in ["http://127.0.0.1:8443", "https://user:pw@station", ""] {
            assert!(
                matches!(parse(&["--station", refused]), Err(ArgsError::Station(_))),
                "{refused:?} must be refused"
            );
        }
    }

    #[test]
    fn unknown_options_are_refused_and_plain_words_left_alone() {
        assert!(matches!(
            parse(&["--stations=x"]),
            Err(ArgsError::Unknown(_))
        ));
        assert_eq!(
            parse(&["-psn_0_1234"]).expect("ignored"),
            AppArgs::default()
        );
    }
}
