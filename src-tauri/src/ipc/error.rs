use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::error::ErrorCode;
use zpair_core::{UserFacing, UserFacingError};

// What every command rejects with: a stable `code` the UI switches on and a
// `message` that tells the technician what happened and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

// The one conversion from the domain's errors: every error a command can meet
// (zpair-core's and the app's own) implements `UserFacing`.
impl<E: UserFacing> From<E> for AppError {
    fn from(error: E) -> Self {
        Self::from_user_facing(error.user_facing())
    }
}

impl AppError {
    /// The same pair as zpair-core already reduced it (code checks carry one).
    pub fn from_user_facing(error: UserFacingError) -> Self {
        Self {
            code: error.code,
            message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_core::session::SessionError;

    #[test]
    fn domain_errors_keep_their_code_and_message() {
        let error = AppError::from(SessionError::Expired);
        assert_eq!(error.code, ErrorCode::SessionExpired);
        assert_eq!(error.message, SessionError::Expired.to_string());
        let json = serde_json::to_value(&error).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"code": "session_expired", "message": error.message})
        );
    }
}
