//! What an administrator does, the one path the app and the CLI share:
//! accounts ([`accounts`]), the registry and its bulk import
//! ([`registry`]), and the audit log, pairing reports and certificates with
//! their exported files ([`exports`]).
//!
//! The station enforces every rule that matters (the role, the last
//! administrator, a password's length); what is checked here first is only
//! what a person typed (a device ID, a reason, a typed confirmation, a new
//! password), so a mistake is told before anything is sent.

pub mod accounts;
pub mod exports;
pub mod registry;

use std::path::PathBuf;

use crate::error::{ErrorCode, UserFacing};
use crate::import_file::ImportFileError;
use crate::qr::QrError;
use crate::session::SessionError;

/// Why an administrator's action was not done.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The station refused or could not be reached, or the session ended.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The import file could not be read at all.
    #[error(transparent)]
    ImportFile(#[from] ImportFileError),
    /// Not one line of the import file is a record to send.
    #[error(
        "No line of the import file could be read as a monitor, so nothing was imported. Fix the lines listed, then import again."
    )]
    NothingToImport,
    /// The device ID is not one a monitor could have.
    #[error("{0}")]
    DeviceId(QrError),
    /// The reason is empty, too long or has control characters.
    #[error("{0}")]
    Reason(zpair_proto::api::ReasonError),
    /// The device ID typed to confirm is not the monitor's.
    #[error(
        "The device ID you typed does not match {device_id}. Type the monitor's device ID exactly as shown to confirm."
    )]
    ConfirmationMismatch {
        /// The monitor concerned.
        device_id: String,
    },
    /// The new password is too short.
    #[error(
        "The new password must have at least {MIN_PASSWORD_CHARS} characters. Choose a longer one (a few words together are easy to remember)."
    )]
    PasswordTooShort,
    /// The new password is the current one.
    #[error("The new password must differ from the current one. Choose another.")]
    PasswordUnchanged,
    /// A time bound that is not a time.
    #[error(
        "'{text}' is not a time. Give a date (2026-01-05), a date and time in UTC (2026-01-05 14:00), or an RFC 3339 time (2026-01-05T14:00:00+01:00)."
    )]
    InvalidTime {
        /// What was given.
        text: String,
    },
    /// An exported file could not be written.
    #[error(
        "{} could not be written ({reason}). Check the folder exists, is writable and the disk has space, then export again.",
        path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
}

/// The shortest password the station accepts (its rule, told here first).
pub const MIN_PASSWORD_CHARS: usize = 12;

impl From<crate::client::ClientError> for AdminError {
    fn from(e: crate::client::ClientError) -> Self {
        AdminError::Session(SessionError::Client(e))
    }
}

impl UserFacing for AdminError {
    fn code(&self) -> ErrorCode {
        match self {
            AdminError::Session(e) => e.code(),
            AdminError::ImportFile(e) => e.code(),
            AdminError::NothingToImport
            | AdminError::PasswordTooShort
            | AdminError::PasswordUnchanged
            | AdminError::InvalidTime { .. } => ErrorCode::InvalidInput,
            AdminError::DeviceId(_) => ErrorCode::InvalidDeviceId,
            AdminError::Reason(_) => ErrorCode::InvalidReason,
            AdminError::ConfirmationMismatch { .. } => ErrorCode::ConfirmationMismatch,
            AdminError::Write { .. } => ErrorCode::ExportFailed,
        }
    }
}
