//! The fail-safe commit under faults (issue 11): a fault-injecting proxy
//! between the station and each monitor cuts the connection at byte offsets
//! swept across the whole exchange, both ways — every few hundred bytes and
//! each boundary between messages — or holds it there while the monitor is
//! restarted or the station process is SIGKILLed. After each, once the
//! window has passed, the job is terminal, the monitor at rest, and the two
//! agree (and, after a kill, the audit log and the published CRL with them): the monitor is PROVISIONED exactly when the station recorded the
//! pairing with the monitor's certificate (valid, heartbeats accepted); a
//! failed pairing leaves no certificate unrevoked and a re-paired monitor's
//! previous configuration in force.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bedside_monitor::{Monitor, MonitorConfig};
use central_station::db::Database;
use central_station::params;
use futures_util::future::join_all;
use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_core::pairing::PairTarget;
use zpair_proto::Redacted;
use zpair_proto::api::{DeviceImport, FailureReason, JobState, PairRequest};
use zpair_proto::device::MonitorState;
use zpair_tests::agreement::{assert_agreement, at_rest, calibrate, disagreement, pair_typed};
use zpair_tests::fault_proxy::{CutPoint, Direction, FaultProxy, reached, sweep};
use zpair_tests::{
    FAIL_SAFE, PairResult, TECHNICIAN, World, WorldOptions, audit_rows, binary, create_accounts,
    crl_serials, eventually, latest_job_state, run_pairing, station_database, station_view,
    unique_ip,
};

