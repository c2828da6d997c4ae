//! Fixtures for the cross-component tests: a real Central Station (HTTPS,
//! SQLite) and real simulated monitors, each on its own loopback address,
//! driven through the same `zpair-core` client the app and the CLI use.

pub mod agreement;
pub mod balancer;
pub mod fault_proxy;
pub mod sockets;
pub mod swarm;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bedside_monitor::{Monitor, MonitorConfig};
use central_station::db::{Database, Direct, OptionalExtension as _};
use central_station::{Station, StationConfig, params};
use tempfile::TempDir;
use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_core::pairing::{PairTarget, PairingOutcome};
use zpair_core::secret_store::MemorySecretStore;
use zpair_core::session::TechnicianSession;
use zpair_proto::api::{DeviceImport, FailureReason, JobState, Role};
use zpair_proto::{PairingCode, QrPayload};

use crate::fault_proxy::FaultProxy;

/// The technician account every world has.
pub const TECHNICIAN: (&str, &str) = ("tech", "correct horse battery staple");
/// The administrator account every world has.
pub const ADMINISTRATOR: (&str, &str) = ("admin", "admin staple battery horse");

/// The username of the `n`-th technician account of a world with several
/// ([`WorldOptions::technicians`]); the first is [`TECHNICIAN`]'s.
pub fn technician(n: usize) -> String {
    if n <= 1 {
        TECHNICIAN.0.to_owned()
    } else {
        format!("{}-{n}", TECHNICIAN.0)
    }
}

/// A loopback address no other test in this run uses, so monitors can all
/// listen on the same port as real monitors on a ward network do.
pub fn unique_ip() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Spread test binaries (separate processes) over the second octet.
    let second = 100 + (std::process::id() % 100) as u8;
    IpAddr::V4(Ipv4Addr::new(
        127,
        second,
        (n / 250) as u8,
        (n % 250) as u8 + 2,
    ))
}

/// How a pairing attempt ended, as the technician would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairResult {
    /// The job reached PROVISIONED; the states it streamed on the way.
    Provisioned(Vec<JobState>),
    /// The job ran and failed with this reason.
    Failed(FailureReason),
    /// The station (or the app's own validation) refused the request with this code.
    Refused(zpair_core::error::ErrorCode),
}

/// A point one pairing reaches, as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// The station's job event for this state reached the client.
    Job(JobState),
    /// The monitor committed its new configuration.
    MonitorCommitted,
}

/// When one pairing reached each [`Milestone`].
#[derive(Debug, Clone)]
pub struct Trace {
    /// When the technician's client started (before the pair request).
    pub started: Instant,
    /// Each milestone and when it was reached, in order.
    pub reached: Vec<(Milestone, Instant)>,
}

impl Trace {
    /// The job states streamed, in order.
    fn job_states(&self) -> Vec<JobState> {
        self.reached
            .iter()
            .filter_map(|(m, _)| match m {
                Milestone::Job(state) => Some(*state),
                Milestone::MonitorCommitted => None,
            })
            .collect()
    }

    /// Each step's duration: from the previous milestone (or the start) to
    /// the one named.
    pub fn steps(&self) -> Vec<(Milestone, Duration)> {
        let mut previous = self.started;
        self.reached
            .iter()
            .map(|&(milestone, at)| {
                let step = at.duration_since(previous);
                previous = at;
                (milestone, step)
            })
            .collect()
    }
}

/// How long a monitor may take to commit once the station recorded it.
const SETTLE_PATIENCE: Duration = Duration::from_secs(20);

