//! The Central Station client: every API call the app and the CLI make, over
//! HTTPS that trusts only the configured anchor ([`trust`]).
//!
//! Calls are thin: one method per endpoint, typed with `zpair-proto`, errors
//! sorted into [`ClientError`]. Tokens are arguments, not state, so that
//! [`crate::session::TechnicianSession`] alone decides when to refresh.

mod admin;
mod error;
mod events;
mod sse;
mod trust;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use zpair_proto::Redacted;
use zpair_proto::api::{
    Account, ApiError, ConnectedStatus, DeprovisionRequest, DeviceImport, DeviceSummary,
    ImportReport, JobSummary, LoginRequest, PairAccepted, PairRequest, ReadmitRequest,
    RefreshRequest, ReprovisionRequest, Session, StationKey, StepUpAction, StepUpRequest,
    StepUpResponse,
};

pub use admin::{AccountChange, Download};
pub use error::ClientError;
pub use events::EventStream;
pub use trust::{
    CertificateInfo, StationTrust, TrustAnchor, check_station_url, fetch_certificate_fingerprint,
    format_fingerprint, parse_fingerprint, probe_station,
};

use crate::secret::Secret;

/// How long to wait for a TCP connection to the station.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one API call may take, answer included (not streams).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read: a registry of thousands of monitors fits well.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The largest error body read; error bodies are a code and a sentence.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The text of a bearer, refresh or confirmation token, whether it sits in a
/// [`Secret`] (the session's), in a wire type's [`Redacted`] field or in
/// plain text.
pub trait Token {
    /// The token text, for the request that carries it.
    fn token_text(&self) -> &str;
}

impl Token for str {
    fn token_text(&self) -> &str {
        self
    }
}

impl Token for String {
    fn token_text(&self) -> &str {
        self
    }
}

impl Token for Secret<String> {
    fn token_text(&self) -> &str {
        self.expose()
    }
}

impl Token for Redacted<String> {
    fn token_text(&self) -> &str {
        self.expose()
    }
}

/// A client for one Central Station.
#[derive(Debug, Clone)]
pub struct StationClient {
    http: reqwest::Client,
    base: reqwest::Url,
    trust: StationTrust,
    stream_idle_timeout: Duration,
}

