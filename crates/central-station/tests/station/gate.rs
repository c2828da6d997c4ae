//! The one pairing gate: a PROVISIONED monitor is paired again only through
//! a confirmed re-provisioning (once, within its window), a DEPROVISIONED
//! one only after an administrator re-admits it; the step-up confirmation
//! is bound to account, sign-in, device and action and spent with the
//! change; de-provisioning and pairing never both win.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use zpair_proto::ErrorCode;

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::api::{DeviceState, DeviceSummary, JobState, PairAccepted, Session};

use crate::support::monitor::FakeMonitor;
use crate::support::{ADMIN, Answer, TECH, TestStation};

/// A station (configured by `configure`) and a registered monitor at `ip`
/// on the station's monitor port (0: pick one).
async fn world(
    device_id: &str,
    configure: impl FnOnce(&mut central_station::StationConfig) + 'static,
) -> (TestStation, FakeMonitor) {
    let monitor = FakeMonitor::start(device_id, IpAddr::V4(Ipv4Addr::LOCALHOST), 0).await;
    let station = TestStation::builder()
        .monitor_port(monitor.addr.port())
        .with_config(configure)
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    station.register(&monitor.record()).await;
    (station, monitor)
}

/// Puts the monitor in provisioning mode and asks the station to pair it.
async fn try_pair(station: &TestStation, monitor: &FakeMonitor, bearer: &str) -> Answer {
    let (code, token) = monitor.enter_provisioning();
    station
        .post(
            "/api/provisioning/pair",
            Some(bearer),
            &json!({ "deviceId": monitor.device_id, "pairingCode": code, "pairingToken": token }),
        )
        .await
}

/// Pairs the monitor and follows the job to its end.
async fn pair(station: &TestStation, monitor: &FakeMonitor, bearer: &str) -> JobState {
    let answer = try_pair(station, monitor, bearer).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let accepted: PairAccepted = answer.json();
    let events = station.job_events(&accepted.job_id, bearer).await;
    events.last().map(|e| e.state).expect("events")
}

/// `POST /api/devices/{id}/{action}` with a reason (de-provision, re-admit).
async fn order(
    station: &TestStation,
    bearer: &str,
    device_id: &str,
    action: &str,
    reason: &str,
) -> Answer {
    station
        .post(
            &format!("/api/devices/{device_id}/{action}"),
            Some(bearer),
            &json!({ "reason": reason }),
        )
        .await
}

fn refused(answer: &Answer, code: &str) {
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (StatusCode::CONFLICT, code),
        "{}",
        answer.body
    );
}

fn device_state(station: &TestStation, device_id: &str) -> String {
    station
        .sql()
        .query_row(
            "SELECT state FROM devices WHERE device_id = ?1",
            [device_id],
            |r| r.get(0),
        )
        .expect("device")
}

#[tokio::test]
async fn a_provisioned_monitor_is_paired_again_once_per_confirmed_reprovisioning() {
    let (station, monitor) = world("ZM-GATE-1", |_| {}).await;
    let tech = station.token(TECH).await;
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);

    // Without a confirmation: refused, and audited as such.
    refused(
        &try_pair(&station, &monitor, &tech).await,
        "reprovision_required",
    );
    assert!(
        station
            .audit("ZM-GATE-1")
            .iter()
            .any(|(e, ok, error, actor)| e == "pairing_requested"
                && !ok
                && error.as_deref() == Some("reprovision_required")
                && actor.as_deref() == Some("tech"))
    );

    // With one: paired once.
    let confirmation = station.confirmation(&tech, "ZM-GATE-1").await;
    let done = station.reprovision(&tech, "ZM-GATE-1", &confirmation).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    // A failed pairing (a wrong code) does not use the authorisation up.
    let wrong = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-GATE-1", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::ACCEPTED, "{}", wrong.body);
    let job: PairAccepted = wrong.json();
    let failed = station.job_events(&job.job_id, &tech).await;
    assert_eq!(failed.last().map(|e| e.state), Some(JobState::Failed));
    assert_eq!(device_state(&station, "ZM-GATE-1"), "AWAITING_REPROVISION");
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);

    // The second use of the same re-provisioning is refused, and so is the
    // spent confirmation.
    refused(
        &try_pair(&station, &monitor, &tech).await,
        "reprovision_required",
    );
    let again = station.reprovision(&tech, "ZM-GATE-1", &confirmation).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ConfirmationRequired)
    );
}

