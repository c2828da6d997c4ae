//! Why a command stopped, as `{code, message}`, and the exit code it maps to.

use std::process::ExitCode;

use zpair_core::error::{UserFacing, UserFacingError, codes};
use zpair_core::pairing::NextAction;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The station or the monitor refused or failed.
    Failed = 1,
    /// Bad usage or input: fix the command or the file.
    Usage = 2,
    /// Trust or session: set up trust again, or sign in.
    TrustOrSession = 3,
}

/// Codes that mean "set up trust or sign in", whichever module reported them.
const TRUST_OR_SESSION: [&str; 12] = [
    codes::STATION_UNTRUSTED,
    codes::SESSION_EXPIRED,
    codes::NOT_SIGNED_IN,
    codes::UNAUTHORIZED,
    codes::INVALID_CREDENTIALS,
    codes::ACCOUNT_LOCKED,
    codes::FORBIDDEN_ROLE,
    codes::CONFIRMATION_REQUIRED,
    codes::SECRET_STORE_UNAVAILABLE,
    codes::SECRET_STORE_FAILED,
    codes::INVALID_TRUST_ANCHOR,
    NOT_SET_UP,
];

/// Codes that mean the input was wrong.
const USAGE: [&str; 8] = [
    codes::INVALID_CODE,
    codes::INVALID_DEVICE_ID,
    codes::INVALID_REASON,
    codes::INVALID_STATION_URL,
    INVALID_INPUT,
    codes::CONFIRMATION_MISMATCH,
    NOT_CONFIRMED,
    QR_NOT_FOUND,
];

/// The CLI has no station configured yet.
pub const NOT_SET_UP: &str = "not_set_up";
/// A file or answer the CLI could not use.
pub const INVALID_INPUT: &str = "invalid_input";
/// The technician did not confirm.
pub const NOT_CONFIRMED: &str = "not_confirmed";
/// No QR code in the image.
pub const QR_NOT_FOUND: &str = "qr_not_found";

/// A command's failure.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the technician sees.
    pub error: UserFacingError,
    /// What to do next, when known.
    pub next_action: Option<NextAction>,
    exit: Exit,
}

impl Failure {
    /// A failure with an explicit exit code.
    pub fn new(code: &str, message: impl Into<String>, exit: Exit) -> Self {
        Self {
            error: UserFacingError {
                code: code.to_owned(),
                message: message.into(),
            },
            next_action: None,
            exit,
        }
    }

    /// Bad input, exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(INVALID_INPUT, message, Exit::Usage)
    }

    /// The same, with a next action.
    pub fn with_next_action(mut self, next: Option<NextAction>) -> Self {
        self.next_action = next;
        self
    }

    /// Which exit code applies.
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// For `main`.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

/// The exit code an error code maps to.
pub fn exit_for(code: &str) -> Exit {
    if TRUST_OR_SESSION.contains(&code) {
        Exit::TrustOrSession
    } else if USAGE.contains(&code) || code.starts_with("qr_") {
        Exit::Usage
    } else {
        Exit::Failed
    }
}

impl<E: UserFacing> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.user_facing();
        let exit = exit_for(&error.code);
        Self {
            error,
            next_action: None,
            exit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_exit_codes() {
        assert_eq!(exit_for("station_untrusted"), Exit::TrustOrSession);
        assert_eq!(exit_for("session_expired"), Exit::TrustOrSession);
        assert_eq!(exit_for("not_set_up"), Exit::TrustOrSession);
        assert_eq!(exit_for("qr_expired"), Exit::Usage);
        assert_eq!(exit_for("invalid_code"), Exit::Usage);
        assert_eq!(exit_for("unknown_device"), Exit::Failed);
        assert_eq!(exit_for("station_unreachable"), Exit::Failed);
        assert_eq!(exit_for("code_mismatch"), Exit::Failed);
        // The pairing gate: the station refused; its message says what to do.
        assert_eq!(exit_for(codes::REPROVISION_REQUIRED), Exit::Failed);
        assert_eq!(exit_for(codes::DEVICE_DEPROVISIONED), Exit::Failed);
        assert_eq!(Failure::input("x").exit_code(), ExitCode::from(2));
    }
}
