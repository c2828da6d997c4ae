//! Fixtures: a real station on 127.0.0.1:0 in a temp dir with a technician
//! and an administrator, an HTTPS client that trusts only its CA, and a fake
//! monitor speaking the monitor side of the protocol.

pub mod logs;
pub mod monitor;
pub mod schema;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use zpair_proto::ErrorCode;

use central_station::db::{Database, Direct};
use central_station::{Station, StationConfig, admin};
use reqwest::{Method, StatusCode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use zpair_proto::api::{ApiError, DeviceImport, JobEvent, Role, Session};
use zpair_proto::device::RegistrationRecord;

pub const TECH: (&str, &str) = ("tech", "correct horse battery staple");
pub const TECH2: (&str, &str) = ("tech2", "another horse battery staple");
pub const ADMIN: (&str, &str) = ("admin", "admin staple battery horse");

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

/// A change to the configuration before the station starts.
type Configure = Box<dyn FnOnce(&mut StationConfig)>;

/// Whether the suite runs on PostgreSQL (`ZPAIR_TEST_POSTGRES` set).
pub fn on_postgres() -> bool {
    std::env::var_os("ZPAIR_TEST_POSTGRES").is_some()
}

/// The database of a new test station: the SQLite file in its data
/// directory, or with `ZPAIR_TEST_POSTGRES` set a fresh database of its own
/// on the shared throwaway PostgreSQL server. A station keeps its database
/// (in its configuration) across restarts.
fn test_database() -> Database {
    if on_postgres() {
        postgres_database()
    } else {
        Database::File
    }
}

/// A fresh database of its own on the shared throwaway PostgreSQL server.
fn postgres_database() -> Database {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "station_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let url = zpair_testkit::postgres::Cluster::shared()
        .create_database(&name)
        .expect("a database on the throwaway PostgreSQL server");
    Database::Postgres {
        url,
        connections: 2,
        ca: None,
    }
}

/// Runs `f` on a thread of its own and waits for it: for the offline admin
/// commands, whose PostgreSQL client blocks and must not run on the test's
/// async runtime.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// How to start a [`TestStation`].
pub struct Builder {
    dir: TempDir,
    configure: Vec<Configure>,
    postgres: bool,
    database: Option<Database>,
}

impl Builder {
    /// Changes the station's configuration before it starts.
    pub fn with_config(mut self, f: impl FnOnce(&mut StationConfig) + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// On PostgreSQL whatever the suite runs on: for what only several
    /// instances sharing one PostgreSQL database do.
    pub fn postgres(mut self) -> Self {
        self.postgres = true;
        self
    }

    /// On this database, whatever the suite runs on.
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Monitors are reached on this port.
    pub fn monitor_port(self, port: u16) -> Self {
        self.with_config(move |c| c.monitor_port = port)
    }

    pub async fn start(self) -> TestStation {
        let path = self.dir.path().join("station");
        let database = match self.database {
            Some(database) => database,
            None if self.postgres => postgres_database(),
            None => test_database(),
        };
        off_runtime(|| {
            for (user, name, role) in [
                (TECH, "Test Technician", Role::Technician),
                (TECH2, "Second Technician", Role::Technician),
                (ADMIN, "Test Administrator", Role::Administrator),
            ] {
                admin::create_user(&path, &database, user.0, name, role, user.1).expect("account");
            }
        });
        let mut config = StationConfig::new(path, SocketAddr::from(([127, 0, 0, 1], 0)));
        config.database = database;
        config.heartbeat_interval = Duration::from_millis(300);
        config.monitor_port = closed_port();
        // Retries of an unreachable monitor, without keeping tests waiting.
        config.monitor_retry.backoff = Duration::from_millis(20);
        for f in self.configure {
            f(&mut config);
        }
        let station = Station::start(config.clone())
            .await
            .expect("station starts");
        TestStation {
            _dir: Arc::new(self.dir),
            config,
            station: Some(station),
        }
    }
}

/// A running station and its data directory.
pub struct TestStation {
    /// Shared by the instances on one data directory.
    _dir: Arc<TempDir>,
    pub config: StationConfig,
    station: Option<Station>,
}

/// An answer: status and body text.
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error code of an error answer.
    pub fn code(&self) -> ErrorCode {
        self.json::<ApiError>().code
    }
}

impl TestStation {
    pub fn builder() -> Builder {
        Builder {
            dir: tempfile::tempdir().expect("temp dir"),
            configure: Vec::new(),
            postgres: false,
            database: None,
        }
    }

    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Another instance on the same data directory (keys) and database,
    /// named `instance_id`, on a port of its own.
    pub async fn another_instance(&self, instance_id: &str) -> TestStation {
        let mut config = self.config.clone();
        config.instance_id = instance_id.to_owned();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let station = Station::start(config.clone())
            .await
            .expect("another instance starts");
        TestStation {
            _dir: Arc::clone(&self._dir),
            config,
            station: Some(station),
        }
    }

    pub fn station(&self) -> &Station {
        self.station.as_ref().expect("running")
    }

    /// Stops the station and starts it again on the same data.
    pub async fn restart(&mut self) {
        if let Some(station) = self.station.take() {
            station.shutdown().await;
        }
        self.station = Some(Station::start(self.config.clone()).await.expect("restart"));
    }

    pub async fn stop(&mut self) {
        if let Some(station) = self.station.take() {
            station.shutdown().await;
        }
    }

    pub async fn start_again(&mut self) {
        self.station = Some(
            Station::start(self.config.clone())
                .await
                .expect("start again"),
        );
    }

    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.station().ca_certificate_pem().as_bytes())
            .expect("CA");
        roots.add(ca).expect("root");
        roots
    }

    pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A client that trusts only the station's CA.
    pub fn client(&self) -> reqwest::Client {
        self.client_builder().build().expect("client")
    }

    /// A client whose connections come from `source` (any 127.x.y.z works on Linux).
    pub fn client_from(&self, source: std::net::IpAddr) -> reqwest::Client {
        self.client_builder()
            .local_address(source)
            .build()
            .expect("client")
    }

    fn client_builder(&self) -> reqwest::ClientBuilder {
        let tls = rustls::ClientConfig::builder_with_provider(Self::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
    }

    /// A client presenting a client certificate.
    pub fn mtls_client(&self, cert_pem: &str, key_pem: &str) -> reqwest::Client {
        let chain = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert")];
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
        let tls = rustls::ClientConfig::builder_with_provider(Self::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(self.roots())
            .with_client_auth_cert(chain, key)
            .expect("client auth");
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .build()
            .expect("client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.station().url())
    }

    /// Sends a request with an optional bearer and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Answer {
        self.call_with(&self.client(), method, path, bearer, body)
            .await
    }

    pub async fn call_with(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Answer {
        let mut request = client.request(method, self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        Answer {
            status,
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Answer {
        self.call(Method::GET, path, Some(bearer), None::<&()>)
            .await
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: &impl Serialize) -> Answer {
        self.call(Method::POST, path, bearer, Some(body)).await
    }

    /// A monitor's heartbeat ([`beat`]) over `client`, its mTLS connection.
    pub async fn heartbeat_with(&self, client: &reqwest::Client) -> Answer {
        self.call_with(
            client,
            Method::POST,
            "/api/devices/heartbeat",
            None,
            Some(&beat()),
        )
        .await
    }

    /// The revocation list the station publishes, PEM, as served.
    pub async fn crl(&self) -> Vec<u8> {
        self.client()
            .get(self.url("/api/ca/crl"))
            .send()
            .await
            .expect("crl")
            .bytes()
            .await
            .expect("crl body")
            .to_vec()
    }

    /// The serials the station's published revocation list names, as the
    /// station stores them (lowercase hex).
    pub async fn revoked_serials(&self) -> Vec<String> {
        use rustls::pki_types::CertificateRevocationListDer;
        let pem = self.crl().await;
        let der = CertificateRevocationListDer::from_pem_slice(&pem).expect("CRL PEM");
        let (_, crl) = x509_parser::parse_x509_crl(&der).expect("CRL");
        crl.iter_revoked_certificates()
            .map(|r| zpair_proto::hex::encode(r.raw_serial()))
            .collect()
    }

    pub async fn try_login(&self, (username, password): (&str, &str)) -> Answer {
        self.post(
            "/api/auth/login",
            None,
            &serde_json::json!({ "username": username, "password": password }),
        )
        .await
    }

    pub async fn login(&self, account: (&str, &str)) -> Session {
        let answer = self.try_login(account).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.json()
    }

    pub async fn token(&self, account: (&str, &str)) -> String {
        self.login(account).await.access_token.into_inner()
    }

    /// Registers a monitor through the API, as an administrator.
    pub async fn register(&self, record: &RegistrationRecord) {
        let admin = self.token(ADMIN).await;
        let import = DeviceImport {
            record: record.clone(),
            device_label: Some(format!("LABEL-{}", record.device_id)),
            bed_id: Some(format!("BED-{}", record.device_id)),
        };
        let answer = self.post("/api/devices", Some(&admin), &import).await;
        assert!(answer.status.is_success(), "{}", answer.body);
    }

    /// Asks for a step-up confirmation to re-provision `device_id`, in the
    /// sign-in of `bearer`.
    pub async fn step_up(&self, bearer: &str, password: &str, device_id: &str) -> Answer {
        self.post(
            "/api/auth/step-up",
            Some(bearer),
            &serde_json::json!({ "password": password, "deviceId": device_id, "action": "reprovision" }),
        )
        .await
    }

    /// A step-up confirmation of [`TECH`] to re-provision `device_id`.
    pub async fn confirmation(&self, bearer: &str, device_id: &str) -> String {
        let answer = self.step_up(bearer, TECH.1, device_id).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer
            .json::<zpair_proto::api::StepUpResponse>()
            .confirmation_token
            .into_inner()
    }

    /// `POST /api/devices/{id}/reprovision`.
    pub async fn reprovision(&self, bearer: &str, device_id: &str, confirmation: &str) -> Answer {
        self.post(
            &format!("/api/devices/{device_id}/reprovision"),
            Some(bearer),
            &serde_json::json!({ "confirmationToken": confirmation, "reason": "moved to ICU-2" }),
        )
        .await
    }

    /// Every event of a job's SSE stream, until it ends.
    pub async fn job_events(&self, job_id: &str, bearer: &str) -> Vec<JobEvent> {
        let response = self
            .client()
            .get(self.url(&format!("/api/provisioning/jobs/{job_id}/events")))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"))
        );
        let text = tokio::time::timeout(Duration::from_secs(60), response.text())
            .await
            .expect("the stream ends after a terminal event")
            .expect("stream body");
        parse_sse(&text)
    }

    /// Audit rows of a device, straight from the database: (event_type, success, error, actor).
    pub fn audit(&self, device_id: &str) -> Vec<(String, bool, Option<String>, Option<String>)> {
        self.sql()
            .query_map(
                "SELECT event_type, success, error_message, actor FROM provisioning_events
                 WHERE device_id = ?1 ORDER BY id",
                [device_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("audit rows")
    }

    /// The station's database, opened directly (as an auditor or a crash would see it).
    pub fn sql(&self) -> Direct {
        Direct::open(&self.config.data_dir, &self.config.database).expect("db")
    }
}

/// The `data:` JSON of every `event: status` in an SSE body.
pub fn parse_sse(text: &str) -> Vec<JobEvent> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: status"))
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|data| serde_json::from_str(data).expect("JobEvent JSON"))
        .collect()
}

/// A heartbeat as a monitor sends it.
pub fn beat() -> zpair_proto::device::Heartbeat {
    zpair_proto::device::Heartbeat {
        uptime_seconds: 5,
        bytes_sent: 10,
        errors: 0,
        firmware_version: "1.2.3".into(),
        connection_test: false,
    }
}

/// A registration record for a new identity key.
pub fn record(
    device_id: &str,
    identity: &ed25519_dalek::SigningKey,
    ip: &str,
) -> RegistrationRecord {
    RegistrationRecord {
        device_id: device_id.into(),
        device_serial: format!("SN-{device_id}"),
        identity_public_key: zpair_proto::crypto::public_key_text(&identity.verifying_key()),
        firmware_version: "1.2.3".into(),
        ip_address: Some(ip.into()),
    }
}

/// A station with one fake monitor paired through it to PROVISIONED (the
/// technician's pair request, the whole job): the station, the monitor and
/// the job's ID.
pub async fn paired_through_the_station(
    device_id: &str,
) -> (TestStation, monitor::FakeMonitor, String) {
    paired_through_a_station_with(device_id, |_| {}).await
}

/// The same, on a station configured by `configure`.
pub async fn paired_through_a_station_with(
    device_id: &str,
    configure: impl FnOnce(&mut StationConfig) + 'static,
) -> (TestStation, monitor::FakeMonitor, String) {
    let monitor =
        monitor::FakeMonitor::start(device_id, std::net::Ipv4Addr::LOCALHOST.into(), 0).await;
    let station = TestStation::builder()
        .with_config(configure)
        .monitor_port(monitor.addr.port())
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    station.register(&monitor.record()).await;
    let (code, token) = monitor.enter_provisioning();
    let tech = station.token(TECH).await;
    let accepted: zpair_proto::api::PairAccepted = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &serde_json::json!({ "deviceId": device_id, "pairingCode": code, "pairingToken": token }),
        )
        .await
        .json();
    let events = station.job_events(&accepted.job_id, &tech).await;
    assert_eq!(
        events.last().map(|e| e.state),
        Some(zpair_proto::api::JobState::Provisioned)
    );
    (station, monitor, accepted.job_id)
}

pub use zpair_testkit::eventually;

/// A minimal RFC 4180 reader (CRLF line ends): rows of cells.
pub fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the last line ends with CRLF"
    );
    rows
}