#[tokio::test]
async fn a_reprovisioning_authorises_its_pairing_only_within_its_window() {
    let (station, monitor) = world("ZM-GATE-2", |c| {
        c.reprovision_window = Duration::from_millis(300);
    })
    .await;
    let tech = station.token(TECH).await;
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);
    let confirmation = station.confirmation(&tech, "ZM-GATE-2").await;
    let done = station.reprovision(&tech, "ZM-GATE-2", &confirmation).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    tokio::time::sleep(Duration::from_millis(400)).await;
    refused(
        &try_pair(&station, &monitor, &tech).await,
        "reprovision_required",
    );
    // Re-provisioning again opens a new window.
    let confirmation = station.confirmation(&tech, "ZM-GATE-2").await;
    let renewed = station.reprovision(&tech, "ZM-GATE-2", &confirmation).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);
}

#[tokio::test]
async fn a_deprovisioned_monitor_is_refused_until_an_administrator_readmits_it() {
    let (station, monitor) = world("ZM-GATE-3", |_| {}).await;
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let readmit = |bearer: String| {
        let station = &station;
        async move {
            let reason = "found in the storeroom, wiped";
            order(station, &bearer, "ZM-GATE-3", "readmit", reason).await
        }
    };
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);
    refused(&readmit(admin.clone()).await, "device_not_deprovisioned");

    let gone = order(&station, &admin, "ZM-GATE-3", "deprovision", "stolen").await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    refused(
        &try_pair(&station, &monitor, &tech).await,
        "device_deprovisioned",
    );
    // A re-provisioning is no way round it.
    let confirmation = station.confirmation(&tech, "ZM-GATE-3").await;
    refused(
        &station.reprovision(&tech, "ZM-GATE-3", &confirmation).await,
        "device_not_provisioned",
    );

    let by_tech = readmit(tech.clone()).await;
    assert_eq!(
        (by_tech.status, by_tech.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole)
    );
    let blank = order(&station, &admin, "ZM-GATE-3", "readmit", " ").await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    let back = readmit(admin.clone()).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(
        back.json::<DeviceSummary>().state,
        DeviceState::Unprovisioned
    );
    assert!(
        station
            .audit("ZM-GATE-3")
            .iter()
            .any(|(e, ok, _, actor)| e == "readmitted" && *ok && actor.as_deref() == Some("admin"))
    );
    let reason: String = station
        .sql()
        .query_row("SELECT reason FROM device_readmissions", [], |r| r.get(0))
        .expect("readmission");
    assert_eq!(reason, "found in the storeroom, wiped");
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);
}

#[tokio::test]
async fn a_confirmation_is_bound_to_its_device_and_sign_in_and_a_refusal_spends_nothing() {
    let (station, monitor) = world("ZM-GATE-A", |_| {}).await;
    // B on another loopback address, same monitor port.
    let other = FakeMonitor::start(
        "ZM-GATE-B",
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        monitor.addr.port(),
    )
    .await;
    other.trust(&station.station().station_public_key());
    station.register(&other.record()).await;
    let session: Session = station.login(TECH).await;
    let tech = session.access_token.expose().clone();
    assert_eq!(pair(&station, &monitor, &tech).await, JobState::Provisioned);
    assert_eq!(pair(&station, &other, &tech).await, JobState::Provisioned);

    let for_a = station.confirmation(&tech, "ZM-GATE-A").await;
    // A's confirmation on B.
    let on_b = station.reprovision(&tech, "ZM-GATE-B", &for_a).await;
    assert_eq!(
        (on_b.status, on_b.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ConfirmationRequired)
    );
    // The same account in another sign-in.
    let elsewhere = station.token(TECH).await;
    assert_eq!(
        station
            .reprovision(&elsewhere, "ZM-GATE-A", &for_a)
            .await
            .code(),
        ErrorCode::ConfirmationRequired
    );
    // A 409 (a job running) spends nothing.
    station
        .sql()
        .execute(
            "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at)
             VALUES ('held', 'ZM-GATE-A', 'tech', 'PAIRING', 0, 0)",
            [],
        )
        .expect("a running job");
    refused(
        &station.reprovision(&tech, "ZM-GATE-A", &for_a).await,
        "pairing_in_progress",
    );
    station
        .sql()
        .execute("UPDATE jobs SET state = 'FAILED' WHERE id = 'held'", [])
        .expect("job ends");
    // A refresh keeps the sign-in: the confirmation still works, once, on A.
    let refreshed: Session = station
        .post(
            "/api/auth/refresh",
            None,
            &json!({ "refreshToken": session.refresh_token }),
        )
        .await
        .json();
    let done = station
        .reprovision(refreshed.access_token.expose(), "ZM-GATE-A", &for_a)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(device_state(&station, "ZM-GATE-B"), "PROVISIONED");
    assert!(other.commands().is_empty(), "B was never sent a command");
}

