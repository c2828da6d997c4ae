//! What every error a technician can see reduces to: a stable code the UI
//! and scripts switch on, and a message that says what happened and what to
//! do next. Here, below every crate that reports errors to a person (the
//! app's domain, its camera, the CLI), so none depends on another for it.

use serde::{Deserialize, Serialize};

/// An error that can be shown to a technician.
pub trait UserFacing: std::error::Error {
    /// The stable identifier (snake_case) the UI and scripts switch on.
    fn code(&self) -> &str;

    /// What happened and what to do next. Defaults to the error's `Display`.
    fn message(&self) -> String {
        self.to_string()
    }

    /// The serialisable `{code, message}` pair.
    fn user_facing(&self) -> UserFacingError {
        UserFacingError {
            code: self.code().to_owned(),
            message: self.message(),
        }
    }
}

/// The `{code, message}` pair as it crosses the IPC boundary or is printed
/// by the CLI with `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFacingError {
    /// Stable identifier.
    pub code: String,
    /// What happened and what to do next.
    pub message: String,
}

impl std::fmt::Display for UserFacingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
