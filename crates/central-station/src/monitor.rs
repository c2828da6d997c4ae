//! The station's HTTPS client towards one monitor: its address on the ward
//! network, its certificate pinned to the registry's identity key, every
//! request signed with the provisioning key (the monitor obeys nobody else),
//! short timeouts so a dead monitor fails fast as `monitor_unreachable`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, FailureReason};
use zpair_proto::crypto::{self, SigningKey};

use zpair_tls::{PinnedServer, ServerCheck};

/// Connecting to a monitor gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A whole request gives up after this (the commit: see [`MonitorClient::post_within`]).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How a request to a monitor failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MonitorError {
    /// A timeout or a broken exchange once the request may have been sent:
    /// the monitor may have acted on it.
    #[error("monitor unreachable: {0}")]
    Unreachable(String),
    /// No connection could be made (refused, reset or timed out while
    /// connecting): the request never reached the monitor.
    #[error("monitor unreachable (no connection): {0}")]
    NoConnection(String),
    /// The monitor's TLS key is not the registered identity key.
    #[error("the monitor's TLS key is not its registered identity key")]
    IdentityMismatch,
    /// The monitor answered with an error.
    #[error("monitor answered {status}: {}", .error.code)]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its error body.
        error: ApiError,
    },
    /// The monitor answered 2xx with a body we cannot read.
    #[error("unreadable answer from the monitor: {0}")]
    BadAnswer(String),
    /// The client could not be built.
    #[error("cannot build the monitor client: {0}")]
    Client(String),
}

impl MonitorError {
    /// The job failure this stands for.
    pub(crate) fn reason(&self) -> FailureReason {
        match self {
            MonitorError::IdentityMismatch => FailureReason::SignatureInvalid,
            MonitorError::Refused { error, .. } => {
                FailureReason::from_code(error.code).unwrap_or(FailureReason::MonitorUnreachable)
            }
            MonitorError::Unreachable(_)
            | MonitorError::NoConnection(_)
            | MonitorError::BadAnswer(_)
            | MonitorError::Client(_) => FailureReason::MonitorUnreachable,
        }
    }

    /// Whether the request certainly never reached the monitor, so sending
    /// it again cannot make the monitor act twice.
    pub(crate) fn never_sent(&self) -> bool {
        matches!(self, MonitorError::NoConnection(_))
    }

    /// Whether the network failed (rather than the monitor answering, or a
    /// check failing): worth another attempt where repeating is safe.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            MonitorError::Unreachable(_) | MonitorError::NoConnection(_)
        )
    }
}

/// A client bound to one monitor.
pub(crate) struct MonitorClient {
    http: reqwest::Client,
    base: String,
    mismatch: Arc<AtomicBool>,
    device_id: String,
    signing_key: SigningKey,
}

impl std::fmt::Debug for MonitorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorClient")
            .field("base", &self.base)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// Who the client talks to and which key it signs with.
pub(crate) struct MonitorTarget<'a> {
    /// The monitor's device ID, bound into each request's signature.
    pub(crate) device_id: &'a str,
    /// The registry's identity key; the monitor's TLS key must be it.
    pub(crate) identity_key: [u8; 32],
    /// Where it listens.
    pub(crate) address: SocketAddr,
}

impl MonitorClient {
    /// A client for `https://{address}` that trusts only the identity key
    /// and signs with the station's provisioning key.
    pub(crate) fn new(
        target: MonitorTarget<'_>,
        signing_key: &SigningKey,
    ) -> Result<Self, MonitorError> {
        let mismatch = Arc::new(AtomicBool::new(false));
        let tls = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| MonitorError::Client(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer::new(
                ServerCheck::Ed25519Key {
                    key: target.identity_key,
                    mismatch: Some(mismatch.clone()),
                },
                &crate::tls::provider(),
            )))
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| MonitorError::Client(e.to_string()))?;
        Ok(Self {
            http,
            base: format!("https://{}", target.address),
            mismatch,
            device_id: target.device_id.to_owned(),
            signing_key: signing_key.clone(),
        })
    }

    /// POSTs `body` as JSON to `path` and reads the JSON answer.
    pub(crate) async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<Resp, MonitorError> {
        self.post_within(path, body, REQUEST_TIMEOUT).await
    }

    /// [`Self::post`] for a request that may take up to `timeout` (the
    /// commit waits for the monitor's confirmation).
    pub(crate) async fn post_within<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
        timeout: Duration,
    ) -> Result<Resp, MonitorError> {
        let url = format!("{}{path}", self.base);
        let body = serde_json::to_vec(body).map_err(|e| MonitorError::Client(e.to_string()))?;
        let signed = crypto::sign_station_request(
            &self.signing_key,
            &self.device_id,
            "POST",
            path,
            &body,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(|e| MonitorError::Client(e.to_string()))?;
        let mut request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(timeout);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Err(self.transport_error(&e)),
        };
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            let error = serde_json::from_slice::<ApiError>(&bytes).unwrap_or(ApiError {
                code: ErrorCode::Unrecognised,
                message: format!("HTTP {} without an error body", status.as_u16()),
            });
            return Err(MonitorError::Refused {
                status: status.as_u16(),
                error,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| MonitorError::BadAnswer(e.to_string()))
    }

    fn transport_error(&self, e: &reqwest::Error) -> MonitorError {
        if self.mismatch.load(Ordering::SeqCst) {
            return MonitorError::IdentityMismatch;
        }
        // The error chain says connect/timeout/reset; no secret is in it.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if e.is_connect() {
            MonitorError::NoConnection(text)
        } else {
            MonitorError::Unreachable(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        // Bind then drop, so the port is known to be closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let target = MonitorTarget {
            device_id: "ZM-1",
            identity_key: [1; 32],
            address: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let key = SigningKey::from_bytes(&[2; 32]);
        let client = MonitorClient::new(target, &key).expect("client");
        let err = client
            .post::<_, serde_json::Value>("/provisioning/challenge", &serde_json::json!({}))
            .await
            .expect_err("nothing there");
        assert!(matches!(err, MonitorError::NoConnection(_)), "{err:?}");
        assert!(err.never_sent() && err.is_transient());
        assert_eq!(err.reason(), FailureReason::MonitorUnreachable);
    }

    #[test]
    fn monitor_error_codes_map_to_failure_reasons() {
        let refused = |code: ErrorCode| MonitorError::Refused {
            status: 403,
            error: ApiError {
                code,
                message: String::new(),
            },
        };
        assert_eq!(
            refused(ErrorCode::CodeMismatch).reason(),
            FailureReason::CodeMismatch
        );
        assert_eq!(
            refused(ErrorCode::TokenStale).reason(),
            FailureReason::TokenStale
        );
        assert_eq!(
            refused(ErrorCode::Unrecognised).reason(),
            FailureReason::MonitorUnreachable
        );
        assert_eq!(
            MonitorError::IdentityMismatch.reason(),
            FailureReason::SignatureInvalid
        );
        assert_eq!(
            refused(ErrorCode::ConfigExpired).reason(),
            FailureReason::ConfigExpired
        );
        // Refusals and failed checks are final; only the network is retried.
        assert!(!refused(ErrorCode::CodeMismatch).is_transient());
        assert!(!MonitorError::IdentityMismatch.is_transient());
        assert!(MonitorError::Unreachable("reset".into()).is_transient());
        assert!(!MonitorError::Unreachable("reset".into()).never_sent());
    }
}