impl StationClient {
    /// A client that talks only to `trust.url` and only if its certificate
    /// matches `trust.anchor`.
    pub fn new(trust: StationTrust) -> Result<Self, ClientError> {
        let base = trust::parse_station_url(&trust.url)?;
        let tls = trust::client_config(&trust.anchor)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect would carry the bearer token somewhere unplanned.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zpair/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::InvalidTrust {
                reason: format!("the HTTPS client could not be set up ({e})"),
            })?;
        Ok(Self {
            http,
            base,
            trust,
            stream_idle_timeout: events::DEFAULT_STREAM_IDLE_TIMEOUT,
        })
    }

    /// The same client, treating a status stream silent for `timeout` as
    /// dropped (default 60 s).
    pub fn with_stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// How long a status stream may stay silent.
    pub fn stream_idle_timeout(&self) -> Duration {
        self.stream_idle_timeout
    }

    /// The station and its trust anchor.
    pub fn trust(&self) -> &StationTrust {
        &self.trust
    }

    /// The station's base URL, normalised (the key its session is stored under).
    pub fn station_url(&self) -> &str {
        self.base.as_str()
    }

    // ----- authentication -------------------------------------------------

    /// `POST /api/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session, ClientError> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.into(),
        };
        self.call(
            self.request(Method::POST, &["api", "auth", "login"])
                .json(&body),
        )
        .await
    }

    /// `POST /api/auth/refresh`: a new session for a (one-use) refresh token.
    pub async fn refresh(
        &self,
        refresh_token: &(impl Token + ?Sized),
    ) -> Result<Session, ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.token_text().into(),
        };
        self.call(
            self.request(Method::POST, &["api", "auth", "refresh"])
                .json(&body),
        )
        .await
    }

    /// `POST /api/auth/logout`: revokes the access and the refresh token.
    pub async fn logout(
        &self,
        token: &(impl Token + ?Sized),
        refresh_token: &(impl Token + ?Sized),
    ) -> Result<(), ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.token_text().into(),
        };
        self.call_empty(
            self.authed(Method::POST, &["api", "auth", "logout"], token)
                .json(&body),
        )
        .await
    }

    /// `GET /api/auth/me`.
    pub async fn me(&self, token: &(impl Token + ?Sized)) -> Result<Account, ClientError> {
        self.call(self.authed(Method::GET, &["api", "auth", "me"], token))
            .await
    }

    /// `POST /api/auth/step-up`: the password again, for a confirmation
    /// token good for `action` on `device_id` only, in this sign-in.
    pub async fn step_up(
        &self,
        token: &(impl Token + ?Sized),
        password: &str,
        device_id: &str,
        action: StepUpAction,
    ) -> Result<StepUpResponse, ClientError> {
        let body = StepUpRequest {
            password: password.into(),
            device_id: device_id.to_owned(),
            action,
        };
        self.call(
            self.authed(Method::POST, &["api", "auth", "step-up"], token)
                .json(&body),
        )
        .await
    }

    // ----- pairing ----------------------------------------------------------

    /// `POST /api/provisioning/pair` → `202` with the job to follow.
    pub async fn pair(
        &self,
        token: &(impl Token + ?Sized),
        request: &PairRequest,
    ) -> Result<PairAccepted, ClientError> {
        self.call(
            self.authed(Method::POST, &["api", "provisioning", "pair"], token)
                .json(request),
        )
        .await
    }

    /// `GET /api/provisioning/jobs/{id}`.
    pub async fn job(
        &self,
        token: &(impl Token + ?Sized),
        job_id: &str,
    ) -> Result<JobSummary, ClientError> {
        self.call(self.authed(Method::GET, &["api", "provisioning", "jobs", job_id], token))
            .await
    }

    /// `GET /api/provisioning/jobs/{id}/events`: the job's past events, then
    /// live ones until it ends. See [`StationClient::follow_job`].
    pub async fn job_events(
        &self,
        token: &(impl Token + ?Sized),
        job_id: &str,
    ) -> Result<EventStream, ClientError> {
        self.subscribe(&["api", "provisioning", "jobs", job_id, "events"], token)
            .await
    }

    // ----- devices -----------------------------------------------------------

    /// `GET /api/devices/{id}`.
    pub async fn device(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
    ) -> Result<DeviceSummary, ClientError> {
        self.call(self.authed(Method::GET, &["api", "devices", device_id], token))
            .await
    }

    /// `GET /api/devices/{id}/status`: the connected-status view.
    pub async fn device_status(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
    ) -> Result<ConnectedStatus, ClientError> {
        self.call(self.authed(Method::GET, &["api", "devices", device_id, "status"], token))
            .await
    }

    /// `GET /api/devices/{id}/events`: live events of the device's jobs.
    pub async fn device_events(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
    ) -> Result<EventStream, ClientError> {
        self.subscribe(&["api", "devices", device_id, "events"], token)
            .await
    }

    /// `POST /api/devices/{id}/reprovision` with a confirmation token from
    /// [`StationClient::step_up`].
    pub async fn reprovision(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
        confirmation_token: &(impl Token + ?Sized),
        reason: &str,
    ) -> Result<DeviceSummary, ClientError> {
        let body = ReprovisionRequest {
            confirmation_token: confirmation_token.token_text().into(),
            reason: reason.to_owned(),
        };
        self.call(
            self.authed(
                Method::POST,
                &["api", "devices", device_id, "reprovision"],
                token,
            )
            .json(&body),
        )
        .await
    }

    /// `POST /api/devices/{id}/deprovision` (administrators).
    pub async fn deprovision(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
        reason: &str,
    ) -> Result<DeviceSummary, ClientError> {
        let body = DeprovisionRequest {
            reason: reason.to_owned(),
        };
        self.call(
            self.authed(
                Method::POST,
                &["api", "devices", device_id, "deprovision"],
                token,
            )
            .json(&body),
        )
        .await
    }

    /// `POST /api/devices/{id}/readmit` (administrators): a de-provisioned
    /// monitor may be paired again.
    pub async fn readmit(
        &self,
        token: &(impl Token + ?Sized),
        device_id: &str,
        reason: &str,
    ) -> Result<DeviceSummary, ClientError> {
        let body = ReadmitRequest {
            reason: reason.to_owned(),
        };
        self.call(
            self.authed(
                Method::POST,
                &["api", "devices", device_id, "readmit"],
                token,
            )
            .json(&body),
        )
        .await
    }

    /// `POST /api/devices` (administrators): registers one monitor.
    pub async fn register_device(
        &self,
        token: &(impl Token + ?Sized),
        device: &DeviceImport,
    ) -> Result<DeviceSummary, ClientError> {
        self.call(
            self.authed(Method::POST, &["api", "devices"], token)
                .json(device),
        )
        .await
    }

    /// `POST /api/devices/import` (administrators): registers many monitors.
    pub async fn import_devices(
        &self,
        token: &(impl Token + ?Sized),
        devices: &[DeviceImport],
    ) -> Result<ImportReport, ClientError> {
        self.call(
            self.authed(Method::POST, &["api", "devices", "import"], token)
                .json(devices),
        )
        .await
    }

    // ----- public station information ---------------------------------------

    /// `GET /api/ca/certificate`: the station CA, PEM.
    pub async fn ca_certificate(&self) -> Result<String, ClientError> {
        self.call_text(self.request(Method::GET, &["api", "ca", "certificate"]))
            .await
    }

    /// `GET /api/ca/crl`: the device CA's revocation list, PEM.
    pub async fn certificate_revocation_list(&self) -> Result<String, ClientError> {
        self.call_text(self.request(Method::GET, &["api", "ca", "crl"]))
            .await
    }

    /// `GET /api/provisioning/station-key`: the key monitors trust configurations from.
    pub async fn station_key(&self) -> Result<StationKey, ClientError> {
        self.call(self.request(Method::GET, &["api", "provisioning", "station-key"]))
            .await
    }

    /// `GET /healthz`: whether the station answers (and is the trusted one).
    pub async fn health(&self) -> Result<(), ClientError> {
        self.call_empty(self.request(Method::GET, &["healthz"]))
            .await
    }

    // ----- plumbing -----------------------------------------------------------

    fn endpoint(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.base.clone();
        // An https URL always has path segments; segments are percent-encoded.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http
            .request(method, self.endpoint(segments))
            .timeout(REQUEST_TIMEOUT)
    }

    fn authed(
        &self,
        method: Method,
        segments: &[&str],
        token: &(impl Token + ?Sized),
    ) -> RequestBuilder {
        // reqwest marks the header sensitive, so it never shows in Debug output.
        self.request(method, segments)
            .bearer_auth(token.token_text())
    }

    async fn subscribe(
        &self,
        segments: &[&str],
        token: &(impl Token + ?Sized),
    ) -> Result<EventStream, ClientError> {
        let url = self.endpoint(segments);
        // No overall timeout: the stream lives as long as the job. The wait
        // for the response head is bounded here instead.
        let request = self
            .http
            .get(url.clone())
            .bearer_auth(token.token_text())
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response = tokio::time::timeout(REQUEST_TIMEOUT, request.send())
            .await
            .map_err(|_| ClientError::Unreachable {
                url: error::station_origin(&url),
                detail: "no answer to the status stream request".into(),
            })?
            .map_err(|e| ClientError::transport(&url, &e))?;
        let response = self.check(response, &url).await?;
        Ok(EventStream::new(response, url))
    }

    async fn send(&self, request: RequestBuilder) -> Result<(Response, reqwest::Url), ClientError> {
        let request = request.build().map_err(|e| ClientError::InvalidUrl {
            url: self.trust.url.clone(),
            reason: e.to_string(),
        })?;
        let url = request.url().clone();
        let method = request.method().clone();
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| ClientError::transport(&url, &e))?;
        tracing::debug!(%method, path = url.path(), status = response.status().as_u16(), "station call");
        let response = self.check(response, &url).await?;
        Ok((response, url))
    }

    /// Turns an error status into [`ClientError::Station`] (or
    /// [`ClientError::UnexpectedStatus`] without an error body).
    async fn check(&self, response: Response, url: &reqwest::Url) -> Result<Response, ClientError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = read_limited(response, MAX_ERROR_BODY_BYTES, url)
            .await
            .unwrap_or_default();
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(error) => Err(ClientError::Station {
                status: status.as_u16(),
                error,
            }),
            Err(_) => Err(ClientError::UnexpectedStatus {
                status: status.as_u16(),
            }),
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let (response, url) = self.send(request).await?;
        let body = read_limited(response, MAX_BODY_BYTES, &url).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::InvalidResponse {
            detail: format!("{} {e}", url.path()),
        })
    }

    async fn call_text(&self, request: RequestBuilder) -> Result<String, ClientError> {
        let (response, url) = self.send(request).await?;
        let body = read_limited(response, MAX_BODY_BYTES, &url).await?;
        String::from_utf8(body).map_err(|_| ClientError::InvalidResponse {
            detail: format!("{} is not text", url.path()),
        })
    }

    async fn call_empty(&self, request: RequestBuilder) -> Result<(), ClientError> {
        let (response, url) = self.send(request).await?;
        if response.status() != StatusCode::NO_CONTENT {
            read_limited(response, MAX_BODY_BYTES, &url).await?;
        }
        Ok(())
    }
}

