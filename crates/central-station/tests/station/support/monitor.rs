//! A fake Z Monitor: the monitor side of the protocol (challenge, configure,
//! commit with an mTLS connection test, signed commands), served over TLS
//! with a self-signed Ed25519 certificate made from its identity key — enough
//! to drive the station's pairing job end to end without the real simulator.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use zpair_proto::ErrorCode;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::task::JoinHandle;
use tower::ServiceExt as _;
use zpair_proto::api::ApiError;
use zpair_proto::config::{ConfigurationPayload, SignedConfiguration};
use zpair_proto::crypto::{self, HpkeKeyPair, Sealed};
use zpair_proto::device::{
    ChallengeRequest, ChallengeResponse, CommandKind, CommitRequest, ConfigureRequest,
    ConfigureResponse, DeviceCommand, Heartbeat, MonitorState,
};
use zpair_proto::{PairingCode, b64, canonical};

/// What the monitor committed.
#[derive(Debug, Clone)]
pub struct Committed {
    pub configuration: ConfigurationPayload,
    pub key_pem: String,
}

impl Committed {
    /// Its client certificate's serial, lowercase hex.
    pub fn serial(&self) -> String {
        use rustls::pki_types::pem::PemObject as _;
        let der = rustls::pki_types::CertificateDer::from_pem_slice(
            self.configuration.client_certificate.as_bytes(),
        )
        .expect("certificate PEM");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("certificate");
        zpair_proto::hex::encode(cert.raw_serial())
    }
}

struct Session {
    challenge: Vec<u8>,
    key_pem: String,
    hpke: HpkeKeyPair,
}

#[derive(Default)]
struct Inner {
    code: Option<PairingCode>,
    tokens: Vec<[u8; 16]>,
    station_key: Option<VerifyingKey>,
    session: Option<Session>,
    staged: Option<Committed>,
    committed: Option<Committed>,
    commands: Vec<CommandKind>,
    challenges: usize,
}

struct Shared {
    device_id: String,
    identity: SigningKey,
    inner: Mutex<Inner>,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("monitor state")
    }
}

/// A running fake monitor.
pub struct FakeMonitor {
    pub device_id: String,
    pub identity: SigningKey,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

fn refuse(status: StatusCode, code: ErrorCode) -> Response {
    (
        status,
        Json(ApiError {
            code,
            message: String::new(),
        }),
    )
        .into_response()
}

impl FakeMonitor {
    /// Listens on `ip:port` (port 0 picks one).
    pub async fn start(device_id: &str, ip: IpAddr, port: u16) -> Self {
        let identity = crypto::generate_signing_key().expect("identity");
        let pkcs8 = identity.to_pkcs8_der().expect("pkcs8");
        let key_pair = rcgen::KeyPair::try_from(pkcs8.as_bytes()).expect("rcgen key");
        let cert = rcgen::CertificateParams::new(vec![ip.to_string()])
            .expect("params")
            .self_signed(&key_pair)
            .expect("self-signed");
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.as_bytes().to_vec())),
        )
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind((ip, port))
            .await
            .expect("monitor binds");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            device_id: device_id.into(),
            identity: identity.clone(),
            inner: Mutex::new(Inner::default()),
        });
        let router = Router::new()
            .route("/provisioning/challenge", post(challenge))
            .route("/provisioning/configure", post(configure))
            .route("/provisioning/commit", post(commit))
            .route("/provisioning/command", post(command))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, router) = (acceptor.clone(), router.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            router.clone().oneshot(req)
                        },
                    );
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            device_id: device_id.into(),
            identity,
            addr,
            shared,
            task,
        }
    }

    /// Trusts configurations and commands signed by this key.
    pub fn trust(&self, station_key: &str) {
        self.shared.inner().station_key =
            Some(crypto::parse_public_key(station_key).expect("station key"));
    }

    /// Enters provisioning mode: a fresh code and a first QR token.
    pub fn enter_provisioning(&self) -> (String, String) {
        let code = PairingCode::generate().expect("code");
        let token = crypto::random_bytes::<16>().expect("token");
        let mut inner = self.shared.inner();
        inner.code = Some(code.clone());
        inner.tokens = vec![token];
        (code.display(), b64::encode(token))
    }

    pub fn committed(&self) -> Option<Committed> {
        self.shared.inner().committed.clone()
    }

    /// The configuration the monitor committed after `previous` (a serial),
    /// waiting for it: the station records PROVISIONED on the proof of
    /// commit, and the monitor commits when that answer arrives, a moment
    /// after the job's last event.
    pub async fn await_commit(&self, previous: Option<&str>) -> Committed {
        for _ in 0..100 {
            if let Some(c) = self
                .committed()
                .filter(|c| Some(c.serial().as_str()) != previous)
            {
                return c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the monitor did not commit a new configuration");
    }

    pub fn staged(&self) -> bool {
        self.shared.inner().staged.is_some()
    }

    pub fn challenges(&self) -> usize {
        self.shared.inner().challenges
    }

    pub fn commands(&self) -> Vec<CommandKind> {
        self.shared.inner().commands.clone()
    }

    /// The registration record, pointing at this monitor's address.
    pub fn record(&self) -> zpair_proto::device::RegistrationRecord {
        super::record(&self.device_id, &self.identity, &self.addr.ip().to_string())
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for FakeMonitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn challenge(State(m): State<Arc<Shared>>, Json(req): Json<ChallengeRequest>) -> Response {
    if req.device_id != m.device_id {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest);
    }
    if m.inner().code.is_none() {
        return refuse(StatusCode::CONFLICT, ErrorCode::NotInProvisioningMode);
    }
    let Ok(challenge) = b64::decode(&req.challenge) else {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest);
    };
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("TLS key");
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, m.device_id.as_str());
    let csr_pem = params
        .serialize_request(&key)
        .expect("CSR")
        .pem()
        .expect("PEM");
    let hpke = HpkeKeyPair::generate().expect("HPKE");
    let signature = crypto::sign(
        &m.identity,
        &canonical::challenge_response(&m.device_id, &challenge, &csr_pem, &hpke.public),
    );
    let answer = ChallengeResponse {
        device_id: m.device_id.clone(),
        csr_pem,
        hpke_public_key: b64::encode(hpke.public),
        signature,
    };
    let mut inner = m.inner();
    inner.challenges += 1;
    inner.session = Some(Session {
        challenge,
        key_pem: key.serialize_pem(),
        hpke,
    });
    Json(answer).into_response()
}

