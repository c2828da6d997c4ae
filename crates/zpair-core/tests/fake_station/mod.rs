//! A small Central Station for the client's tests: real HTTPS (rustls, ring)
//! on loopback with rcgen certificates, the auth endpoints with rotating
//! refresh tokens, and one scripted pairing job whose status stream can be
//! made to drop.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::api::{
    Account, ApiError, FailureReason, JobEvent, JobState, JobSummary, LoginRequest, PairAccepted,
    PairRequest, RefreshRequest, Role, Session,
};
use zpair_testkit::TlsServer;

/// The one account.
pub const USER: (&str, &str) = ("tech", "secret password");
/// The scripted job's ID.
pub const JOB_ID: &str = "job-1";

/// A CA and the station certificate it issued (or a self-signed one).
pub struct Pki {
    /// The CA certificate, PEM (for `TrustAnchor::CaPem`).
    pub ca_pem: String,
    /// The station's certificate, DER.
    pub station_der: CertificateDer<'static>,
    station_key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    /// A CA named `ca_name` and a certificate for 127.0.0.1 it signed.
    pub fn new(ca_name: &str) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let station_key = KeyPair::generate().expect("station key");
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "Central Station");
        let station = params
            .signed_by(&station_key, &issuer)
            .expect("station certificate");
        Self {
            ca_pem: ca_cert.pem(),
            station_der: station.der().clone(),
            station_key: PrivatePkcs8KeyDer::from(station_key.serialize_der()),
        }
    }

    /// SHA-256 of the station certificate, hex.
    pub fn station_fingerprint(&self) -> String {
        zpair_proto::crypto::sha256_hex(&self.station_der)
    }
}

/// How the station behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Lifetime of access tokens it issues.
    pub access_lifetime: time::Duration,
    /// The pairing job's steps, in order.
    pub job: Vec<(JobState, Option<FailureReason>)>,
    /// How many status subscriptions end after two events, without the end.
    pub drops: usize,
    /// Refuse pair requests with this status and code.
    pub refuse_pair: Option<(StatusCode, ErrorCode)>,
    /// Before its first event, a stream sends only keep-alive comments, this
    /// many, this far apart: a job waiting for its turn.
    pub keep_alives_first: (usize, Duration),
    /// Streams never send the job's last event, only keep-alive comments
    /// this far apart after the others (the event went astray); the job's
    /// summary has it.
    pub last_event_lost: Option<Duration>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            access_lifetime: time::Duration::minutes(15),
            job: vec![
                (JobState::Pairing, None),
                (JobState::Configuring, None),
                (JobState::Validating, None),
                (JobState::Provisioned, None),
            ],
            drops: 0,
            refuse_pair: None,
            keep_alives_first: (0, Duration::ZERO),
            last_event_lost: None,
        }
    }
}

#[derive(Default)]
struct Books {
    access: HashSet<String>,
    refresh: HashSet<String>,
    issued: u64,
    refreshes: u32,
    logouts: u32,
    subscriptions: usize,
    pair_requests: Vec<PairRequest>,
    events: Vec<JobEvent>,
}

struct Inner {
    behaviour: Behaviour,
    books: Mutex<Books>,
}

/// A running fake station.
pub struct FakeStation {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Inner>,
    /// Stops serving when the station is dropped.
    _server: TlsServer,
}

impl FakeStation {
    /// Serves on a fresh loopback port with `pki`'s station certificate.
    pub async fn start(pki: &Pki, behaviour: Behaviour) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_no_client_auth()
            .with_single_cert(
                vec![pki.station_der.clone()],
                PrivateKeyDer::Pkcs8(pki.station_key.clone_key()),
            )
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

