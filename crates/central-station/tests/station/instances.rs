//! Several station instances on one database: what one commits, the others
//! see and act on — live job steps, revoked certificates and sessions (on
//! PostgreSQL, through its notifications), and the jobs of an instance that
//! died (through their leases, on either database).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use central_station::params;
use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::api::{FailureReason, JobEvent, JobState, JobSummary, PairAccepted};

use crate::support::monitor::FakeMonitor;
use crate::support::{ADMIN, TECH, TestStation, eventually, parse_sse, record};

/// A monitor registered with a first instance on PostgreSQL, a second
/// instance beside it, and the monitor (in provisioning mode) with its
/// pairing code and token.
async fn two_instances(device_id: &str) -> (TestStation, TestStation, FakeMonitor) {
    let monitor = FakeMonitor::start(device_id, IpAddr::V4(Ipv4Addr::LOCALHOST), 0).await;
    let first = TestStation::builder()
        .postgres()
        .monitor_port(monitor.addr.port())
        .start()
        .await;
    monitor.trust(&first.station().station_public_key());
    first.register(&monitor.record()).await;
    let second = first.another_instance("second").await;
    (first, second, monitor)
}

/// Asks `station` to pair `monitor`.
async fn pair_on(station: &TestStation, monitor: &FakeMonitor, bearer: &str) -> String {
    let (code, token) = monitor.enter_provisioning();
    let answer = station
        .post(
            "/api/provisioning/pair",
            Some(bearer),
            &json!({ "deviceId": monitor.device_id, "pairingCode": code, "pairingToken": token }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    answer.json::<PairAccepted>().job_id
}

/// Reads a live event stream until an event satisfies `last`.
async fn read_until(
    mut response: reqwest::Response,
    last: impl Fn(&JobEvent) -> bool,
) -> Vec<JobEvent> {
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let chunk = response.chunk().await.expect("stream").expect("open");
            text.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            // Whole events only: the last may still be arriving.
            let whole = &text[..text.rfind("\n\n").map_or(0, |end| end + 2)];
            let events = parse_sse(whole);
            if events.iter().any(&last) {
                return events;
            }
        }
    })
    .await
    .expect("the awaited event arrives")
}

#[tokio::test]
async fn a_pairing_run_by_one_instance_is_followed_live_on_another() {
    let (first, second, monitor) = two_instances("ZM-INST-1").await;
    let tech = first.token(TECH).await;
    // The device stream carries only what happens from now on: the second
    // instance can hear of it only from the database.
    let stream = second
        .client()
        .get(second.url("/api/devices/ZM-INST-1/events"))
        .bearer_auth(&tech)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let job_id = pair_on(&first, &monitor, &tech).await;
    let events = read_until(stream, |e| e.state.is_terminal()).await;
    assert!(events.iter().all(|e| e.job_id == job_id));
    let summary: JobSummary = second
        .get(&format!("/api/provisioning/jobs/{job_id}"), &tech)
        .await
        .json();
    assert_eq!(summary.state, JobState::Provisioned);
    let live: Vec<JobState> = events.iter().map(|e| e.state).collect();
    let recorded: Vec<JobState> = summary.events.iter().map(|e| e.state).collect();
    assert_eq!(live, recorded, "every step, in order, once");
    assert_eq!(live.first(), Some(&JobState::Pairing));
}

