//! What can go wrong talking to the Central Station, as the technician
//! needs to hear it: the station's own `{code, message}` errors pass through
//! unchanged; transport failures are sorted into "cannot reach" and "not the
//! station you trusted", because the fixes differ (network vs. IT).

use zpair_proto::api::ApiError;

use crate::error::{ErrorCode, UserFacing};

/// An error from [`super::StationClient`].
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The station address is not a usable `https://` URL.
    #[error(
        "The Central Station address '{url}' is not usable: {reason}. Enter it as https://host:port, as IT gave it to you."
    )]
    InvalidUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA certificate or fingerprint to trust is unusable.
    #[error(
        "The station trust settings are not usable: {reason}. Check the CA file or fingerprint IT gave you, then set up trust again."
    )]
    InvalidTrust {
        /// What is wrong.
        reason: String,
    },
    /// No connection: refused, timed out, DNS, reset.
    #[error(
        "Cannot reach the Central Station at {url}. Check the network connection and the station address, then retry."
    )]
    Unreachable {
        /// The station.
        url: String,
        /// The transport's explanation, for logs.
        detail: String,
    },
    /// TLS certificate verification failed.
    #[error(
        "The Central Station's certificate is not the one you trusted. If the station's certificate was changed on purpose, set up trust again; otherwise contact IT support."
    )]
    Untrusted {
        /// The station.
        url: String,
        /// What rustls reported, for logs.
        detail: String,
    },
    /// The station refused the request with an error body.
    #[error("{}", error.message)]
    Station {
        /// HTTP status.
        status: u16,
        /// The station's code and message.
        error: ApiError,
    },
    /// The station (or something in front of it) answered with an error
    /// status and no error body.
    #[error(
        "The Central Station answered with HTTP {status} and no explanation. Retry; if it keeps happening, contact IT support."
    )]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
    },
    /// A success answer that could not be read.
    #[error(
        "The Central Station's answer could not be read ({detail}). Check that the address is the Central Station's; if it is, contact IT support."
    )]
    InvalidResponse {
        /// What was wrong with it.
        detail: String,
    },
    /// The live status stream dropped and could not be resumed.
    #[error(
        "The live status from the Central Station was lost. The pairing may still be running: check the monitor's status, then retry if needed."
    )]
    StreamLost,
}

impl ClientError {
    /// The station's error code when the station refused the request.
    pub fn station_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Station { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// Whether the bearer token was refused (missing or expired): the one
    /// case a fresh access token can fix.
    pub fn is_unauthorized(&self) -> bool {
        self.station_code() == Some(ErrorCode::Unauthorized)
    }

    /// Sorts a transport error from reqwest.
    pub(crate) fn transport(url: &reqwest::Url, error: &reqwest::Error) -> Self {
        let url = station_origin(url);
        if let Some(tls @ rustls::Error::InvalidCertificate(_)) = find_tls_error(error) {
            return ClientError::Untrusted {
                url,
                detail: tls.to_string(),
            };
        }
        if error.is_decode() {
            return ClientError::InvalidResponse {
                detail: error.to_string(),
            };
        }
        ClientError::Unreachable {
            url,
            detail: chain(error),
        }
    }
}

impl UserFacing for ClientError {
    fn code(&self) -> ErrorCode {
        match self {
            ClientError::InvalidUrl { .. } => ErrorCode::InvalidStationUrl,
            ClientError::InvalidTrust { .. } => ErrorCode::InvalidTrustAnchor,
            ClientError::Unreachable { .. } => ErrorCode::StationUnreachable,
            ClientError::Untrusted { .. } => ErrorCode::StationUntrusted,
            ClientError::Station { error, .. } => error.code,
            ClientError::UnexpectedStatus { .. } => ErrorCode::StationError,
            ClientError::InvalidResponse { .. } => ErrorCode::StationResponseInvalid,
            ClientError::StreamLost => ErrorCode::StatusStreamLost,
        }
    }
}

/// Scheme, host and port only: what a technician recognises, and never a
/// path or query that could carry an identifier.
pub(crate) fn station_origin(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

/// The first rustls error in `error`'s chain. `io::Error` hides its payload
/// from `source()`, so it is unwrapped by hand.
pub(crate) fn find_tls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(tls) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .and_then(|inner| find_tls_error(inner))
    {
        return Some(tls);
    }
    error.source().and_then(find_tls_error)
}

/// The messages of an error and its causes, for a log line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_errors_keep_their_code_and_message() {
        let e = ClientError::Station {
            status: 409,
            error: ApiError {
                code: ErrorCode::ReprovisionRequired,
                message: "Do this next.".into(),
            },
        };
        assert_eq!(e.code(), ErrorCode::ReprovisionRequired);
        assert_eq!(e.message(), "Do this next.");
        assert!(!e.is_unauthorized());
    }

    #[test]
    fn rustls_errors_are_found_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let found = find_tls_error(&io);
        assert!(matches!(found, Some(rustls::Error::InvalidCertificate(_))));
        let plain = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(find_tls_error(&plain).is_none());
    }
}
