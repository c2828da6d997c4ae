//! The station's side of the exchange, played with zpair_proto and rcgen: a
//! device CA made here, a provisioning key, a tiny mTLS heartbeat endpoint
//! standing in for the Central Station, and an HTTPS client that pins the
//! monitor's certificate to its registered identity key.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zpair_proto::ErrorCode;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use bedside_monitor::{Monitor, MonitorConfig};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use zpair_proto::api::ApiError;
use zpair_proto::config::{ConfigurationPayload, SignedConfiguration};
use zpair_proto::crypto::{self, SigningKey};
use zpair_proto::device::{
    ChallengeRequest, ChallengeResponse, CommandKind, CommitRequest, ConfigureRequest,
    DeviceCommand, Heartbeat, RegistrationRecord,
};
use zpair_proto::{PairingCode, b64, canonical};
use zpair_testkit::TlsServer;
use zpair_tls::{PinnedServer, ServerCheck};

/// The fail-safe window the test station arms: short, so a rollback
/// happens within a test.
pub const FAIL_SAFE_SECONDS: u32 = 2;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A monitor for tests: its own temp folder, loopback, any free port, short timers.
pub async fn start_monitor(dir: &Path, device_id: &str, station: &Station) -> Monitor {
    let monitor = Monitor::start(monitor_config(dir, device_id))
        .await
        .expect("monitor starts");
    monitor
        .trust_station(&station.public_key())
        .expect("trust station");
    monitor
}

/// The configuration [`start_monitor`] uses.
pub fn monitor_config(dir: &Path, device_id: &str) -> MonitorConfig {
    let mut config = MonitorConfig::new(dir, device_id, IpAddr::V4(Ipv4Addr::LOCALHOST));
    config.port = 0;
    config.heartbeat_interval = Duration::from_millis(200);
    config
}

/// The stand-in Central Station: CA, provisioning key, heartbeat endpoint.
pub struct Station {
    pub ca_key: KeyPair,
    pub ca_params: CertificateParams,
    pub ca_pem: String,
    pub key: SigningKey,
    pub url: String,
    pub heartbeats: Arc<Mutex<Vec<Heartbeat>>>,
    /// Stops serving when the station is dropped.
    _server: TlsServer,
}

impl Station {
    /// Makes a CA and starts the mTLS heartbeat endpoint on 127.0.0.1.
    pub async fn start() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Test Device CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "Test Central Station");
        let server_cert = server_params
            .signed_by(&server_key, &Issuer::from_params(&ca_params, &ca_key))
            .expect("server cert");

        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).expect("root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .expect("client verifier");
        let tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![server_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .expect("server config");

        let heartbeats = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/api/devices/heartbeat", post(heartbeat))
            .with_state(heartbeats.clone());
        let server = TlsServer::start(app, tls);
        Self {
            ca_key,
            ca_params,
            ca_pem: ca_cert.pem(),
            key: crypto::generate_signing_key().expect("station key"),
            url: server.url(),
            heartbeats,
            _server: server,
        }
    }

    /// The provisioning key monitors trust, base64url.
    pub fn public_key(&self) -> String {
        crypto::public_key_text(&self.key.verifying_key())
    }

    /// Issues a client certificate from a monitor's CSR, as the station does.
    pub fn issue(&self, csr_pem: &str) -> String {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).expect("CSR");
        csr.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        csr.signed_by(&Issuer::from_params(&self.ca_params, &self.ca_key))
            .expect("issue")
            .pem()
    }

    /// Issues a certificate named `device_id` for a key the monitor never made.
    pub fn issue_for_another_key(&self, device_id: &str) -> String {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, device_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params
            .signed_by(&key, &Issuer::from_params(&self.ca_params, &self.ca_key))
            .expect("issue")
            .pem()
    }

    /// The configuration the station would push to `device_id`.
    pub fn configuration(
        &self,
        device_id: &str,
        client_certificate: String,
    ) -> ConfigurationPayload {
        let now = OffsetDateTime::now_utc();
        ConfigurationPayload {
            server_url: self.url.clone(),
            ca_certificate: self.ca_pem.clone(),
            client_certificate,
            device_id: device_id.to_owned(),
            device_label: format!("LABEL-{device_id}"),
            bed_id: format!("BED-{device_id}"),
            timestamp: now,
            expires_at: now + zpair_proto::config::CONFIGURATION_LIFETIME,
        }
    }

    /// A command to `device_id` signed with the station key.
    pub fn command(
        &self,
        device_id: &str,
        kind: CommandKind,
        issued_at: OffsetDateTime,
    ) -> DeviceCommand {
        let mut command = DeviceCommand {
            device_id: device_id.to_owned(),
            command: kind,
            issued_at,
            nonce: b64::encode(crypto::random_bytes::<16>().expect("nonce")),
            signature: String::new(),
        };
        command.signature = crypto::sign(&self.key, &canonical::device_command(&command));
        command
    }

    /// Heartbeats received so far.
    pub fn received(&self) -> Vec<Heartbeat> {
        self.heartbeats.lock().expect("lock").clone()
    }
}