#[tokio::test]
async fn a_certificate_revoked_through_one_instance_leaves_every_instances_crl() {
    let (first, second, monitor) = two_instances("ZM-INST-2").await;
    let tech = first.token(TECH).await;
    let job_id = pair_on(&first, &monitor, &tech).await;
    let events = first.job_events(&job_id, &tech).await;
    assert_eq!(events.last().map(|e| e.state), Some(JobState::Provisioned));
    assert!(second.revoked_serials().await.is_empty());

    let admin = first.token(ADMIN).await;
    let gone = first
        .post(
            "/api/devices/ZM-INST-2/deprovision",
            Some(&admin),
            &json!({ "reason": "stolen" }),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    let revoked = first.revoked_serials().await;
    assert_eq!(revoked.len(), 1, "the monitor's certificate");
    // The second instance's list (and its TLS, which is built from it).
    eventually(
        "the other instance re-signs its revocation list",
        || async { second.revoked_serials().await == revoked },
    )
    .await;
}

#[tokio::test]
async fn signing_out_through_one_instance_ends_the_streams_on_another() {
    let (first, second, _monitor) = two_instances("ZM-INST-3").await;
    let session = first.login(TECH).await;
    let stream = second
        .client()
        .get(second.url("/api/devices/ZM-INST-3/events"))
        .bearer_auth(session.access_token.expose())
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let out = first
        .post(
            "/api/auth/logout",
            Some(session.access_token.expose()),
            &json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    // Long before the token would expire (15 minutes).
    tokio::time::timeout(Duration::from_secs(10), stream.text())
        .await
        .expect("the stream ends")
        .expect("a clean end");
}

/// On either database: jobs are leased by the instance running them.
#[tokio::test]
async fn a_job_whose_instance_stopped_renewing_its_lease_is_failed_by_another() {
    let mut station = TestStation::start().await;
    let key = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-LEASE-1", &key, "127.0.0.9"))
        .await;
    station.stop().await;
    // What another instance leaves while it runs a job: the job (leased for
    // a minute more), a certificate issued, the device in PAIRING.
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    {
        let db = station.sql();
        db.execute(
            "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at,
                               owner, lease_until_ms)
             VALUES ('leased-job', 'ZM-LEASE-1', 'tech', 'CONFIGURING', 1, 1, 'elsewhere', ?1)",
            params![now_ms + 60_000],
        )
        .expect("job");
        db.execute(
            "INSERT INTO job_events (job_id, state, message, at) VALUES ('leased-job', 'PAIRING', 'step', 1)",
            [],
        )
        .expect("event");
        db.execute(
            "INSERT INTO certificates (serial, device_id, job_id, not_before, not_after, issued_at, pem)
             VALUES ('5e7a5e', 'ZM-LEASE-1', 'leased-job', 1, 99999999999, 1, 'PEM')",
            [],
        )
        .expect("certificate");
        db.execute(
            "UPDATE devices SET state = 'PAIRING', state_before_pairing = 'UNPROVISIONED'
             WHERE device_id = 'ZM-LEASE-1'",
            [],
        )
        .expect("device");
    }
    station.start_again().await;
    let tech = station.token(TECH).await;
    let state_of = || async {
        station
            .get("/api/provisioning/jobs/leased-job", &tech)
            .await
            .json::<JobSummary>()
    };
    // A live lease is left alone: at start, and by the sweeps after it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(state_of().await.state, JobState::Configuring);

    // Its instance stops renewing it.
    station
        .sql()
        .execute(
            "UPDATE jobs SET lease_until_ms = ?1 WHERE id = 'leased-job'",
            params![now_ms - 1],
        )
        .expect("expire");
    eventually("another instance takes the job over", || async {
        state_of().await.state == JobState::Failed
    })
    .await;
    let job = state_of().await;
    assert_eq!(job.reason, Some(FailureReason::Interrupted));
    let revoked: Option<i64> = station
        .sql()
        .query_row(
            "SELECT revoked_at FROM certificates WHERE serial = '5e7a5e'",
            [],
            |r| r.get(0),
        )
        .expect("certificate");
    assert!(revoked.is_some(), "its certificate is revoked");
    let owner: String = station
        .sql()
        .query_row("SELECT owner FROM jobs WHERE id = 'leased-job'", [], |r| {
            r.get(0)
        })
        .expect("owner");
    assert_eq!(owner, central_station::DEFAULT_INSTANCE_ID);
    let answer = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-LEASE-1", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::ACCEPTED,
        "the device can be paired again: {}",
        answer.body
    );
}

#[tokio::test]
async fn a_second_instance_under_a_running_ones_name_is_refused() {
    let mut first = TestStation::builder().postgres().start().await;
    let mut twin = first.config.clone();
    twin.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    // Same name: it would take the running one's jobs for its own.
    let refused = central_station::Station::start(twin.clone()).await;
    let Err(error) = refused else {
        panic!("a second instance under the same name started");
    };
    let error = error.to_string();
    assert!(error.contains("--instance-id"), "{error}");
    // Once the first has stopped, the name is free again (a restart).
    first.stop().await;
    let second = central_station::Station::start(twin)
        .await
        .expect("the name is free once its instance stopped");
    second.shutdown().await;
}

/// A write that waits for the database's lock past its timeout (another
/// instance, or an operator's session, holds the write lock) is answered
/// 503 `station_busy`, to be tried again, not 500; once the lock is free
/// the same request succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_held_up_past_the_lock_timeout_is_busy_not_broken() {
    let station = TestStation::builder().postgres().start().await;
    let admin = station.token(ADMIN).await;
    let central_station::db::Database::Postgres { url, .. } = station.config.database.clone()
    else {
        panic!("on PostgreSQL");
    };
    let (held, holding) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut tx = client.transaction().expect("begin");
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&central_station::db::WRITE_LOCK],
        )
        .expect("the write lock");
        held.send(()).expect("the test waits");
        let _ = released.recv_timeout(Duration::from_secs(120));
        tx.commit().expect("commit");
    });
    holding
        .recv_timeout(Duration::from_secs(30))
        .expect("the lock is held");
    let body = json!({ "username": "held-up", "displayName": "Held Up", "role": "technician" });
    let answer = station.post("/api/users", Some(&admin), &body).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(answer.code(), zpair_proto::ErrorCode::StationBusy);
    release.send(()).expect("the holder waits");
    holder.join().expect("the holder ends");
    let answer = station.post("/api/users", Some(&admin), &body).await;
    assert!(answer.status.is_success(), "{}", answer.body);
}
