//! What can go wrong with a camera or a virtual camera, each in words a
//! technician on a ward can act on.

use std::path::PathBuf;
use zpair_proto::ErrorCode;

use zpair_proto::user_facing::UserFacing;

use crate::grey::ConvertError;
use crate::source::FrameRateError;
use crate::virtual_camera::{MjpegError, Y4mError};

/// Why a camera could not be opened or stopped delivering frames.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// No camera is connected (or none the system lists).
    #[error(
        "No camera was found. Connect a camera, or type the pairing code shown under the monitor's QR code (or scan an image file with --camera file:PATH)."
    )]
    NoCamera,
    /// The camera asked for is not among those connected.
    #[error(
        "The camera \"{wanted}\" is not connected (connected: {available}). Choose one of those."
    )]
    DeviceNotFound {
        /// What was asked for.
        wanted: String,
        /// The cameras that are connected, for the message.
        available: String,
    },
    /// Several cameras have the name asked for.
    #[error("Several cameras are called \"{name}\" (numbers {indices}). Choose one by its number.")]
    AmbiguousName {
        /// The name asked for.
        name: String,
        /// Their indices.
        indices: String,
    },
    /// The system refused access to the camera.
    #[error(
        "ZPair is not allowed to use the camera {device}. Allow camera access for ZPair in the system's privacy settings (on Linux, ask IT to add your account to the \"video\" group, then sign out and in again), then open the Scan screen again."
    )]
    PermissionDenied {
        /// The camera.
        device: String,
    },
    /// Another program holds the camera.
    #[error(
        "The camera {device} is in use by another app. Close the other app using the camera, then open the Scan screen again."
    )]
    Busy {
        /// The camera.
        device: String,
    },
    /// The camera went away (unplugged, or its driver stopped answering).
    #[error(
        "The camera {device} was unplugged or stopped responding. Reconnect it, then open the Scan screen again."
    )]
    Disconnected {
        /// The camera.
        device: String,
    },
    /// The camera offers no picture format ZPair can turn into grey.
    #[error(
        "The camera {device} offers no picture format ZPair can read (it offers {offered}). Choose another camera."
    )]
    NoUsableFormat {
        /// The camera.
        device: String,
        /// What it offers, for the message and the log.
        offered: String,
    },
    /// Any other camera failure, with the system's words for it.
    #[error(
        "The camera {device} failed ({detail}). Unplug it and plug it in again, or choose another camera."
    )]
    Backend {
        /// The camera.
        device: String,
        /// What the camera system said.
        detail: String,
    },
    /// A frame that does not convert to grey or that the scanner refuses.
    #[error(
        "The camera sent a broken picture ({detail}). Open the Scan screen again; if it happens again, choose another camera."
    )]
    BadFrame {
        /// What was wrong with it.
        detail: String,
    },
    /// `file:PATH` names nothing.
    #[error("There is no file or folder {}. Check the path given to --camera file:.", .path.display())]
    FileNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file or folder exists but cannot be read.
    #[error("Cannot read {}: {source}. Check the file's permissions.", .path.display())]
    FileRead {
        /// The path.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// An image file that does not decode.
    #[error(
        "{} is not an image ZPair can read ({detail}). Use a PNG, JPEG or WebP image.", .path.display()
    )]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's reason.
        detail: String,
    },
    /// A file of a kind the virtual camera does not play.
    #[error(
        "ZPair cannot play {} as a camera. Use a PNG, JPEG or WebP image, a folder of them, or a .y4m or .mjpeg video.", .path.display()
    )]
    UnsupportedFile {
        /// The file.
        path: PathBuf,
    },
    /// A folder without images.
    #[error("The folder {} holds no PNG, JPEG or WebP images. Add some or choose another folder.", .path.display())]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A folder whose images would not fit the memory set aside for them.
    #[error(
        "The folder {} holds more than {limit_mib} MiB of pictures. Use fewer images, or a .y4m video.", .path.display()
    )]
    FolderTooLarge {
        /// The folder.
        path: PathBuf,
        /// The limit.
        limit_mib: u64,
    },
    /// The image being shown was removed and did not come back.
    #[error("{} was removed while scanning. Put it back, then open the Scan screen again.", .path.display())]
    FileGone {
        /// The file.
        path: PathBuf,
    },
    /// A Y4M video that cannot be played.
    #[error("The video {} cannot be played: {source}.", .path.display())]
    Video {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Y4mError,
    },
    /// An MJPEG video that cannot be played.
    #[error("The video {} cannot be played: {source}.", .path.display())]
    Mjpeg {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: MjpegError,
    },
    /// A frame rate out of range in the settings.
    #[error("{0}")]
    Rate(#[from] FrameRateError),
    /// The OS refused a thread.
    #[error("Could not start the camera: {0}. Close other apps and try again.")]
    Thread(#[source] std::io::Error),
}

impl From<ConvertError> for CameraError {
    fn from(e: ConvertError) -> Self {
        Self::BadFrame {
            detail: e.to_string(),
        }
    }
}

impl UserFacing for CameraError {
    /// The states the Scan screen shows differently: no camera, access
    /// denied, camera busy or gone; anything else is a camera or file
    /// failure with its message.
    fn code(&self) -> ErrorCode {
        match self {
            Self::NoCamera => ErrorCode::CameraNone,
            Self::DeviceNotFound { .. } | Self::AmbiguousName { .. } => ErrorCode::CameraNotFound,
            Self::PermissionDenied { .. } => ErrorCode::CameraDenied,
            Self::Busy { .. } => ErrorCode::CameraBusy,
            Self::Disconnected { .. } => ErrorCode::CameraDisconnected,
            Self::NoUsableFormat { .. }
            | Self::Backend { .. }
            | Self::BadFrame { .. }
            | Self::Thread(_) => ErrorCode::CameraFailed,
            Self::FileNotFound { .. }
            | Self::FileRead { .. }
            | Self::Decode { .. }
            | Self::UnsupportedFile { .. }
            | Self::EmptyFolder { .. }
            | Self::FolderTooLarge { .. }
            | Self::FileGone { .. }
            | Self::Video { .. }
            | Self::Mjpeg { .. }
            | Self::Rate(_) => ErrorCode::CameraFile,
        }
    }
}
