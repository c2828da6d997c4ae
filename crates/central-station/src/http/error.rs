//! Every way a request can fail, with its HTTP status, its stable code and a
//! message that tells the technician what to do next. Internal errors are
//! logged and answered with a generic message: their text never leaves the
//! station.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
        HttpError::Internal(e.to_string())
    }
}

impl HttpError {
    /// The status and the body.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use HttpError::*;
        let (status, code, message): (StatusCode, &'static str, String) = match self {
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in to continue.".into(),
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The username or password is wrong. Check them and try again.".into(),
            ),
            AccountLocked => (
                StatusCode::LOCKED,
                "account_locked",
                "Too many failed sign-ins: this account is locked for 15 minutes. Try again later or ask an administrator.".into(),
            ),
            AccountDisabled => (
                StatusCode::FORBIDDEN,
                "account_disabled",
                "This account is disabled. Ask an administrator to enable it.".into(),
            ),
            SignInBackoff(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many failed sign-ins from this computer. Wait {} minute(s), then try again.",
                    wait.as_secs().div_ceil(60).max(1)
                ),
            ),
            UnknownUser => (
                StatusCode::NOT_FOUND,
                "unknown_user",
                "There is no account with this username. Check the spelling.".into(),
            ),
            SessionExpired => (
                StatusCode::UNAUTHORIZED,
                "session_expired",
                "Your session has ended. Sign in again.".into(),
            ),
            ForbiddenRole(what) => (
                StatusCode::FORBIDDEN,
                "forbidden_role",
                format!("Your account's role cannot do this: {what}."),
            ),
            ConfirmationRequired => (
                StatusCode::FORBIDDEN,
                "confirmation_required",
                "Re-provisioning needs a fresh confirmation: re-enter your password, then confirm again.".into(),
            ),
            InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why.clone()),
            InvalidCode(why) => (StatusCode::BAD_REQUEST, "invalid_code", why.clone()),
            UnknownDevice => (
                StatusCode::NOT_FOUND,
                "unknown_device",
                "This monitor is not in the Central Station's registry. Check the device ID, or ask an administrator to register it.".into(),
            ),
            UnknownJob => (
                StatusCode::NOT_FOUND,
                "unknown_job",
                "There is no pairing job with this ID.".into(),
            ),
            TokenReplayed => (
                StatusCode::CONFLICT,
                "token_replayed",
                "This QR code was already used. Scan the QR code the monitor shows now.".into(),
            ),
            PairingInProgress => (
                StatusCode::CONFLICT,
                "pairing_in_progress",
                "This monitor is already being paired. Wait for that pairing to finish.".into(),
            ),
            RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many pairing requests. Wait a minute, then try again.".into(),
            ),
            PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The request body is larger than this endpoint takes ({limit} bytes). Send less."),
            ),
            TooManyStreams => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                "You have too many live status views open. Close one, then try again.".into(),
            ),
            Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "station_busy",
                "The Central Station is busy. Try again in a few seconds.".into(),
            ),
            ClientCertificateRequired(why) => (
                StatusCode::UNAUTHORIZED,
                "client_certificate_required",
                (*why).to_owned(),
            ),
            DeviceNotProvisioned => (
                StatusCode::CONFLICT,
                "device_not_provisioned",
                "This monitor is not paired, so there is nothing to re-provision. Pair it instead (a de-provisioned one needs an administrator to re-admit it first).".into(),
            ),
            ReprovisionRequired => (
                StatusCode::CONFLICT,
                "reprovision_required",
                "This monitor is already paired (or its re-provisioning expired). To pair it again, re-provision it first: your password, a reason and its device ID. Then pair it with the new code it shows.".into(),
            ),
            DeviceDeprovisioned => (
                StatusCode::CONFLICT,
                "device_deprovisioned",
                "This monitor was de-provisioned by an administrator and cannot be paired. Ask an administrator to re-admit it, then pair it again.".into(),
            ),
            DeviceNotDeprovisioned => (
                StatusCode::CONFLICT,
                "device_not_deprovisioned",
                "This monitor is not de-provisioned, so there is nothing to re-admit.".into(),
            ),
            Monitor(reason) => (
                StatusCode::BAD_GATEWAY,
                reason.code(),
                format!("{} Nothing was changed.", reason.message()),
            ),
            MonitorRefused(error) => (
                StatusCode::BAD_GATEWAY,
                "monitor_refused",
                format!(
                    "The monitor refused the command ({}). Nothing was changed. Contact IT support.",
                    error.code
                ),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is no such endpoint. See /api/openapi.json.".into(),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This endpoint does not take this method. See /api/openapi.json.".into(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "The Central Station hit an internal error. Try again; if it persists, contact IT support.".into(),
            ),
        };
        (status, code, message)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let HttpError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed inside the station");
        }
        let (status, code, message) = self.parts();
        let mut response = (
            status,
            Json(ApiError {
                code: code.to_owned(),
                message,
            }),
        )
            .into_response();
        let retry_after = match self {
            HttpError::RateLimited(wait) | HttpError::SignInBackoff(wait) => Some(wait),
            HttpError::TooManyStreams | HttpError::Overloaded => {
                Some(Duration::from_secs(crate::edge::RETRY_AFTER_SECONDS))
            }
            _ => None,
        };
        if let Some(wait) = retry_after {
            let seconds = wait.as_secs().max(1).to_string();
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
        let (status, code, message) =
            HttpError::Internal("disk I/O error at /secret/path".into()).parts();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(code, "internal_error");
        assert!(!message.contains("/secret/path"));
    }

    #[test]
    fn monitor_failures_use_the_failure_codes() {
        let (status, code, _) = HttpError::Monitor(FailureReason::MonitorUnreachable).parts();
        assert_eq!(
            (status, code),
            (StatusCode::BAD_GATEWAY, "monitor_unreachable")
        );
    }
}