async fn heartbeat(
    State(heartbeats): State<Arc<Mutex<Vec<Heartbeat>>>>,
    axum::Json(beat): axum::Json<Heartbeat>,
) -> StatusCode {
    heartbeats.lock().expect("lock").push(beat);
    StatusCode::NO_CONTENT
}

/// What the station holds about one monitor, and its HTTPS client to it.
pub struct Push {
    pub record: RegistrationRecord,
    base: String,
    client: reqwest::Client,
    /// Signs every request, as the station does with its provisioning key.
    key: SigningKey,
}

/// A monitor's answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    /// The error code of a refusal.
    pub fn code(&self) -> ErrorCode {
        serde_json::from_value::<ApiError>(self.body.clone())
            .map(|e| e.code)
            .unwrap_or(ErrorCode::Unrecognised)
    }
}

/// What one challenge gave the station.
pub struct Challenged {
    pub challenge: [u8; 32],
    pub response: ChallengeResponse,
}

impl Push {
    /// A client to `monitor` that trusts only its registered identity key
    /// and signs with `key` (the station's: `&station.key`).
    pub fn to(monitor: &Monitor, signing_key: &SigningKey) -> Self {
        let record = monitor.registration_record();
        let key = crypto::parse_public_key(&record.identity_public_key).expect("registered key");
        let tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer::new(
                ServerCheck::Ed25519Key {
                    key: key.to_bytes(),
                    mismatch: None,
                },
                &provider(),
            )))
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            record,
            base: format!("https://{}", monitor.local_addr()),
            client,
            key: signing_key.clone(),
        }
    }

    /// POSTs `body` to `path` with no signature at all.
    pub async fn post_unsigned<T: serde::Serialize>(&self, path: &str, body: &T) -> Answer {
        let request = self.client.post(format!("{}{path}", self.base)).json(body);
        Self::answer(request).await
    }

    /// POSTs `body` to `path`, signed.
    pub async fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Answer {
        Self::answer(self.signed(path, body)).await
    }

    /// POSTs the same signed request twice, as a replaying host would.
    pub async fn post_twice<T: serde::Serialize>(&self, path: &str, body: &T) -> (Answer, Answer) {
        let request = self.signed(path, body);
        let again = request.try_clone().expect("a request with a byte body");
        (Self::answer(request).await, Self::answer(again).await)
    }

    fn signed<T: serde::Serialize>(&self, path: &str, body: &T) -> reqwest::RequestBuilder {
        let body = serde_json::to_vec(body).expect("json");
        let signed = crypto::sign_station_request(
            &self.key,
            &self.record.device_id,
            "POST",
            path,
            &body,
            time::OffsetDateTime::now_utc(),
        )
        .expect("sign");
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        request
    }

    async fn answer(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the monitor answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        Answer { status, body }
    }

    /// Step 1: a fresh challenge; the answer's signature is checked against the registry key.
    pub async fn challenge(&self) -> Result<Challenged, Answer> {
        let challenge = crypto::random_bytes::<32>().expect("challenge");
        let answer = self
            .post(
                "/provisioning/challenge",
                &ChallengeRequest {
                    device_id: self.record.device_id.clone(),
                    challenge: b64::encode(challenge),
                },
            )
            .await;
        if answer.status != 200 {
            return Err(answer);
        }
        let response: ChallengeResponse =
            serde_json::from_value(answer.body).expect("challenge response");
        let key = crypto::parse_public_key(&self.record.identity_public_key).expect("key");
        let hpke = b64::decode(&response.hpke_public_key).expect("hpke key");
        crypto::verify(
            &key,
            &canonical::challenge_response(
                &self.record.device_id,
                &challenge,
                &response.csr_pem,
                &hpke,
            ),
            &response.signature,
        )
        .expect("the challenge response is signed by the registered identity key");
        Ok(Challenged {
            challenge,
            response,
        })
    }

    /// Step 2 with a signed configuration, proven with `code` (and `token`).
    pub async fn configure(
        &self,
        challenged: &Challenged,
        code: &PairingCode,
        token: Option<&[u8]>,
        signed: &SignedConfiguration,
    ) -> Answer {
        let hpke = b64::decode(&challenged.response.hpke_public_key).expect("hpke key");
        let plaintext = serde_json::to_vec(signed).expect("json");
        let sealed = crypto::seal(&hpke, &self.record.device_id, &plaintext).expect("seal");
        let key = crypto::pairing_key(code, token);
        let request = ConfigureRequest {
            device_id: self.record.device_id.clone(),
            challenge: b64::encode(challenged.challenge),
            token_id: token.map(crypto::token_id),
            proof: crypto::pairing_proof(&key, &self.record.device_id, &challenged.challenge),
            encapped_key: b64::encode(&sealed.encapped_key),
            ciphertext: b64::encode(&sealed.ciphertext),
            fail_safe_seconds: FAIL_SAFE_SECONDS,
        };
        self.post("/provisioning/configure", &request).await
    }

    /// Step 3.
    pub async fn commit(&self, challenged: &Challenged) -> Answer {
        self.post(
            "/provisioning/commit",
            &CommitRequest {
                device_id: self.record.device_id.clone(),
                challenge: b64::encode(challenged.challenge),
            },
        )
        .await
    }

    /// The whole exchange as the station runs it, with the code and token a
    /// technician scanned; answers of configure and commit.
    pub async fn pair(
        &self,
        station: &Station,
        code: &PairingCode,
        token: Option<&[u8]>,
    ) -> (Answer, Option<Answer>) {
        let challenged = match self.challenge().await {
            Ok(c) => c,
            Err(answer) => return (answer, None),
        };
        let certificate = station.issue(&challenged.response.csr_pem);
        let signed = crypto::sign_configuration(
            &station.key,
            station.configuration(&self.record.device_id, certificate),
        );
        let configured = self.configure(&challenged, code, token, &signed).await;
        if configured.status != 200 {
            return (configured, None);
        }
        let committed = self.commit(&challenged).await;
        (configured, Some(committed))
    }
}

/// The code and current token on a monitor's screen, as a camera reads them.
pub fn scan(monitor: &Monitor) -> (PairingCode, Vec<u8>) {
    let screen = monitor.screen().expect("the monitor shows a QR");
    let token = b64::decode(&screen.payload.pairing_token).expect("token");
    (screen.code, token)
}

/// A code that is not `code`.
pub fn other_code(code: &PairingCode) -> PairingCode {
    let other = if code.display() == "ABC-DEF-GHJ" {
        "ABC-DEF-GHK"
    } else {
        "ABC-DEF-GHJ"
    };
    PairingCode::parse(other).expect("valid")
}

pub use zpair_testkit::eventually;