/// Options for [`World::start_with`].
#[derive(Debug, Clone)]
pub struct WorldOptions {
    /// How long monitors' pairing codes live.
    pub code_lifetime: Duration,
    /// The server URL the station pushes; `None` for its own.
    pub public_url: Option<String>,
    /// How long the station's client certificates are valid.
    pub certificate_lifetime: Duration,
    /// The share of its validity (percent) left when a monitor renews its
    /// client certificate.
    pub renew_percent_left: u32,
    /// The wait before the station's first retry of an unreachable monitor.
    pub retry_backoff: Duration,
    /// Technician accounts: [`TECHNICIAN`], then [`technician`]`(2)`, … up
    /// to this many, all with [`TECHNICIAN`]'s password.
    pub technicians: usize,
    /// The station's fail-safe window ([`FAIL_SAFE`] unless a test needs a
    /// job to wait for its proof of commit longer).
    pub fail_safe: Duration,
    /// Pairing jobs exchanging messages with their monitors at once.
    pub parallel_exchanges: usize,
    /// Where the station keeps its records (the SQLite file by default).
    pub database: Database,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            code_lifetime: Duration::from_secs(600),
            public_url: None,
            certificate_lifetime: central_station::CLIENT_LIFETIME,
            renew_percent_left: bedside_monitor::startup::DEFAULT_RENEW_PERCENT_LEFT,
            retry_backoff: Duration::from_millis(50),
            technicians: 1,
            fail_safe: FAIL_SAFE,
            parallel_exchanges: central_station::DEFAULT_PARALLEL_EXCHANGES,
            database: Database::File,
        }
    }
}

/// One station, its accounts, and the monitors added to it.
#[allow(missing_debug_implementations)] // holds running servers; nothing useful to print
pub struct World {
    /// Everything on disk lives here and goes with the world.
    pub root: TempDir,
    /// The running station.
    pub station: Station,
    /// The running monitors, in the order they were added.
    pub monitors: Vec<Monitor>,
    /// More station instances on the same keys and database, named
    /// `instance-2`, `instance-3`, … ([`World::start_instance`]).
    pub instances: Vec<Station>,
    options: WorldOptions,
}

impl World {
    /// A station with a technician and an administrator, and no monitors.
    pub async fn start() -> Self {
        Self::start_with(WorldOptions::default()).await
    }