/// Reads a body up to `limit` bytes; a larger one is refused, not truncated.
async fn read_limited(
    mut response: Response,
    limit: usize,
    url: &reqwest::Url,
) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ClientError::transport(url, &e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(ClientError::InvalidResponse {
                detail: format!("{} answered with more than {limit} bytes", url.path()),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> StationClient {
        StationClient::new(StationTrust {
            url: url.into(),
            anchor: TrustAnchor::Fingerprint("00".repeat(32)),
        })
        .expect("client")
    }

    #[test]
    fn endpoints_percent_encode_identifiers_and_keep_a_base_path() {
        let c = client("https://127.0.0.1:8443");
        assert_eq!(
            c.endpoint(&["api", "devices", "ZM/../x y", "status"])
                .as_str(),
            "https://127.0.0.1:8443/api/devices/ZM%2F..%2Fx%20y/status"
        );
        let c = client("https://station.ward/cs/");
        assert_eq!(
            c.endpoint(&["api", "auth", "me"]).as_str(),
            "https://station.ward/cs/api/auth/me"
        );
    }

    #[test]
    fn plain_http_stations_are_refused() {
        let e = StationClient::new(StationTrust {
            url: "http://127.0.0.1:8443".into(),
            anchor: TrustAnchor::Fingerprint("00".repeat(32)),
        })
        .expect_err("http");
        assert_eq!(
            crate::error::UserFacing::code(&e),
            crate::error::ErrorCode::InvalidStationUrl
        );
    }
}
