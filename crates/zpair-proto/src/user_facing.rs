//! What every error a technician can see reduces to: a stable code the UI
//! and scripts switch on, and a message that says what happened and what to
//! do next. Here, below every crate that reports errors to a person (the
//! app's domain, its camera, the CLI), so none depends on another for it.

use crate::error_code::ErrorCode;

/// The `{code, message}` pair as the station answers it, as it crosses the
/// IPC boundary, and as the CLI prints it with `--json`: one type for all.
pub use crate::api::ApiError as UserFacingError;

/// An error that can be shown to a technician.
pub trait UserFacing: std::error::Error {
    /// The stable code the UI and scripts switch on.
    fn code(&self) -> ErrorCode;

    /// What happened and what to do next. Defaults to the error's `Display`.
    fn message(&self) -> String {
        self.to_string()
    }

    /// The serialisable `{code, message}` pair.
    fn user_facing(&self) -> UserFacingError {
        UserFacingError {
            code: self.code(),
            message: self.message(),
        }
    }
}