    /// The same with options.
    pub async fn start_with(options: WorldOptions) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let station_dir = root.path().join("station");
        // On a thread of its own: the PostgreSQL client blocks, and must not
        // block the runtime.
        std::thread::scope(|s| {
            s.spawn(|| {
                create_accounts_in(&station_dir, &options.database);
                for n in 2..=options.technicians {
                    central_station::admin::create_user(
                        &station_dir,
                        &options.database,
                        &technician(n),
                        &format!("Test Technician {n}"),
                        Role::Technician,
                        TECHNICIAN.1,
                    )
                    .expect("technician account");
                }
            });
        });
        let station = Station::start(station_config(&station_dir, &options))
            .await
            .expect("station starts");
        Self {
            root,
            station,
            monitors: Vec::new(),
            instances: Vec::new(),
            options,
        }
    }

    /// The station's data directory.
    pub fn station_dir(&self) -> PathBuf {
        self.root.path().join("station")
    }

    /// Stops the station and starts it again on the same data, as after a crash
    /// or an update.
    pub async fn restart_station(&mut self, options: WorldOptions) {
        let dir = self.station_dir();
        let old = std::mem::replace(
            &mut self.station,
            Station::start(station_config(&dir, &options))
                .await
                .expect("second station binds"),
        );
        old.shutdown().await;
        self.options = options;
    }

    /// Starts a monitor at a fresh loopback address, registers it with the
    /// station (as an administrator would) and makes it trust the station.
    /// Returns its index in [`Self::monitors`].
    pub async fn add_monitor(&mut self, device_id: &str) -> usize {
        let monitor = self.start_monitor(device_id, unique_ip()).await;
        self.register(&monitor.registration_record(), device_id)
            .await;
        self.monitors.push(monitor);
        self.monitors.len() - 1
    }

    /// Starts monitors the station reaches only through a [`FaultProxy`]
    /// each (the registry holds the proxy's address), registered in one
    /// import. Returns each monitor's index with its proxy.
    pub async fn add_monitors_behind_proxies(
        &mut self,
        device_ids: &[String],
    ) -> Vec<(usize, FaultProxy)> {
        let mut added = Vec::new();
        let mut imports = Vec::new();
        for device_id in device_ids {
            let monitor = self.start_monitor(device_id, unique_ip()).await;
            let (proxy, record) = FaultProxy::in_front_of(&monitor).await;
            imports.push(DeviceImport {
                record,
                device_label: Some(format!("LABEL-{device_id}")),
                bed_id: Some(format!("BED-{device_id}")),
            });
            self.monitors.push(monitor);
            added.push((self.monitors.len() - 1, proxy));
        }
        let admin = self.session(ADMINISTRATOR).await;
        let report = admin
            .client()
            .import_devices(&admin.access_token().await.expect("token"), &imports)
            .await
            .expect("import");
        assert!(report.rejected.is_empty(), "{report:?}");
        added
    }

    /// The station's database, opened directly.
    pub fn database(&self) -> Direct {
        Direct::open(&self.station_dir(), &self.options.database).expect("open station database")
    }

    /// What the station's database says of a device now.
    pub fn station_view(&self, device_id: &str) -> StationView {
        view_of(&self.database(), device_id)
    }

    /// Starts a monitor without registering it.
    pub async fn start_monitor(&self, device_id: &str, ip: IpAddr) -> Monitor {
        let dir = self.root.path().join(format!("monitor-{device_id}-{ip}"));
        self.start_monitor_in(dir, device_id, ip).await
    }

    /// Starts a monitor on the data directory `dir`: a new one, or one that
    /// stopped (or was killed) there, which resumes from what is on disk.
    pub async fn start_monitor_in(&self, dir: PathBuf, device_id: &str, ip: IpAddr) -> Monitor {
        // Each monitor's serial from its device ID, as a factory gives each
        // its own: a simulated monitor's random six-digit serial repeats
        // within a thousand monitors (the birthday bound), and the registry
        // refuses a second monitor with the same serial.
        let data_dir = bedside_monitor::paths::DataDir::new(dir.clone());
        bedside_monitor::identity::Identity::load_or_create(
            &data_dir,
            device_id,
            Some(&format!("SN-{device_id}")),
        )
        .expect("monitor identity");
        let mut config = MonitorConfig::new(dir, device_id.to_owned(), ip);
        config.code_lifetime = self.options.code_lifetime;
        config.heartbeat_interval = Duration::from_millis(300);
        config.renew_percent_left = self.options.renew_percent_left;
        let monitor = Monitor::start(config).await.expect("monitor starts");
        monitor
            .trust_station(&self.station.station_public_key())
            .expect("trust station key");
        monitor
    }

    /// Adds a registration record to the station's registry over its API.
    pub async fn register(
        &self,
        record: &zpair_proto::device::RegistrationRecord,
        device_id: &str,
    ) {
        let admin = self.session(ADMINISTRATOR).await;
        let import = DeviceImport {
            record: record.clone(),
            device_label: Some(format!("LABEL-{device_id}")),
            bed_id: Some(format!("BED-{device_id}")),
        };
        let report = admin
            .client()
            .import_devices(&admin.access_token().await.expect("token"), &[import])
            .await
            .expect("import");
        assert!(report.rejected.is_empty(), "{report:?}");
    }

    /// A client that trusts only this station's CA.
    pub fn client(&self) -> StationClient {
        StationClient::new(StationTrust {
            url: self.station.url(),
            anchor: TrustAnchor::CaPem(self.station.ca_certificate_pem()),
        })
        .expect("client")
    }

    /// A signed-in session for one of the accounts.
    pub async fn session(&self, account: (&str, &str)) -> TechnicianSession {
        self.session_on(0, account).await
    }

    /// Starts another station instance beside the first, on the same keys
    /// and database (PostgreSQL: [`WorldOptions::database`]), each pushing
    /// its own URL to the monitors it pairs.
    pub async fn start_instance(&mut self) {
        let mut config = station_config(&self.station_dir(), &self.options);
        config.instance_id = format!("instance-{}", self.instances.len() + 2);
        self.instances.push(
            Station::start(config)
                .await
                .expect("another instance starts"),
        );
    }

    /// A signed-in session on instance `instance` (0: the first, then
    /// [`World::instances`] in order).
    pub async fn session_on(&self, instance: usize, account: (&str, &str)) -> TechnicianSession {
        self.session_via(self.instance(instance).url(), account)
            .await
    }

    /// A signed-in session through `url` (a balancer in front of the
    /// instances), trusting the station's CA.
    pub async fn session_via(
        &self,
        url: String,
        (user, password): (&str, &str),
    ) -> TechnicianSession {
        let client = StationClient::new(StationTrust {
            url,
            anchor: TrustAnchor::CaPem(self.station.ca_certificate_pem()),
        })
        .expect("client");
        let session = TechnicianSession::new(client, Arc::new(MemorySecretStore::default()));
        session.login(user, password).await.expect("login");
        session
    }

    /// Instance `instance` (0: the first, then [`World::instances`]).
    pub fn instance(&self, instance: usize) -> &Station {
        match instance {
            0 => &self.station,
            n => &self.instances[n - 1],
        }
    }

    /// Restarts instance `instance` as an operator rolls an update through
    /// several: it stops taking pair requests and lets its running jobs
    /// finish (within `grace`), stops, and a fresh one under the same name
    /// takes its place (on a new port; the others serve meanwhile). Returns
    /// the old and new addresses, and how many jobs the old one had to stop.
    pub async fn roll_instance(
        &mut self,
        instance: usize,
        grace: Duration,
    ) -> (SocketAddr, SocketAddr, usize) {
        let old_addr = self.instance(instance).local_addr();
        let stopped = self.instance(instance).drain(grace).await;
        let mut config = station_config(&self.station_dir(), &self.options);
        if instance > 0 {
            config.instance_id = format!("instance-{}", instance + 1);
        }
        // The old one stops first: one name, one running instance. (The
        // first instance is rolled with another beside it, which stands in
        // its place meanwhile.)
        let old = match instance {
            0 => std::mem::replace(&mut self.station, self.instances.remove(0)),
            n => self.instances.remove(n - 1),
        };
        old.shutdown().await;
        let fresh = Station::start(config)
            .await
            .expect("the instance starts again");
        let new_addr = fresh.local_addr();
        match instance {
            0 => {
                let stand_in = std::mem::replace(&mut self.station, fresh);
                self.instances.insert(0, stand_in);
            }
            n => self.instances.insert(n - 1, fresh),
        }
        (old_addr, new_addr, stopped)
    }

    /// What monitor `index` shows on its screen now.
    pub fn screen(&self, index: usize) -> QrPayload {
        self.monitors[index]
            .screen()
            .expect("monitor is in provisioning mode")
            .payload
    }

    /// Pairs from a scanned QR, as the app does after its camera found one.
    pub async fn pair_scanned(
        &self,
        session: &TechnicianSession,
        payload: &QrPayload,
    ) -> PairResult {
        self.pair_scanned_traced(session, payload).await.0
    }

    /// Pairs from a scanned payload, noting when each step of the job
    /// reached the client and when the monitor committed: where one
    /// pairing's time goes, for the bench.
    pub async fn pair_scanned_traced(
        &self,
        session: &TechnicianSession,
        payload: &QrPayload,
    ) -> (PairResult, Trace) {
        let mut trace = Trace {
            started: Instant::now(),
            reached: Vec::new(),
        };
        let result =
            match zpair_core::qr::validate(&payload.to_json(), time::OffsetDateTime::now_utc()) {
                Ok(scanned) => {
                    let target = PairTarget::Scanned(scanned);
                    let outcome = zpair_core::pairing::pair(session, target, |progress| {
                        if let Some(state) = progress.job_state() {
                            trace.reached.push((Milestone::Job(state), Instant::now()));
                        }
                    })
                    .await;
                    pair_result(outcome, trace.job_states())
                }
                Err(e) => PairResult::Refused(zpair_core::error::UserFacing::code(&e)),
            };
        let result = self.settled(&payload.device_id, result).await;
        // Only a monitor of this process is watched as it commits (one in a
        // swarm process is not).
        let watched = self
            .monitors
            .iter()
            .any(|m| m.registration_record().device_id == payload.device_id);
        if watched && matches!(result, PairResult::Provisioned(_)) {
            trace
                .reached
                .push((Milestone::MonitorCommitted, Instant::now()));
        }
        (result, trace)
    }

    /// Pairs from a typed device ID and code.
    pub async fn pair_typed(
        &self,
        session: &TechnicianSession,
        device_id: &str,
        code: &str,
    ) -> PairResult {
        let code = PairingCode::parse(code).expect("test codes are well-formed");
        let result = run_pairing(
            session,
            PairTarget::Typed {
                device_id: device_id.to_owned(),
                code,
            },
        )
        .await;
        self.settled(device_id, result).await
    }

    /// Returns `result` once the monitor has acted on it. The station records
    /// PROVISIONED on the monitor's proof of commit, and the monitor commits
    /// when that answer reaches it: a moment after the job's last event.
    async fn settled(&self, device_id: &str, result: PairResult) -> PairResult {
        let monitor = self
            .monitors
            .iter()
            .find(|m| m.registration_record().device_id == device_id);
        if let (Some(monitor), PairResult::Provisioned(_)) = (monitor, &result) {
            // Woken by the monitor's own state change, not a poll: a poll
            // interval here would be a fixed wait in every pairing the
            // bench times.
            let mut state = monitor.watch_state();
            let committed = tokio::time::timeout(
                SETTLE_PATIENCE,
                state.wait_for(|s| *s == zpair_proto::device::MonitorState::Provisioned),
            )
            .await;
            assert!(
                matches!(committed, Ok(Ok(_))),
                "the monitor did not commit the configuration the station recorded"
            );
        }
        result
    }

    /// The audit rows for one device, oldest first: (event_type, success).
    pub fn audit(&self, device_id: &str) -> Vec<(String, bool)> {
        audit_of(&self.database(), device_id)
    }

    /// Authorises one re-pairing of a paired monitor as a technician does:
    /// the password again (a step-up bound to this device and action), a
    /// reason, then the station's re-provisioning, which also puts the
    /// monitor in provisioning mode. Its certificate stays valid until the
    /// re-pairing supersedes it.
    pub async fn authorise_repairing(&self, session: &TechnicianSession, device_id: &str) {
        let token = session.access_token().await.expect("token");
        let client = self.client();
        let confirmation = client
            .step_up(
                &token,
                TECHNICIAN.1,
                device_id,
                zpair_proto::api::StepUpAction::Reprovision,
            )
            .await
            .expect("step-up")
            .confirmation_token;
        client
            .reprovision(&token, device_id, &confirmation, "Test: pairing it again")
            .await
            .expect("re-provision");
    }
}

