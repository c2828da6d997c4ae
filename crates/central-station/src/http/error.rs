//! Every way a request can fail, with its HTTP status, its stable code and a
//! message that tells the technician what to do next. Internal errors are
//! logged and answered with a generic message: their text never leaves the
//! station.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, FailureReason};

use crate::db::DbError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// No bearer token, or one that is unknown, expired or revoked.
    #[error("unauthorized")]
    Unauthorized,
    /// Wrong username or password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed sign-ins.
    #[error("account locked")]
    AccountLocked,
    /// The right password for an account an administrator disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// This client failed too many sign-ins; it may try again after this long.
    #[error("sign-in backoff")]
    SignInBackoff(Duration),
    /// No account has this username (administrator endpoints).
    #[error("unknown user")]
    UnknownUser,
    /// The account's password is a temporary one: it must change it first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// A new account named like an existing one.
    #[error("username taken")]
    UsernameTaken,
    /// Disabling the last enabled administrator.
    #[error("last administrator")]
    LastAdministrator,
    /// The refresh token is unknown, used or expired.
    #[error("session expired")]
    SessionExpired,
    /// The account's role may not do this.
    #[error("forbidden role")]
    ForbiddenRole(&'static str),
    /// Re-provisioning without a valid, unused confirmation of this user.
    #[error("confirmation required")]
    ConfirmationRequired,
    /// A malformed body, query or path.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The pairing code is not `XXX-XXX-XXX`.
    #[error("invalid code")]
    InvalidCode(String),
    /// The monitor is not in the registry.
    #[error("unknown device")]
    UnknownDevice,
    /// No such pairing job.
    #[error("unknown job")]
    UnknownJob,
    /// The QR token was used before.
    #[error("token replayed")]
    TokenReplayed,
    /// A job for the monitor is still running.
    #[error("pairing in progress")]
    PairingInProgress,
    /// Too many pair requests.
    #[error("rate limited")]
    RateLimited(Duration),
    /// The body is larger than the route takes (its limit in bytes).
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// The user holds as many live event streams as allowed.
    #[error("too many event streams")]
    TooManyStreams,
    /// The station is at its connection cap.
    #[error("overloaded")]
    Overloaded,
    /// The station is stopping: it finishes its running jobs, starts no
    /// new one.
    #[error("stopping")]
    Stopping,
    /// A monitor endpoint reached without a valid client certificate.
    #[error("client certificate required")]
    ClientCertificateRequired(&'static str),
    /// The device is not in a state that allows this.
    #[error("device not provisioned")]
    DeviceNotProvisioned,
    /// A paired monitor (or one whose re-provisioning expired) is paired
    /// again only after a confirmed re-provisioning.
    #[error("reprovision required")]
    ReprovisionRequired,
    /// A de-provisioned monitor is paired again only once re-admitted.
    #[error("device deprovisioned")]
    DeviceDeprovisioned,
    /// Re-admitting a monitor that is not de-provisioned.
    #[error("device not deprovisioned")]
    DeviceNotDeprovisioned,
    /// A registry record that contradicts the registry (another identity
    /// key for a registered monitor, a serial or key another monitor has):
    /// its own code and message.
    #[error("record conflicts: {}", .0.code)]
    RecordConflict(ApiError),
    /// The monitor could not be reached or refused a command.
    #[error("monitor failed: {0:?}")]
    Monitor(FailureReason),
    /// The monitor answered a command with an error of its own.
    #[error("monitor refused: {}", .0.code)]
    MonitorRefused(ApiError),
    /// No such route.
    #[error("not found")]
    NotFound,
    /// The route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The database is held up (a lock waited for past its timeout, a
    /// conflict it resolved by cancelling, a server not taking connections
    /// yet): worth trying again shortly, unlike [`HttpError::Internal`].
    #[error("database busy: {0}")]
    DatabaseBusy(String),
    /// Something on the station's side broke.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<crate::pairing::Closed> for HttpError {
    fn from(closed: crate::pairing::Closed) -> Self {
        use crate::pairing::Closed;
        match closed {
            Closed::ReprovisionRequired => HttpError::ReprovisionRequired,
            Closed::Deprovisioned => HttpError::DeviceDeprovisioned,
            Closed::InProgress => HttpError::PairingInProgress,
        }
    }
}

impl From<DbError> for HttpError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            HttpError::DatabaseBusy(e.to_string())
        } else {
            HttpError::Internal(e.to_string())
        }
    }
}