        let inner = Arc::new(Inner {
            behaviour,
            books: Mutex::new(Books::default()),
        });
        let app = Router::new()
            .route("/healthz", get(|| async { StatusCode::OK }))
            .route("/api/auth/login", post(login))
            .route("/api/auth/refresh", post(refresh))
            .route("/api/auth/logout", post(logout))
            .route("/api/auth/me", get(me))
            .route("/api/provisioning/pair", post(pair))
            .route("/api/provisioning/jobs/{id}", get(job))
            .route("/api/provisioning/jobs/{id}/events", get(job_events))
            .with_state(inner.clone());

        let server = TlsServer::start(app, config);
        Self {
            url: server.url(),
            inner,
            _server: server,
        }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.inner.books()
    }

    /// Refresh calls so far.
    pub fn refreshes(&self) -> u32 {
        self.books().refreshes
    }

    /// Logout calls so far.
    pub fn logouts(&self) -> u32 {
        self.books().logouts
    }

    /// Whether any access or refresh token is still valid.
    pub fn any_token_valid(&self) -> bool {
        let books = self.books();
        !books.access.is_empty() || !books.refresh.is_empty()
    }

    /// Pair requests received.
    pub fn pair_requests(&self) -> Vec<PairRequest> {
        self.books().pair_requests.clone()
    }

    /// Status subscriptions opened.
    pub fn subscriptions(&self) -> usize {
        self.books().subscriptions
    }

    /// Forgets every access token, as after a station restart that lost them.
    pub fn revoke_access_tokens(&self) {
        self.books().access.clear();
    }

    /// Forgets every refresh token, as when an administrator ends sessions.
    pub fn revoke_refresh_tokens(&self) {
        self.books().refresh.clear();
    }
}

impl Inner {
    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn issue(&self) -> Session {
        let mut books = self.books();
        books.issued += 1;
        let access = format!("access-{}", books.issued);
        let refresh = format!("refresh-{}", books.issued);
        books.access.insert(access.clone());
        books.refresh.insert(refresh.clone());
        let now = OffsetDateTime::now_utc();
        Session {
            access_token: access.into(),
            access_expires_at: now + self.behaviour.access_lifetime,
            refresh_token: refresh.into(),
            refresh_expires_at: now + time::Duration::hours(12),
            account: account(),
        }
    }

    /// The 401 answer when the bearer token is missing or not valid.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match token {
            Some(t) if self.books().access.contains(t) => None,
            _ => Some(error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)),
        }
    }
}

fn account() -> Account {
    Account {
        username: USER.0.into(),
        display_name: "Test Technician".into(),
        role: Role::Technician,
        must_change_password: false,
    }
}

fn error(status: StatusCode, code: ErrorCode) -> Response {
    let body = ApiError {
        code,
        message: format!("station says {code}"),
    };
    (status, Json(body)).into_response()
}

type St = State<Arc<Inner>>;

async fn login(State(inner): St, Json(req): Json<LoginRequest>) -> Response {
    if (req.username.as_str(), req.password.expose().as_str()) != USER {
        return error(StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials);
    }
    Json(inner.issue()).into_response()
}

async fn refresh(State(inner): St, Json(req): Json<RefreshRequest>) -> Response {
    {
        let mut books = inner.books();
        books.refreshes += 1;
        // One use: the token is spent whether or not it was valid.
        if !books.refresh.remove(req.refresh_token.expose()) {
            return error(StatusCode::UNAUTHORIZED, ErrorCode::SessionExpired);
        }
    }
    Json(inner.issue()).into_response()
}