async fn configure(State(m): State<Arc<Shared>>, Json(req): Json<ConfigureRequest>) -> Response {
    let mut inner = m.inner();
    let Some(code) = inner.code.clone() else {
        return refuse(StatusCode::CONFLICT, ErrorCode::NotInProvisioningMode);
    };
    let Some(session) = inner
        .session
        .as_ref()
        .filter(|s| b64::encode(&s.challenge) == req.challenge)
    else {
        return refuse(StatusCode::CONFLICT, ErrorCode::NotInProvisioningMode);
    };
    let token = match &req.token_id {
        None => None,
        Some(id) => match inner
            .tokens
            .iter()
            .find(|t| crypto::token_id(&t[..]) == *id)
        {
            Some(t) => Some(*t),
            None => return refuse(StatusCode::CONFLICT, ErrorCode::TokenStale),
        },
    };
    let key = crypto::pairing_key(&code, token.as_ref().map(|t| &t[..]));
    if !crypto::verify_pairing_proof(&key, &m.device_id, &session.challenge, &req.proof) {
        return refuse(StatusCode::FORBIDDEN, ErrorCode::CodeMismatch);
    }
    let sealed = Sealed {
        encapped_key: b64::decode(&req.encapped_key).unwrap_or_default(),
        ciphertext: b64::decode(&req.ciphertext).unwrap_or_default(),
    };
    let Ok(plain) = session.hpke.open(&m.device_id, &sealed) else {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::SignatureInvalid);
    };
    let Ok(signed) = serde_json::from_slice::<SignedConfiguration>(&plain) else {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::SignatureInvalid);
    };
    let trusted = inner
        .station_key
        .is_some_and(|k| crypto::verify_configuration(&k, &signed).is_ok());
    if !trusted || signed.configuration.device_id != m.device_id {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::SignatureInvalid);
    }
    let key_pem = session.key_pem.clone();
    inner.staged = Some(Committed {
        configuration: signed.configuration,
        key_pem,
    });
    Json(ConfigureResponse {
        state: MonitorState::TestingConnection,
    })
    .into_response()
}

/// The monitor's connection test: an mTLS heartbeat with the new certificate.
async fn connection_test(staged: &Committed) -> bool {
    use rustls::pki_types::pem::PemObject as _;
    let c = &staged.configuration;
    let mut roots = rustls::RootCertStore::empty();
    let Ok(ca) = rustls::pki_types::CertificateDer::from_pem_slice(c.ca_certificate.as_bytes())
    else {
        return false;
    };
    if roots.add(ca).is_err() {
        return false;
    }
    let chain = vec![
        rustls::pki_types::CertificateDer::from_pem_slice(c.client_certificate.as_bytes())
            .expect("cert"),
    ];
    let key = PrivateKeyDer::from_pem_slice(staged.key_pem.as_bytes()).expect("key");
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client auth");
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("client");
    let beat = Heartbeat {
        uptime_seconds: 1,
        bytes_sent: 0,
        errors: 0,
        firmware_version: "1.2.3".into(),
        connection_test: true,
    };
    client
        .post(format!("{}/api/devices/heartbeat", c.server_url))
        .json(&beat)
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::NO_CONTENT)
}

async fn commit(State(m): State<Arc<Shared>>, Json(req): Json<CommitRequest>) -> Response {
    if req.device_id != m.device_id {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest);
    }
    let Some(staged) = m.inner().staged.clone() else {
        return refuse(StatusCode::CONFLICT, ErrorCode::NotInProvisioningMode);
    };
    if !connection_test(&staged).await {
        m.inner().staged = None;
        return refuse(StatusCode::BAD_GATEWAY, ErrorCode::ConnectionTestFailed);
    }
    let mut inner = m.inner();
    inner.committed = inner.staged.take();
    inner.code = None;
    inner.tokens.clear();
    inner.session = None;
    Json(ConfigureResponse {
        state: MonitorState::Provisioned,
    })
    .into_response()
}

async fn command(State(m): State<Arc<Shared>>, Json(cmd): Json<DeviceCommand>) -> Response {
    let mut inner = m.inner();
    let verified = inner.station_key.is_some_and(|k| {
        crypto::verify(&k, &canonical::device_command(&cmd), &cmd.signature).is_ok()
    });
    if !verified || cmd.device_id != m.device_id {
        return refuse(StatusCode::BAD_REQUEST, ErrorCode::SignatureInvalid);
    }
    inner.commands.push(cmd.command);
    Json(serde_json::json!({})).into_response()
}
