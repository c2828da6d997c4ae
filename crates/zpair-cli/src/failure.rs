//! Why a command stopped, as `{code, message}`, and the exit code it maps to.

use std::process::ExitCode;

use zpair_core::error::{ErrorCode, UserFacing, UserFacingError};
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
    pub fn new(code: ErrorCode, message: impl Into<String>, exit: Exit) -> Self {
        Self {
            error: UserFacingError {
                code,
                message: message.into(),
            },
            next_action: None,
            exit,
        }
    }

    /// Bad input, exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message, Exit::Usage)
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
pub fn exit_for(code: ErrorCode) -> Exit {
    use ErrorCode::*;
    match code {
        // Set up trust again, or sign in.
        StationUntrusted
        | SessionExpired
        | NotSignedIn
        | IdleSignOut
        | Unauthorized
        | InvalidCredentials
        | AccountLocked
        | AccountDisabled
        | PasswordChangeRequired
        | ForbiddenRole
        | ConfirmationRequired
        | SecretStoreUnavailable
        | SecretStoreFailed
        | InvalidTrustAnchor
        | StationNotSetUp => Exit::TrustOrSession,
        // Fix the command, the file or what was typed.
        InvalidCode | InvalidDeviceId | InvalidReason | InvalidStationUrl | InvalidInput
        | ConfirmationMismatch | NotConfirmed | NoQrInImage | ImageUnreadable | QrTooLarge
        | QrNotJson | QrNotZmonitor | QrInvalidField | QrExpired | QrAlreadySent => Exit::Usage,
        // The station or the monitor refused or failed.
        _ => Exit::Failed,
    }
}

impl<E: UserFacing> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.user_facing();
        let exit = exit_for(error.code);
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
        assert_eq!(exit_for(ErrorCode::StationUntrusted), Exit::TrustOrSession);
        assert_eq!(exit_for(ErrorCode::SessionExpired), Exit::TrustOrSession);
        assert_eq!(exit_for(ErrorCode::StationNotSetUp), Exit::TrustOrSession);
        assert_eq!(exit_for(ErrorCode::QrExpired), Exit::Usage);
        assert_eq!(exit_for(ErrorCode::InvalidCode), Exit::Usage);
        assert_eq!(exit_for(ErrorCode::UnknownDevice), Exit::Failed);
        assert_eq!(exit_for(ErrorCode::StationUnreachable), Exit::Failed);
        assert_eq!(exit_for(ErrorCode::CodeMismatch), Exit::Failed);
        // The pairing gate: the station refused; its message says what to do.
        assert_eq!(exit_for(ErrorCode::ReprovisionRequired), Exit::Failed);
        assert_eq!(exit_for(ErrorCode::DeviceDeprovisioned), Exit::Failed);
        assert_eq!(Failure::input("x").exit_code(), ExitCode::from(2));
    }
}