async fn logout(State(inner): St, headers: HeaderMap, Json(req): Json<RefreshRequest>) -> Response {
    if let Some(refused) = inner.refusal(&headers) {
        return refused;
    }
    let mut books = inner.books();
    books.logouts += 1;
    books.refresh.remove(req.refresh_token.expose());
    books.access.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn me(State(inner): St, headers: HeaderMap) -> Response {
    if let Some(refused) = inner.refusal(&headers) {
        return refused;
    }
    Json(account()).into_response()
}

async fn pair(State(inner): St, headers: HeaderMap, Json(req): Json<PairRequest>) -> Response {
    if let Some(refused) = inner.refusal(&headers) {
        return refused;
    }
    if let Some((status, code)) = inner.behaviour.refuse_pair {
        return error(status, code);
    }
    let at = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let events = inner
        .behaviour
        .job
        .iter()
        .enumerate()
        .map(|(i, (state, reason))| JobEvent {
            job_id: JOB_ID.into(),
            device_id: req.device_id.clone(),
            state: *state,
            reason: *reason,
            message: format!("step {i}: {}", state.as_str()),
            at,
        })
        .collect();
    let mut books = inner.books();
    books.events = events;
    books.pair_requests.push(req);
    (
        StatusCode::ACCEPTED,
        Json(PairAccepted {
            job_id: JOB_ID.into(),
            events_url: format!("/api/provisioning/jobs/{JOB_ID}/events"),
        }),
    )
        .into_response()
}

async fn job(State(inner): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refused) = inner.refusal(&headers) {
        return refused;
    }
    let books = inner.books();
    if id != JOB_ID || books.events.is_empty() {
        return error(StatusCode::NOT_FOUND, ErrorCode::UnknownJob);
    }
    // The job moved on while the stream was down: one step more than a
    // dropped stream showed. A job whose last event went astray on the
    // stream has it here.
    let known = if inner.behaviour.last_event_lost.is_some() {
        books.events.len()
    } else {
        3
    };
    let events: Vec<JobEvent> = books.events.iter().take(known).cloned().collect();
    let last = events.last().cloned();
    Json(JobSummary {
        job_id: JOB_ID.into(),
        device_id: last
            .as_ref()
            .map(|e| e.device_id.clone())
            .unwrap_or_default(),
        technician: USER.0.into(),
        state: last.as_ref().map_or(JobState::Pairing, |e| e.state),
        reason: last.and_then(|e| e.reason),
        events,
    })
    .into_response()
}

async fn job_events(State(inner): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refused) = inner.refusal(&headers) {
        return refused;
    }
    let (events, dropped) = {
        let mut books = inner.books();
        if id != JOB_ID || books.events.is_empty() {
            return error(StatusCode::NOT_FOUND, ErrorCode::UnknownJob);
        }
        let dropped = books.subscriptions < inner.behaviour.drops;
        books.subscriptions += 1;
        let events = if dropped {
            books.events.iter().take(2).cloned().collect()
        } else if inner.behaviour.last_event_lost.is_some() {
            books.events[..books.events.len() - 1].to_vec()
        } else {
            books.events.clone()
        };
        (events, dropped)
    };
    let mut text = String::from(": welcome\r\n\r\n");
    for event in &events {
        let json = serde_json::to_string(event).expect("event JSON");
        text.push_str(&format!(
            "event: status\r\nid: {}\r\ndata: {json}\r\n\r\n",
            event.state.as_str()
        ));
    }
    if dropped {
        // Cut mid-event, as a lost connection would.
        text.push_str("event: status\r\ndata: {\"jobId\":");
    }
    // Delivered in small pieces with pauses, so events span chunks.
    let pieces: Vec<Bytes> = text
        .into_bytes()
        .chunks(37)
        .map(Bytes::copy_from_slice)
        .collect();
    let (count, interval) = inner.behaviour.keep_alives_first;
    let keep_alives = std::iter::repeat_n(
        (Bytes::from_static(b": keep-alive\r\n\r\n"), interval),
        count,
    );
    let lost = inner
        .behaviour
        .last_event_lost
        .map(|interval| std::iter::repeat((Bytes::from_static(b": keep-alive\r\n\r\n"), interval)));
    let pieces = keep_alives
        .chain(pieces.into_iter().map(|p| (p, Duration::from_millis(2))))
        .chain(lost.into_iter().flatten());
    let stream = futures_util::stream::unfold(pieces, |mut rest| async move {
        let (piece, pause) = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, Infallible>(piece), rest))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
