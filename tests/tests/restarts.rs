//! Restarts in the middle of things lose nothing: the station killed during a
//! pairing job (a real process, SIGKILL), asked to stop (SIGTERM: running
//! jobs finish within a bound, no new one starts), and a monitor restarted.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use central_station::db::Database;
use rustix::process::{Pid, Signal, kill_process};
use zpair_core::client::{ClientError, StationClient, StationTrust, TrustAnchor};
use zpair_proto::ErrorCode;
use zpair_proto::api::{FailureReason, JobState, PairRequest};
use zpair_proto::device::{MonitorState, RegistrationRecord};
use zpair_tests::{
    PairResult, TECHNICIAN, World, WorldOptions, binary, create_accounts, eventually,
    station_database, unique_ip,
};

fn start_station(dir: &std::path::Path, addr: SocketAddr, extra_args: &[&str]) -> Child {
    Command::new(binary("central-station"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &addr.to_string()])
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("station process")
}

fn station_ca(dir: &std::path::Path) -> String {
    let out = Command::new(binary("central-station"))
        .args(["ca-cert", "--data-dir"])
        .arg(dir)
        .output()
        .expect("ca-cert");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("PEM")
}

fn row_count(station_dir: &std::path::Path, table: &str) -> i64 {
    station_database(station_dir)
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// A station process and a job it is running: the "monitor" accepts
/// connections and never answers, so the job hangs in PAIRING.
struct HungJob {
    root: tempfile::TempDir,
    addr: SocketAddr,
    station: Child,
    /// The station's CA, read once (it outlives restarts): every client
    /// trusts it.
    ca_pem: String,
    /// Keeps the silent monitor listening.
    _silent: std::net::TcpListener,
    access_token: zpair_proto::Redacted<String>,
    job_id: String,
    request: PairRequest,
}

impl HungJob {
    async fn start(device_id: &str, extra_args: &[&str]) -> Self {
        let root = tempfile::tempdir().expect("temp");
        let dir = root.path().join("station");
        create_accounts(&dir);
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        let station = start_station(&dir, addr, extra_args);

        let ip = unique_ip();
        let silent = std::net::TcpListener::bind((ip, 9443)).expect("silent monitor");
        let identity = zpair_proto::crypto::generate_signing_key().expect("key");
        let record = RegistrationRecord {
            device_id: device_id.into(),
            device_serial: format!("SN-{device_id}"),
            identity_public_key: zpair_proto::crypto::public_key_text(&identity.verifying_key()),
            firmware_version: "1.2.3".into(),
            ip_address: Some(ip.to_string()),
        };
        central_station::admin::import_devices(
            &dir,
            &Database::File,
            &[zpair_proto::api::DeviceImport {
                record,
                device_label: None,
                bed_id: None,
            }],
        )
        .expect("registry");

        let ca_pem = station_ca(&dir);
        let mut hung = Self {
            root,
            addr,
            station,
            ca_pem,
            _silent: silent,
            access_token: String::new().into(),
            job_id: String::new(),
            request: PairRequest {
                device_id: device_id.into(),
                pairing_code: "ABC-DEF-GHJ".into(),
                pairing_token: None,
                ip_address: None,
            },
        };
        let mut session = None;
        for _ in 0..100 {
            match hung.client().login(TECHNICIAN.0, TECHNICIAN.1).await {
                Ok(s) => {
                    session = Some(s);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        hung.access_token = session.expect("station answers").access_token;
        let accepted = hung
            .client()
            .pair(&hung.access_token, &hung.request)
            .await
            .expect("202");
        hung.job_id = accepted.job_id;
        assert_eq!(hung.job().await.expect("job").state, JobState::Pairing);
        hung
    }

    fn dir(&self) -> std::path::PathBuf {
        self.root.path().join("station")
    }

    fn client(&self) -> StationClient {
        StationClient::new(StationTrust {
            url: format!("https://{}", self.addr),
            anchor: TrustAnchor::CaPem(self.ca_pem.clone()),
        })
        .expect("client")
    }

    async fn job(&self) -> Result<zpair_proto::api::JobSummary, zpair_core::client::ClientError> {
        self.client().job(&self.access_token, &self.job_id).await
    }

    /// Starts the station again on the same folder and address; the job as
    /// it then reports it.
    async fn restart(&mut self) -> zpair_proto::api::JobSummary {
        self.station = start_station(&self.dir(), self.addr, &[]);
        for _ in 0..100 {
            if let Ok(job) = self.job().await {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the station did not come back");
    }
}

impl Drop for HungJob {
    fn drop(&mut self) {
        let _ = self.station.kill();
        let _ = self.station.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_station_killed_mid_job_restarts_with_no_job_stuck_and_no_row_lost() {
    let mut hung = HungJob::start("ZM-KILL-01", &[]).await;
    let dir = hung.dir();
    let before = ["users", "devices", "provisioning_events", "jobs"].map(|t| row_count(&dir, t));
    hung.station.kill().expect("SIGKILL");
    hung.station.wait().expect("reaped");

    let job = hung.restart().await;
    assert_eq!(
        (job.state, job.reason),
        (JobState::Failed, Some(FailureReason::Interrupted))
    );
    let after = ["users", "devices", "provisioning_events", "jobs"].map(|t| row_count(&dir, t));
    for (b, a) in before.iter().zip(after) {
        assert!(a >= *b, "rows lost: {before:?} → {after:?}");
    }
}

/// SIGTERM: the station starts no new pairing (503 `station_busy`) while it
/// gives a running job its bound (`--drain-secs`), then exits cleanly; the
/// job it had to stop is reported interrupted by the next start.
#[tokio::test(flavor = "multi_thread")]
async fn a_station_sent_sigterm_starts_no_new_pairing_waits_its_bound_then_exits() {
    let mut hung = HungJob::start("ZM-TERM-01", &["--drain-secs", "3"]).await;
    kill_process(Pid::from_child(&hung.station), Signal::TERM).expect("SIGTERM");

    let mut refused = None;
    for _ in 0..100 {
        match hung.client().pair(&hung.access_token, &hung.request).await {
            Err(ClientError::Station { status, error }) if error.code == ErrorCode::StationBusy => {
                refused = Some(status);
                break;
            }
            // Before the signal is handled: the job still runs.
            Err(ClientError::Station { error, .. })
                if error.code == ErrorCode::PairingInProgress =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("a pair request to a stopping station: {other:?}"),
        }
    }
    assert_eq!(refused, Some(503), "refused while stopping");
    assert_eq!(
        hung.job().await.expect("still served while draining").state,
        JobState::Pairing,
        "the job still runs in its bound"
    );

    let status = hung.station.wait().expect("exits");
    assert!(status.success(), "a clean exit after the bound: {status}");
    let job = hung.restart().await;
    assert_eq!(
        (job.state, job.reason),
        (JobState::Failed, Some(FailureReason::Interrupted))
    );
}

/// What SIGTERM does, in process: a job that was waiting to retry its
/// monitor when the drain began finishes (PROVISIONED, the monitor
/// committed) before the drain returns, and a pair request meanwhile is
/// refused with 503 `station_busy`.
#[tokio::test(flavor = "multi_thread")]
async fn a_draining_station_finishes_its_running_job_and_starts_no_new_one() {
    let mut world = World::start_with(WorldOptions {
        retry_backoff: Duration::from_secs(2),
        ..WorldOptions::default()
    })
    .await;
    let (index, proxy) = world
        .add_monitors_behind_proxies(&["ZM-DRAIN-01".to_owned()])
        .await
        .remove(0);
    let code = world.monitors[index]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode")
        .code
        .display();
    let other = world.add_monitor("ZM-DRAIN-02").await;
    let other_payload = {
        world.monitors[other]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
        world.screen(other)
    };
    proxy.drop_next(1);
    let tech = world.session(TECHNICIAN).await;

    let running = world.pair_typed(&tech, "ZM-DRAIN-01", &code);
    let stopping = async {
        eventually(
            "the first attempt fails and the job waits to retry",
            || async { proxy.dropped() == 1 },
        )
        .await;
        assert_eq!(world.station_view("ZM-DRAIN-01").state, "PAIRING");
        // `join!` polls the drain first: it refuses new jobs before the
        // second pair request is sent.
        tokio::join!(
            world.station.drain(Duration::from_secs(60)),
            world.pair_scanned(&tech, &other_payload)
        )
    };
    let (result, (stopped, refused)) = tokio::join!(running, stopping);

    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    assert_eq!(stopped, 0, "no job had to be stopped");
    assert_eq!(refused, PairResult::Refused(ErrorCode::StationBusy));
    assert_eq!(world.station_view("ZM-DRAIN-02").state, "UNPROVISIONED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_monitor_keeps_its_configuration_and_keeps_heartbeating() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-RESTART-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    assert!(matches!(
        world.pair_scanned(&tech, &world.screen(m)).await,
        PairResult::Provisioned(_)
    ));
    let configuration = world.monitors[m].configuration();
    let record = world.monitors[m].registration_record();

    let monitor = world.monitors.remove(m);
    let ip = monitor.local_addr().ip();
    monitor.shutdown().await;
    let again = world.start_monitor("ZM-RESTART-01", ip).await;
    assert_eq!(again.state(), MonitorState::Provisioned);
    assert_eq!(again.configuration(), configuration);
    assert_eq!(
        again.registration_record(),
        record,
        "same identity and serial"
    );

    let token = tech.access_token().await.expect("token");
    let beats = world
        .client()
        .device_status(&token, "ZM-RESTART-01")
        .await
        .expect("status")
        .counters
        .heartbeats;
    eventually("heartbeats resume after the restart", || async {
        let status = world
            .client()
            .device_status(&token, "ZM-RESTART-01")
            .await
            .expect("status");
        status.counters.heartbeats > beats + 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_restarted_in_provisioning_mode_shows_the_same_code() {
    let world = World::start().await;
    let ip = unique_ip();
    let monitor = world.start_monitor("ZM-RESTART-02", ip).await;
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    monitor.shutdown().await;
    let again = world.start_monitor("ZM-RESTART-02", ip).await;
    assert_eq!(again.state(), MonitorState::ReadyToPair);
    assert_eq!(again.screen().map(|s| s.code), Some(screen.code));
}
