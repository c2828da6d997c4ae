//! How the monitor refuses a step of the exchange: a stable code the station
//! turns into the job's failure reason, an HTTP status, and a message that
//! tells the technician what to do next. Internal details stay in the log.

use axum::http::StatusCode;
use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, FailureReason};

use crate::MonitorError;

/// A refused step of the station → monitor exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The request is malformed or names another device or session.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The monitor is not in provisioning mode.
    #[error("not in provisioning mode")]
    NotInProvisioningMode,
    /// The pairing code expired.
    #[error("the pairing code expired")]
    CodeExpired,
    /// The QR token is not one issued for the current code.
    #[error("stale QR token")]
    TokenStale,
    /// The pairing proof does not match the code.
    #[error("pairing code mismatch")]
    CodeMismatch,
    /// Too many wrong codes: provisioning mode closed.
    #[error("provisioning mode closed after too many wrong codes")]
    ProvisioningClosed,
    /// The configuration, a command or the box could not be authenticated.
    #[error("signature invalid: {0}")]
    SignatureInvalid(&'static str),
    /// The request is not signed by the station the monitor trusts, is stale
    /// or was seen before: refused before it reaches the exchange.
    #[error("station not authenticated: {0}")]
    StationUnauthenticated(&'static str),
    /// The configuration is authentic but expired before it arrived: not a
    /// forgery, so not reported as one.
    #[error("configuration expired")]
    ConfigExpired,
    /// The pushed certificates are malformed or do not fit.
    #[error("certificate invalid: {0}")]
    CertificateInvalid(&'static str),
    /// The new configuration could not reach the station.
    #[error("connection test failed")]
    ConnectionTestFailed,
    /// Another pairing exchange is running.
    #[error("a pairing is in progress")]
    PairingInProgress,
    /// The monitor itself failed (disk, randomness).
    #[error("internal error")]
    Internal,
}

impl From<MonitorError> for ExchangeError {
    fn from(e: MonitorError) -> Self {
        match e {
            MonitorError::NotInProvisioningMode => ExchangeError::NotInProvisioningMode,
            MonitorError::PairingInProgress => ExchangeError::PairingInProgress,
            other => {
                tracing::error!(error = %other, "the monitor failed during a pairing step");
                ExchangeError::Internal
            }
        }
    }
}

impl ExchangeError {
    /// The HTTP status the monitor answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ExchangeError::InvalidRequest(_)
            | ExchangeError::SignatureInvalid(_)
            | ExchangeError::ConfigExpired
            | ExchangeError::CertificateInvalid(_) => StatusCode::BAD_REQUEST,
            ExchangeError::NotInProvisioningMode
            | ExchangeError::TokenStale
            | ExchangeError::PairingInProgress => StatusCode::CONFLICT,
            ExchangeError::StationUnauthenticated(_) => StatusCode::UNAUTHORIZED,
            ExchangeError::CodeExpired => StatusCode::GONE,
            ExchangeError::CodeMismatch | ExchangeError::ProvisioningClosed => {
                StatusCode::FORBIDDEN
            }
            ExchangeError::ConnectionTestFailed => StatusCode::BAD_GATEWAY,
            ExchangeError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The failure reason it stands for, when it is one of the fixed list.
    pub fn reason(&self) -> Option<FailureReason> {
        Some(match self {
            ExchangeError::NotInProvisioningMode => FailureReason::NotInProvisioningMode,
            ExchangeError::CodeExpired => FailureReason::CodeExpired,
            ExchangeError::TokenStale => FailureReason::TokenStale,
            ExchangeError::CodeMismatch => FailureReason::CodeMismatch,
            ExchangeError::ProvisioningClosed => FailureReason::ProvisioningClosed,
            ExchangeError::SignatureInvalid(_) | ExchangeError::StationUnauthenticated(_) => {
                FailureReason::SignatureInvalid
            }
            ExchangeError::ConfigExpired => FailureReason::ConfigExpired,
            ExchangeError::CertificateInvalid(_) => FailureReason::CertificateInvalid,
            ExchangeError::ConnectionTestFailed => FailureReason::ConnectionTestFailed,
            ExchangeError::InvalidRequest(_)
            | ExchangeError::PairingInProgress
            | ExchangeError::Internal => return None,
        })
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match (self.reason(), self) {
            (Some(reason), _) => reason.code(),
            (None, ExchangeError::PairingInProgress) => ErrorCode::PairingInProgress,
            (None, ExchangeError::InvalidRequest(_)) => ErrorCode::InvalidRequest,
            (None, _) => ErrorCode::InternalError,
        }
    }

    /// What happened and what to do next.
    pub fn message(&self) -> String {
        match self {
            ExchangeError::SignatureInvalid(detail)
            | ExchangeError::StationUnauthenticated(detail)
            | ExchangeError::CertificateInvalid(detail) => {
                format!("{detail} Nothing was changed on the monitor. Contact IT support.")
            }
            ExchangeError::InvalidRequest(detail) => {
                format!("{detail} Start the pairing again from the QR code on the monitor.")
            }
            ExchangeError::PairingInProgress => {
                "The monitor is completing another pairing. Wait for it to finish, then retry.".to_owned()
            }
            ExchangeError::Internal => {
                "The monitor could not complete this step. Retry; if it fails again, restart the monitor.".to_owned()
            }
            other => other
                .reason()
                .map(|r| r.message().to_owned())
                .unwrap_or_default(),
        }
    }

    /// The error body.
    pub fn body(&self) -> ApiError {
        ApiError {
            code: self.code(),
            message: self.message(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_the_protocols_status_and_code() {
        let cases = [
            (
                ExchangeError::NotInProvisioningMode,
                409,
                ErrorCode::NotInProvisioningMode,
            ),
            (ExchangeError::CodeExpired, 410, ErrorCode::CodeExpired),
            (ExchangeError::TokenStale, 409, ErrorCode::TokenStale),
            (ExchangeError::CodeMismatch, 403, ErrorCode::CodeMismatch),
            (
                ExchangeError::ProvisioningClosed,
                403,
                ErrorCode::ProvisioningClosed,
            ),
            (
                ExchangeError::SignatureInvalid("x"),
                400,
                ErrorCode::SignatureInvalid,
            ),
            (
                ExchangeError::StationUnauthenticated("x"),
                401,
                ErrorCode::SignatureInvalid,
            ),
            (ExchangeError::ConfigExpired, 400, ErrorCode::ConfigExpired),
            (
                ExchangeError::CertificateInvalid("x"),
                400,
                ErrorCode::CertificateInvalid,
            ),
            (
                ExchangeError::ConnectionTestFailed,
                502,
                ErrorCode::ConnectionTestFailed,
            ),
            (
                ExchangeError::InvalidRequest("x"),
                400,
                ErrorCode::InvalidRequest,
            ),
            (
                ExchangeError::PairingInProgress,
                409,
                ErrorCode::PairingInProgress,
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.body().code, code);
            assert!(!error.message().is_empty());
        }
    }
}