/// A well-formed pairing code that is not `code` (a wrong code to type).
pub fn other_code(code: &PairingCode) -> &'static str {
    if code.display() == "ABC-DEF-GHJ" {
        "ABC-DEF-GHK"
    } else {
        "ABC-DEF-GHJ"
    }
}

/// Runs the pairing workflow and reduces its outcome to a [`PairResult`],
/// without waiting for the monitor (see `World::pair_typed` for that).
pub async fn run_pairing(session: &TechnicianSession, target: PairTarget) -> PairResult {
    let mut states = Vec::new();
    let outcome = zpair_core::pairing::pair(session, target, |progress| {
        if let Some(state) = progress.job_state() {
            states.push(state);
        }
    })
    .await;
    pair_result(outcome, states)
}

/// What the technician sees of a pairing's outcome, given the job states
/// it streamed.
fn pair_result(
    outcome: Result<PairingOutcome, zpair_core::pairing::PairingError>,
    states: Vec<JobState>,
) -> PairResult {
    match outcome {
        Ok(PairingOutcome::Provisioned { .. }) => PairResult::Provisioned(states),
        Ok(PairingOutcome::Failed { reason, .. }) => PairResult::Failed(reason),
        Err(e) => PairResult::Refused(zpair_core::error::UserFacing::code(&e)),
    }
}