impl HttpError {
    /// The stable code; its HTTP status comes from the catalogue.
    fn code(&self) -> ErrorCode {
        use HttpError::*;
        match self {
            Unauthorized => ErrorCode::Unauthorized,
            InvalidCredentials => ErrorCode::InvalidCredentials,
            AccountLocked => ErrorCode::AccountLocked,
            AccountDisabled => ErrorCode::AccountDisabled,
            SignInBackoff(_) | RateLimited(_) => ErrorCode::RateLimited,
            UnknownUser => ErrorCode::UnknownUser,
            PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            UsernameTaken => ErrorCode::UsernameTaken,
            LastAdministrator => ErrorCode::LastAdministrator,
            SessionExpired => ErrorCode::SessionExpired,
            ForbiddenRole(_) => ErrorCode::ForbiddenRole,
            ConfirmationRequired => ErrorCode::ConfirmationRequired,
            InvalidRequest(_) => ErrorCode::InvalidRequest,
            InvalidCode(_) => ErrorCode::InvalidCode,
            UnknownDevice => ErrorCode::UnknownDevice,
            UnknownJob => ErrorCode::UnknownJob,
            TokenReplayed => ErrorCode::TokenReplayed,
            PairingInProgress => ErrorCode::PairingInProgress,
            PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            TooManyStreams => ErrorCode::TooManyStreams,
            Overloaded | Stopping | DatabaseBusy(_) => ErrorCode::StationBusy,
            ClientCertificateRequired(_) => ErrorCode::ClientCertificateRequired,
            DeviceNotProvisioned => ErrorCode::DeviceNotProvisioned,
            ReprovisionRequired => ErrorCode::ReprovisionRequired,
            DeviceDeprovisioned => ErrorCode::DeviceDeprovisioned,
            DeviceNotDeprovisioned => ErrorCode::DeviceNotDeprovisioned,
            Monitor(reason) => reason.code(),
            MonitorRefused(_) => ErrorCode::MonitorRefused,
            RecordConflict(error) => error.code,
            NotFound => ErrorCode::NotFound,
            MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The message, where this error knows more than the catalogue says.
    fn detailed_message(&self) -> Option<String> {
        use HttpError::*;
        Some(match self {
            SignInBackoff(wait) => format!(
                "Too many failed sign-ins from this computer. Wait {} minute(s), then try again.",
                wait.as_secs().div_ceil(60).max(1)
            ),
            ForbiddenRole(what) => format!("Your account's role cannot do this: {what}."),
            InvalidRequest(why) | InvalidCode(why) => why.clone(),
            PayloadTooLarge(limit) => format!(
                "The request body is larger than this endpoint takes ({limit} bytes). Send less."
            ),
            ClientCertificateRequired(why) => (*why).to_owned(),
            Stopping => "The Central Station is restarting and starts nothing new. Try again in a few seconds.".to_owned(),
            DatabaseBusy(_) => "The Central Station's database is busy for a moment. Try again in a few seconds.".to_owned(),
            RecordConflict(error) => error.message.clone(),
            Monitor(reason) => format!("{} Nothing was changed.", reason.message()),
            MonitorRefused(error) => format!(
                "The monitor refused the command ({}). Nothing was changed. Contact IT support.",
                error.code
            ),
            _ => return None,
        })
    }

    /// The status and the body.
    fn parts(&self) -> (StatusCode, ApiError) {
        let code = self.code();
        let status = code
            .http_status()
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = self
            .detailed_message()
            .unwrap_or_else(|| code.message().to_owned());
        (status, ApiError { code, message })
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match &self {
            HttpError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed inside the station");
            }
            HttpError::DatabaseBusy(detail) => {
                tracing::warn!(error = %detail, "request refused: the database is busy");
            }
            _ => {}
        }
        let (status, body) = self.parts();
        let mut response = (status, Json(body)).into_response();
        let retry_after = match self {
            HttpError::RateLimited(wait) | HttpError::SignInBackoff(wait) => Some(wait),
            HttpError::TooManyStreams
            | HttpError::Overloaded
            | HttpError::Stopping
            | HttpError::DatabaseBusy(_) => {
                Some(Duration::from_secs(crate::edge::RETRY_AFTER_SECONDS))
            }
            _ => None,
        };
        if let Some(wait) = retry_after {
            // Rounded up: a client that waits this long finds room.
            let seconds = wait.as_millis().div_ceil(1000).max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_body() {
        let (status, body) = HttpError::Internal("disk I/O error at /secret/path".into()).parts();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.code, ErrorCode::InternalError);
        assert!(!body.message.contains("/secret/path"));
    }

    #[test]
    fn monitor_failures_use_the_failure_codes() {
        let (status, body) = HttpError::Monitor(FailureReason::MonitorUnreachable).parts();
        assert_eq!(
            (status, body.code),
            (StatusCode::BAD_GATEWAY, ErrorCode::MonitorUnreachable)
        );
    }
}
