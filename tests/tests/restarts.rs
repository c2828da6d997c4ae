//! Restarts in the middle of things lose nothing: the station killed during a
//! pairing job (a real process, SIGKILL), and a monitor restarted.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_proto::api::{FailureReason, JobState, PairRequest};
use zpair_proto::device::{MonitorState, RegistrationRecord};
use zpair_tests::{PairResult, TECHNICIAN, World, binary, create_accounts, eventually, unique_ip};

fn start_station(dir: &std::path::Path, addr: SocketAddr) -> Child {
    Command::new(binary("central-station"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &addr.to_string()])
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

fn row_count(db: &std::path::Path, table: &str) -> i64 {
    let db = rusqlite::Connection::open(db).expect("open");
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_station_killed_mid_job_restarts_with_no_job_stuck_and_no_row_lost() {
    let root = tempfile::tempdir().expect("temp");
    let dir = root.path().join("station");
    create_accounts(&dir);
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut station = start_station(&dir, addr);

    // A "monitor" that accepts connections and never answers: the job hangs in PAIRING.
    let ip = unique_ip();
    let silent = std::net::TcpListener::bind((ip, 9443)).expect("silent monitor");
    let identity = zpair_proto::crypto::generate_signing_key().expect("key");
    let record = RegistrationRecord {
        device_id: "ZM-KILL-01".into(),
        device_serial: "SN-KILL-01".into(),
        identity_public_key: zpair_proto::crypto::public_key_text(&identity.verifying_key()),
        firmware_version: "1.2.3".into(),
        ip_address: Some(ip.to_string()),
    };
    central_station::admin::import_devices(
        &dir,
        &[zpair_proto::api::DeviceImport {
            record,
            device_label: None,
            bed_id: None,
        }],
    )
    .expect("registry");

    let url = format!("https://{addr}");
    let client = || {
        StationClient::new(StationTrust {
            url: url.clone(),
            anchor: TrustAnchor::CaPem(station_ca(&dir)),
        })
        .expect("client")
    };
    let mut session = None;
    for _ in 0..100 {
        match client().login(TECHNICIAN.0, TECHNICIAN.1).await {
            Ok(s) => {
                session = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let session = session.expect("station answers");
    let request = PairRequest {
        device_id: "ZM-KILL-01".into(),
        pairing_code: "ABC-DEF-GHJ".into(),
        pairing_token: None,
        ip_address: None,
    };
    let accepted = client()
        .pair(&session.access_token, &request)
        .await
        .expect("202");
    let job = client()
        .job(&session.access_token, &accepted.job_id)
        .await
        .expect("job");
    assert_eq!(job.state, JobState::Pairing);

    let db = dir.join("station.sqlite3");
    let before = ["users", "devices", "provisioning_events", "jobs"].map(|t| row_count(&db, t));
    station.kill().expect("SIGKILL");
    station.wait().expect("reaped");
    drop(silent);

    let mut station = start_station(&dir, addr);
    let mut job = None;
    for _ in 0..100 {
        if let Ok(j) = client().job(&session.access_token, &accepted.job_id).await {
            job = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = job.expect("station back");
    assert_eq!(
        (job.state, job.reason),
        (JobState::Failed, Some(FailureReason::Interrupted))
    );
    let after = ["users", "devices", "provisioning_events", "jobs"].map(|t| row_count(&db, t));
    for (b, a) in before.iter().zip(after) {
        assert!(a >= *b, "rows lost: {before:?} → {after:?}");
    }
    station.kill().expect("stop");
    let _ = station.wait();
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