/// Creates the two accounts on a station's data directory before it starts.
pub fn create_accounts(station_dir: &Path) {
    create_accounts_in(station_dir, &Database::File);
}

/// The same, on `database`.
fn create_accounts_in(station_dir: &Path, database: &Database) {
    central_station::admin::create_user(
        station_dir,
        database,
        TECHNICIAN.0,
        "Test Technician",
        Role::Technician,
        TECHNICIAN.1,
    )
    .expect("technician account");
    central_station::admin::create_user(
        station_dir,
        database,
        ADMINISTRATOR.0,
        "Test Administrator",
        Role::Administrator,
        ADMINISTRATOR.1,
    )
    .expect("administrator account");
}

fn station_config(dir: &Path, options: &WorldOptions) -> StationConfig {
    let mut config = StationConfig::new(dir.to_path_buf(), SocketAddr::from(([127, 0, 0, 1], 0)));
    config.public_url = options.public_url.clone();
    config.heartbeat_interval = Duration::from_millis(300);
    // Tests pair many times in a row from one account.
    config.rate_limits.per_technician_per_minute = 1_000;
    config.rate_limits.per_device_per_minute = 1_000;
    // Every paired monitor keeps a connection open: the bench's swarm holds
    // ten thousand (the station fits this under its open-file limit).
    config.edge.max_connections = 30_000;
    // A world's technicians all connect from 127.0.0.1, as a ward's tablets
    // would not: the bench's two hundred would pass the per-address cap.
    config.edge.max_connections_per_peer = 1_000;
    config.fail_safe = options.fail_safe;
    config.parallel_exchanges = options.parallel_exchanges;
    config.client_certificate_lifetime = options.certificate_lifetime;
    config.monitor_retry.backoff = options.retry_backoff;
    config.database = options.database.clone();
    config
}