/// Bytes between two cut points inside a message.
const STEP: usize = 300;

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_cut_at_any_byte_leaves_station_and_monitor_agreeing() {
    let mut world = World::start().await;
    let runs = calibrate(&mut world).await;
    let points = sweep(&runs, STEP);
    let ids: Vec<String> = (0..points.len())
        .map(|i| format!("ZM-CUT-{i:02}"))
        .collect();
    let monitors = world.add_monitors_behind_proxies(&ids).await;
    let tech = world.session(TECHNICIAN).await;

    let world = &world;
    let outcomes = join_all(points.iter().zip(&monitors).map(|(point, (index, proxy))| {
        let tech = &tech;
        async move {
            let fired = proxy.arm(*point);
            let result = pair_typed(world, tech, *index).await;
            assert!(fired.await.is_ok(), "{point}: the cut never happened");
            (*point, *index, result, None)
        }
    }))
    .await;
    let table = assert_agreement(world, outcomes).await;
    println!("{} cut points, all agreeing:\n{table}", points.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_re_pairing_leaves_the_previous_configuration_in_force() {
    let mut world = World::start().await;
    let runs = calibrate(&mut world).await;
    let points = sweep(&runs, 2 * STEP);
    let ids: Vec<String> = (0..points.len())
        .map(|i| format!("ZM-RECUT-{i:02}"))
        .collect();
    let monitors = world.add_monitors_behind_proxies(&ids).await;
    let tech = world.session(TECHNICIAN).await;

    let world = &world;
    join_all(monitors.iter().map(|(index, _)| {
        let tech = &tech;
        async move {
            let first = pair_typed(world, tech, *index).await;
            assert!(matches!(first, PairResult::Provisioned(_)), "{first:?}");
            let monitor = &world.monitors[*index];
            eventually("the first configuration is committed", || async {
                monitor.state() == MonitorState::Provisioned
            })
            .await;
        }
    }))
    .await;
    // One at a time, as a technician would: a burst of step-ups is what the
    // lockout exists to stop.
    for (index, _) in &monitors {
        let device_id = world.monitors[*index].registration_record().device_id;
        world.authorise_repairing(&tech, &device_id).await;
    }
    let outcomes = join_all(points.iter().zip(&monitors).map(|(point, (index, proxy))| {
        let tech = &tech;
        async move {
            let monitor = &world.monitors[*index];
            let before = monitor.configuration().map(|c| c.certificate_serial);
            let fired = proxy.arm(*point);
            let result = pair_typed(world, tech, *index).await;
            assert!(fired.await.is_ok(), "{point}: the cut never happened");
            (*point, *index, result, before)
        }
    }))
    .await;
    let table = assert_agreement(world, outcomes).await;
    println!(
        "{} re-pairing cut points, all agreeing:\n{table}",
        points.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_restarted_at_any_message_boundary_agrees_with_the_station() {
    let mut world = World::start().await;
    let runs = calibrate(&mut world).await;
    let points = sweep(&runs, usize::MAX);
    let tech = world.session(TECHNICIAN).await;

    let mut setups = Vec::new();
    for i in 0..points.len() {
        let device_id = format!("ZM-RESTART-{i:02}");
        let ip = unique_ip();
        let monitor = world.start_monitor(&device_id, ip).await;
        let (proxy, record) = FaultProxy::in_front_of(&monitor).await;
        world.register(&record, &device_id).await;
        setups.push((device_id, ip, monitor, proxy));
    }

    let world = &world;
    let outcomes = join_all(points.iter().zip(setups).map(
        |(point, (device_id, ip, monitor, proxy))| {
            let tech = &tech;
            async move {
                let screen = monitor
                    .enter_provisioning_mode()
                    .await
                    .expect("provisioning mode");
                let fired = proxy.arm_held(*point);
                let pairing = run_pairing(
                    tech,
                    PairTarget::Typed {
                        device_id: device_id.clone(),
                        code: screen.code,
                    },
                );
                let restart = async {
                    let hold = reached(*point, fired).await;
                    monitor.shutdown().await;
                    let again = world.start_monitor(&device_id, ip).await;
                    drop(hold);
                    again
                };
                let (result, monitor) = tokio::join!(pairing, restart);
                (*point, device_id, result, monitor, proxy)
            }
        },
    ))
    .await;

    let mut problems = Vec::new();
    for (point, device_id, result, monitor, _proxy) in &outcomes {
        let state = at_rest(monitor).await;
        let serial = monitor.configuration().map(|c| c.certificate_serial);
        let view = world.station_view(device_id);
        if let Some(problem) = disagreement(result, state, serial, &view, None) {
            problems.push(format!("{point}: {problem}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for (_, device_id, result, _, _) in &outcomes {
        if matches!(result, PairResult::Provisioned(_)) {
            eventually(
                &format!("{device_id}'s heartbeats are accepted"),
                || async { world.station_view(device_id).heartbeats > 0 },
            )
            .await;
        }
    }
    println!("{} monitor restarts, all agreeing", outcomes.len());
}

/// The station as a real process, so it can be SIGKILLed.
struct StationProcess {
    dir: PathBuf,
    addr: SocketAddr,
    child: Child,
}

impl StationProcess {
    fn start(dir: &Path, addr: SocketAddr) -> Self {
        let child = Command::new(binary("central-station"))
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args(["--listen", &addr.to_string()])
            .args(["--fail-safe-secs", &FAIL_SAFE.as_secs().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("station process");
        Self {
            dir: dir.to_owned(),
            addr,
            child,
        }
    }

    fn kill_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        *self = Self::start(&self.dir, self.addr);
    }

    fn client(&self) -> StationClient {
        StationClient::new(StationTrust {
            url: format!("https://{}", self.addr),
            anchor: TrustAnchor::CaPem(
                central_station::admin::ca_certificate_pem(&self.dir).expect("CA"),
            ),
        })
        .expect("client")
    }

    /// Signs in, waiting for the station to answer.
    async fn access_token(&self) -> Redacted<String> {
        for _ in 0..100 {
            if let Ok(session) = self.client().login(TECHNICIAN.0, TECHNICIAN.1).await {
                return session.access_token;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the station does not answer");
    }
}

impl Drop for StationProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_station_killed_at_any_message_boundary_agrees_with_the_monitor_after_restart() {
    // The boundaries come from an in-process calibration: the same exchange.
    let runs = {
        let mut world = World::start().await;
        calibrate(&mut world).await
    };
    let points: Vec<CutPoint> = sweep(&runs, usize::MAX);

    let root = tempfile::tempdir().expect("temp");
    let dir = root.path().join("station");
    create_accounts(&dir);
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut station = StationProcess::start(&dir, addr);
    let station_key = central_station::admin::station_public_key(&dir).expect("key");

    let mut setups = Vec::new();
    let mut imports = Vec::new();
    for i in 0..points.len() {
        let device_id = format!("ZM-KILL-{i:02}");
        let mut config =
            MonitorConfig::new(root.path().join(&device_id), device_id.clone(), unique_ip());
        config.heartbeat_interval = Duration::from_millis(300);
        let monitor = Monitor::start(config).await.expect("monitor");
        monitor.trust_station(&station_key).expect("trust");
        let (proxy, record) = FaultProxy::in_front_of(&monitor).await;
        imports.push(DeviceImport {
            record,
            device_label: None,
            bed_id: None,
        });
        setups.push((device_id, monitor, proxy));
    }
    central_station::admin::import_devices(&dir, &Database::File, &imports).expect("registry");

    // One at a time: each kill is proven to land at its byte, mid-step.
    let mut jobs = Vec::new();
    for (point, (device_id, monitor, proxy)) in points.iter().zip(&setups) {
        let screen = monitor
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
        let fired = proxy.arm_held(*point);
        let token = station.access_token().await;
        let accepted = station
            .client()
            .pair(
                &token,
                &PairRequest {
                    device_id: device_id.clone(),
                    pairing_code: screen.code.display().into(),
                    pairing_token: None,
                    ip_address: None,
                },
            )
            .await
            .expect("202");
        let hold = reached(*point, fired).await;
        station.kill_and_restart();
        drop(hold);
        jobs.push((*point, device_id.clone(), accepted.job_id));
    }

    let token = station.access_token().await;
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    for ((point, device_id, job_id), (_, monitor, _)) in jobs.iter().zip(&setups) {
        let mut job = None;
        for _ in 0..200 {
            let j = station.client().job(&token, job_id).await.expect("job");
            if j.state.is_terminal() {
                job = Some(j);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Some(job) = job else {
            problems.push(format!("{point}: the job never ended"));
            continue;
        };
        let result = match job.state {
            JobState::Provisioned => PairResult::Provisioned(Vec::new()),
            _ => PairResult::Failed(job.reason.expect("a failed job says why")),
        };
        let state = at_rest(monitor).await;
        let serial = monitor.configuration().map(|c| c.certificate_serial);
        let view = station_view(&dir, device_id);
        if let Some(problem) = disagreement(&result, state, serial, &view, None) {
            problems.push(format!("{point}: {problem}"));
        }
        // The audit log tells the same story: the request, then exactly one
        // ending, the one the job reached.
        let ending = if job.state == JobState::Provisioned {
            "provisioning_completed"
        } else {
            "provisioning_failed"
        };
        let audit: Vec<String> = audit_rows(&dir, device_id)
            .into_iter()
            .map(|(event, _)| event)
            .filter(|e| {
                [
                    "pairing_requested",
                    "provisioning_completed",
                    "provisioning_failed",
                ]
                .contains(&e.as_str())
            })
            .collect();
        if audit != ["pairing_requested", ending] {
            problems.push(format!("{point}: audit {audit:?}, the job {:?}", job.state));
        }
        outcomes.push((*point, view.revoked));
        if state == MonitorState::Provisioned {
            eventually(
                &format!("{device_id}'s heartbeats are accepted"),
                || async { station_view(&dir, device_id).heartbeats > 0 },
            )
            .await;
        }
    }
    // Every certificate the station revoked is in the CRL it publishes.
    let crl = crl_serials(
        &station
            .client()
            .certificate_revocation_list()
            .await
            .expect("CRL"),
    );
    for (point, revoked) in outcomes {
        let unlisted: Vec<&String> = revoked.iter().filter(|s| !crl.contains(s)).collect();
        if !unlisted.is_empty() {
            problems.push(format!("{point}: revoked but not in the CRL: {unlisted:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} kill points disagree:\n{}",
        problems.len(),
        jobs.len(),
        problems.join("\n")
    );
    println!("{} station kills, all agreeing", jobs.len());
}

/// Revokes a certificate behind the station's back, as a station that lost
/// track of a commit would have: the monitor still believes it is paired.
fn revoke_in_database(world: &World, serial: &str) {
    let db = station_database(&world.station_dir());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let changed = db
        .execute(
            "UPDATE certificates SET revoked_at = ?2, revocation_reason = 'test' WHERE serial = ?1",
            params![serial, now],
        )
        .expect("revoke");
    assert_eq!(changed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_whose_certificate_the_station_revoked_learns_it_is_not_paired() {
    let mut world = World::start().await;
    let tech = world.session(TECHNICIAN).await;
    let admin = world.session(zpair_tests::ADMINISTRATOR).await;
    let mut paired = Vec::new();
    for device_id in ["ZM-REVOKED-01", "ZM-REVOKED-02", "ZM-BYSTANDER"] {
        let m = world.add_monitor(device_id).await;
        let screen = world.monitors[m]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
        let result = world
            .pair_typed(&tech, device_id, &screen.code.display())
            .await;
        assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
        assert_eq!(world.monitors[m].notice(), None);
        let serial = world.monitors[m]
            .configuration()
            .expect("configuration")
            .certificate_serial;
        paired.push((m, device_id, serial));
    }

    // Refused by the heartbeat handler: the revocation list is not re-signed
    // yet, so the heartbeat's connection still gets through.
    let (first, first_id, first_serial) = paired[0].clone();
    revoke_in_database(&world, &first_serial);

    // Refused at the TLS handshake: the monitor is off while its certificate
    // is revoked and the list re-signed (an administrator de-provisions
    // another monitor), then comes back on a new connection, and confirms
    // the alert with the station's revocation list.
    let (second, second_id, second_serial) = paired[1].clone();
    let ip = world.monitors[second].local_addr().ip();
    let monitor = world.monitors.remove(second);
    monitor.shutdown().await;
    revoke_in_database(&world, &second_serial);
    let token = admin.access_token().await.expect("token");
    world
        .client()
        .deprovision(&token, "ZM-BYSTANDER", "Retired: the CRL is signed again")
        .await
        .expect("de-provision");
    let again = world.start_monitor(second_id, ip).await;
    world.monitors.insert(second, again);

    for (index, device_id) in [(first, first_id), (second, second_id)] {
        let monitor = &world.monitors[index];
        eventually(&format!("{device_id} learns it is not paired"), || async {
            monitor.state() == MonitorState::Unprovisioned
        })
        .await;
        assert_eq!(monitor.configuration(), None, "its configuration is gone");
        let notice = monitor.notice().expect("the screen says why");
        assert!(notice.starts_with("Not paired"), "{notice}");
        eventually(&format!("the station raises {device_id}"), || async {
            world
                .station_view(device_id)
                .alert
                .is_some_and(|a| a.contains("believes it is paired"))
        })
        .await;
        let token = tech.access_token().await.expect("token");
        let status = world
            .client()
            .device_status(&token, device_id)
            .await
            .expect("status");
        assert!(status.alert.is_some(), "the API shows the alert");
    }
}

/// A job whose commit got no answer waits for the monitor's proof of commit
/// (CONFIRMING) for as long as the fail-safe window; it has nothing more to
/// exchange with its monitor, so it must not keep a turn from the jobs
/// queued behind it. With one turn, the second pairing runs to its end while
/// the first still waits: under load, jobs waiting for proofs held every
/// turn and every other job stood queued.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_waiting_for_its_proof_of_commit_leaves_its_turn_to_the_next() {
    let mut world = World::start_with(WorldOptions {
        parallel_exchanges: 1,
        // Far longer than a pairing takes, even on a loaded machine.
        fail_safe: Duration::from_secs(10),
        ..WorldOptions::default()
    })
    .await;
    let runs = calibrate(&mut world).await;
    let commit = runs[6];
    assert_eq!(
        commit.direction,
        Direction::Up,
        "the commit request: {runs:?}"
    );
    let added = world
        .add_monitors_behind_proxies(&["ZM-WAITING".to_owned()])
        .await;
    let (waiting, proxy) = &added[0];
    let next = world.add_monitor("ZM-NEXT").await;
    let tech = world.session(TECHNICIAN).await;
    // The commit request never reaches the monitor whole: the station
    // cannot know whether it committed, and waits for a proof that will not
    // come. (Cut half-way, clear of the few bytes by which one exchange's
    // messages differ from another's.)
    let fired = proxy.arm(CutPoint {
        direction: Direction::Up,
        after: commit.start + commit.len / 2,
    });

    let world = &world;
    let database = world.station_dir();
    let first = pair_typed(world, &tech, *waiting);
    let second = async {
        eventually("the first job waits for its proof of commit", || async {
            latest_job_state(&database, "ZM-WAITING").as_deref() == Some("CONFIRMING")
        })
        .await;
        let result = pair_typed(world, &tech, next).await;
        (result, latest_job_state(&database, "ZM-WAITING"))
    };
    let (first, (second, first_meanwhile)) = tokio::join!(first, second);

    assert!(fired.await.is_ok(), "the commit request was never cut");
    assert!(
        matches!(second, PairResult::Provisioned(_)),
        "the second pairing: {second:?}"
    );
    assert_eq!(
        first_meanwhile.as_deref(),
        Some("CONFIRMING"),
        "the second pairing waited for the first job's window to close"
    );
    assert_eq!(first, PairResult::Failed(FailureReason::CommitUnconfirmed));
}