#[tokio::test]
async fn deprovisioning_racing_a_pairing_ends_in_one_consistent_state() {
    const ROUNDS: usize = 40;
    let (station, monitor) = world("ZM-GATE-RACE", |c| {
        c.rate_limits.per_device_per_minute = 1000;
        c.rate_limits.per_technician_per_minute = 1000;
    })
    .await;
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let deprovision = || order(&station, &admin, "ZM-GATE-RACE", "deprovision", "race");
    // Staggered by a few scheduler turns so it lands on both sides of the
    // moment the job opens.
    let staggered = |round: usize| async move {
        for _ in 0..round % 3 {
            tokio::task::yield_now().await;
        }
        deprovision().await
    };
    let (mut deprovision_won, mut during_job) = (0, 0);
    for round in 0..ROUNDS {
        let (paired, gone) = tokio::join!(try_pair(&station, &monitor, &tech), staggered(round));
        let job = (paired.status == StatusCode::ACCEPTED).then(|| paired.json::<PairAccepted>());
        let ended = match &job {
            Some(job) => station
                .job_events(&job.job_id, &tech)
                .await
                .last()
                .map(|e| e.state),
            None => None,
        };
        let state = device_state(&station, "ZM-GATE-RACE");
        let live: i64 = station
            .sql()
            .query_row(
                "SELECT COUNT(*) FROM certificates c JOIN devices d USING (device_id)
                 WHERE c.device_id = 'ZM-GATE-RACE' AND c.revoked_at IS NULL
                   AND c.serial = d.certificate_serial",
                [],
                |r| r.get(0),
            )
            .expect("certificates");
        let unrevoked_others: i64 = station
            .sql()
            .query_row(
                "SELECT COUNT(*) FROM certificates c JOIN devices d USING (device_id)
                 WHERE c.device_id = 'ZM-GATE-RACE' AND c.revoked_at IS NULL
                   AND c.serial IS DISTINCT FROM d.certificate_serial",
                [],
                |r| r.get(0),
            )
            .expect("certificates");
        let context = format!(
            "round {round}: pair {} {}, deprovision {} {}, job {ended:?}, device {state}",
            paired.status, paired.body, gone.status, gone.body
        );
        assert_eq!(unrevoked_others, 0, "{context}");
        if gone.status == StatusCode::OK {
            // The de-provisioning stands: whatever the pairing did, it did before.
            assert_eq!(state, "DEPROVISIONED", "{context}");
            assert_eq!(live, 0, "no live certificate: {context}");
            deprovision_won += 1;
        } else {
            refused(&gone, "pairing_in_progress");
            assert_eq!(ended, Some(JobState::Provisioned), "{context}");
            assert_eq!((state.as_str(), live), ("PROVISIONED", 1), "{context}");
            during_job += 1;
            let later = deprovision().await;
            assert_eq!(later.status, StatusCode::OK, "{}", later.body);
        }
        if job.is_none() {
            refused(&paired, "device_deprovisioned");
        }
        let back = order(&station, &admin, "ZM-GATE-RACE", "readmit", "next round").await;
        assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    }
    println!("de-provisioned {deprovision_won}, refused during the job {during_job}");
}