/// The fail-safe window of every test station: a rollback happens within
/// a test, and a normal pairing on a loaded machine is still far inside it.
pub const FAIL_SAFE: Duration = Duration::from_secs(3);

/// A device as the station's database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationView {
    /// `devices.state`.
    pub state: String,
    /// The certificate the station takes as the device's.
    pub serial: Option<String>,
    /// Every certificate of the device that is not revoked.
    pub unrevoked: Vec<String>,
    /// Every certificate of the device that is revoked (so must be in the
    /// CRL).
    pub revoked: Vec<String>,
    /// Heartbeats accepted since the last pairing.
    pub heartbeats: i64,
    /// The alert raised on it, if any.
    pub alert: Option<String>,
}

/// A station's SQLite database, opened directly (as an auditor or a crash
/// would see it) from its data directory.
pub fn station_database(station_dir: &Path) -> Direct {
    Direct::open(station_dir, &Database::File).expect("open station database")
}

/// Reads a device's row and certificates directly from the SQLite database
/// of the station in `station_dir`.
pub fn station_view(station_dir: &Path, device_id: &str) -> StationView {
    view_of(&station_database(station_dir), device_id)
}

fn view_of(db: &Direct, device_id: &str) -> StationView {
    let (state, serial, heartbeats, alert) = db
        .query_row(
            "SELECT state, certificate_serial, heartbeats, alert FROM devices WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("device row");
    let serials = |revoked: bool| -> Vec<String> {
        db.query_map(
            "SELECT serial FROM certificates
             WHERE device_id = ?1 AND (revoked_at IS NOT NULL) = ?2 ORDER BY serial",
            params![device_id, revoked],
            |r| r.get(0),
        )
        .expect("certificates")
    };
    StationView {
        state,
        serial,
        unrevoked: serials(false),
        revoked: serials(true),
        heartbeats,
        alert,
    }
}

/// The serials (lowercase hex) a CRL in PEM lists as revoked.
pub fn crl_serials(pem: &str) -> Vec<String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("CRL PEM");
    let (_, crl) = x509_parser::parse_x509_crl(&pem.contents).expect("CRL");
    crl.iter_revoked_certificates()
        .map(|r| zpair_proto::hex::encode(r.raw_serial()))
        .collect()
}

/// A binary of the workspace, built by `cargo build --workspace --bins` into
/// the target folder the running test binary is in (found at run time, so a
/// shared target folder serves the checkout under test).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// Reads the audit table directly from the SQLite database of the station
/// in `station_dir`.
pub fn audit_rows(station_dir: &Path, device_id: &str) -> Vec<(String, bool)> {
    audit_of(&station_database(station_dir), device_id)
}

fn audit_of(db: &Direct, device_id: &str) -> Vec<(String, bool)> {
    db.query_map(
        "SELECT event_type, success FROM provisioning_events WHERE device_id = ?1 ORDER BY id",
        [device_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .expect("audit rows")
}

/// The state of a device's newest pairing job, read directly from the
/// SQLite database of the station in `station_dir`.
pub fn latest_job_state(station_dir: &Path, device_id: &str) -> Option<String> {
    station_database(station_dir)
        .query_row(
        "SELECT state FROM jobs WHERE device_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [device_id],
        |row| row.get(0),
    )
    .optional()
    .expect("job query")
}

pub use zpair_testkit::eventually;
