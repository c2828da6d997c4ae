//! Pairing jobs, station → monitor, against a fake monitor on loopback.

use std::net::{IpAddr, Ipv4Addr};
use zpair_proto::ErrorCode;

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::api::{
    CertificateValidity, ConnectedStatus, ConnectionState, DeviceState, DeviceSummary,
    FailureReason, JobEvent, JobState, JobSummary, PairAccepted,
};
use zpair_proto::device::Heartbeat;

use crate::support::monitor::FakeMonitor;
use crate::support::{TECH, TestStation, closed_port, eventually, record};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn states(events: &[JobEvent]) -> Vec<JobState> {
    events.iter().map(|e| e.state).collect()
}

/// A station and a registered fake monitor that trusts it, in provisioning mode.
async fn paired_world(device_id: &str) -> (TestStation, FakeMonitor, String, String) {
    let monitor = FakeMonitor::start(device_id, LOOPBACK, 0).await;
    let station = TestStation::builder()
        .monitor_port(monitor.addr.port())
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    station.register(&monitor.record()).await;
    let (code, token) = monitor.enter_provisioning();
    (station, monitor, code, token)
}

async fn pair(station: &TestStation, bearer: &str, body: serde_json::Value) -> PairAccepted {
    let answer = station
        .post("/api/provisioning/pair", Some(bearer), &body)
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    answer.json()
}

fn heartbeat() -> Heartbeat {
    Heartbeat {
        uptime_seconds: 60,
        bytes_sent: 1234,
        errors: 2,
        firmware_version: "1.2.4".into(),
        connection_test: false,
    }
}

#[tokio::test]
async fn a_scanned_pairing_reaches_provisioned_and_heartbeats_show_connected() {
    let (station, monitor, code, token) = paired_world("ZM-JOB-1").await;
    let tech = station.token(TECH).await;
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-JOB-1", "pairingCode": code, "pairingToken": token, "ipAddress": "127.0.0.1" }),
    )
    .await;
    let events = station.job_events(&accepted.job_id, &tech).await;
    assert_eq!(
        states(&events),
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Provisioned
        ]
    );
    assert!(events.iter().all(|e| e.job_id == accepted.job_id
        && e.device_id == "ZM-JOB-1"
        && !e.message.is_empty()));

    let committed = monitor.await_commit(None).await;
    let c = &committed.configuration;
    assert_eq!(c.server_url, station.station().url());
    assert_eq!(c.ca_certificate, station.station().ca_certificate_pem());
    assert_eq!(
        (c.device_label.as_str(), c.bed_id.as_str()),
        ("LABEL-ZM-JOB-1", "BED-ZM-JOB-1")
    );
    assert_eq!(c.expires_at - c.timestamp, time::Duration::hours(1));

    // Re-reading the stream of a finished job replays it and ends.
    assert_eq!(station.job_events(&accepted.job_id, &tech).await, events);
    let summary: JobSummary = station
        .get(
            &format!("/api/provisioning/jobs/{}", accepted.job_id),
            &tech,
        )
        .await
        .json();
    assert_eq!(
        (summary.state, summary.reason, summary.events.len()),
        (JobState::Provisioned, None, 4)
    );

    let status: ConnectedStatus = station
        .get("/api/devices/ZM-JOB-1/status", &tech)
        .await
        .json();
    assert_eq!(
        (status.state, status.connection_state),
        (DeviceState::Provisioned, ConnectionState::Never)
    );
    let certificate = status.certificate.expect("certificate");
    assert_eq!(
        (certificate.serial.clone(), certificate.validity),
        (committed.serial(), CertificateValidity::Valid)
    );

    let mtls = station.mtls_client(&c.client_certificate, &committed.key_pem);
    for _ in 0..2 {
        let beat = station
            .call_with(
                &mtls,
                reqwest::Method::POST,
                "/api/devices/heartbeat",
                None,
                Some(&heartbeat()),
            )
            .await;
        assert_eq!(beat.status, StatusCode::NO_CONTENT, "{}", beat.body);
    }
    let status: ConnectedStatus = station
        .get("/api/devices/ZM-JOB-1/status", &tech)
        .await
        .json();
    assert_eq!(status.connection_state, ConnectionState::Connected);
    assert_eq!(
        (
            status.counters.heartbeats,
            status.counters.bytes_sent,
            status.counters.errors
        ),
        (2, 1234, 2)
    );
    assert_eq!(status.uptime_seconds, 60);
    assert_eq!(
        status.server_url.as_deref(),
        Some(station.station().url().as_str())
    );
    // Three heartbeat intervals (300 ms here) without one: disconnected.
    eventually("disconnected after missed heartbeats", || async {
        let status: ConnectedStatus = station
            .get("/api/devices/ZM-JOB-1/status", &tech)
            .await
            .json();
        status.connection_state == ConnectionState::Disconnected
    })
    .await;

    let trail: Vec<String> = station
        .audit("ZM-JOB-1")
        .into_iter()
        .filter(|(_, ok, _, _)| *ok)
        .map(|(e, ..)| e)
        .collect();
    for step in [
        "pairing_requested",
        "monitor_identity_verified",
        "certificate_issued",
        "pairing_code_validated",
        "configuration_received",
        "configuration_applied",
        "connection_tested",
        "provisioning_completed",
    ] {
        assert!(
            trail.iter().any(|e| e == step),
            "audit lacks {step}: {trail:?}"
        );
    }
    let hashes: i64 = station
        .sql()
        .query_row(
            "SELECT COUNT(DISTINCT configuration_hash) FROM provisioning_events
             WHERE device_id = 'ZM-JOB-1' AND configuration_hash IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("hashes");
    assert_eq!(hashes, 1, "one configuration, one hash");
}

#[tokio::test]
async fn a_typed_code_pairs_at_the_registered_address_and_pairing_again_needs_a_reprovisioning() {
    let (station, monitor, code, _token) = paired_world("ZM-JOB-2").await;
    let tech = station.token(TECH).await;
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-JOB-2", "pairingCode": code.to_lowercase() }),
    )
    .await;
    assert_eq!(
        states(&station.job_events(&accepted.job_id, &tech).await).last(),
        Some(&JobState::Provisioned)
    );
    let first = monitor.await_commit(None).await.serial();

    // Put back into provisioning mode at its screen, the paired monitor is
    // not paired again with its new code alone.
    let (code, token) = monitor.enter_provisioning();
    let refused = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-JOB-2", "pairingCode": code, "pairingToken": token }),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, ErrorCode::ReprovisionRequired)
    );

    let confirmation = station.confirmation(&tech, "ZM-JOB-2").await;
    let reprovisioned = station.reprovision(&tech, "ZM-JOB-2", &confirmation).await;
    assert_eq!(
        reprovisioned.status,
        StatusCode::OK,
        "{}",
        reprovisioned.body
    );
    // The refused request did not spend the QR token: it is good now.
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-JOB-2", "pairingCode": code, "pairingToken": token }),
    )
    .await;
    assert_eq!(
        states(&station.job_events(&accepted.job_id, &tech).await).last(),
        Some(&JobState::Provisioned)
    );
    let second = monitor.await_commit(Some(&first)).await.serial();
    assert_ne!(first, second);
    let revoked = station.revoked_serials().await;
    assert!(
        revoked.contains(&first),
        "the replaced certificate is revoked"
    );
    assert!(!revoked.contains(&second));
}

#[tokio::test]
async fn an_unreachable_monitor_fails_as_monitor_unreachable_over_sse_and_in_the_audit() {
    let station = TestStation::builder()
        .monitor_port(closed_port())
        .start()
        .await;
    let identity = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-GONE-1", &identity, "127.0.0.9"))
        .await;
    let tech = station.token(TECH).await;

    // Follow the device live before the job starts.
    let device_stream = station
        .client()
        .get(station.url("/api/devices/ZM-GONE-1/events"))
        .bearer_auth(&tech)
        .send()
        .await
        .expect("device stream");
    assert_eq!(device_stream.status(), StatusCode::OK);

    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-GONE-1", "pairingCode": "ABC-DEF-GHJ" }),
    )
    .await;
    let events = station.job_events(&accepted.job_id, &tech).await;
    // Three attempts: each retry is a PAIRING step that says so.
    assert_eq!(
        states(&events),
        [
            JobState::Pairing,
            JobState::Pairing,
            JobState::Pairing,
            JobState::Failed
        ]
    );
    assert!(events[1].message.ends_with("trying again (2 of 3)."));
    assert!(events[2].message.ends_with("trying again (3 of 3)."));
    let failed = &events[3];
    assert_eq!(failed.reason, Some(FailureReason::MonitorUnreachable));
    assert_eq!(failed.message, FailureReason::MonitorUnreachable.message());

    let mut live = device_stream.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("FAILED") {
        use futures_util::StreamExt as _;
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), live.next())
            .await
            .expect("device event")
            .expect("stream open")
            .expect("chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let live_states = states(&crate::support::parse_sse(&seen));
    assert_eq!(
        live_states,
        [
            JobState::Pairing,
            JobState::Pairing,
            JobState::Pairing,
            JobState::Failed
        ]
    );

    let device: DeviceSummary = station.get("/api/devices/ZM-GONE-1", &tech).await.json();
    assert_eq!(
        device.state,
        DeviceState::Unprovisioned,
        "back to its state before the job"
    );
    let audit = station.audit("ZM-GONE-1");
    let rows: Vec<(&str, bool)> = audit
        .iter()
        .map(|(e, ok, _, _)| (e.as_str(), *ok))
        .collect();
    assert_eq!(
        rows[1..],
        [
            ("pairing_requested", true),
            ("monitor_contact_retried", false),
            ("monitor_contact_retried", false),
            ("provisioning_failed", false)
        ]
    );
    assert!(
        audit[2]
            .2
            .as_deref()
            .is_some_and(|e| e.starts_with("attempt 1 of 3 failed"))
    );
    assert!(
        audit[4]
            .2
            .as_deref()
            .is_some_and(|e| e.starts_with("monitor_unreachable"))
    );
    assert_eq!(audit[1].3.as_deref(), Some("tech"));
    let codes: i64 = station
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM provisioning_events WHERE pairing_code IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(codes, 0, "codes are never stored");

    // The administrator's view of the same rows.
    let admin = station.token(crate::support::ADMIN).await;
    let page: zpair_proto::admin::AuditPage = station
        .get("/api/audit?deviceId=ZM-GONE-1", &admin)
        .await
        .json();
    assert_eq!(
        page.events
            .first()
            .map(|r| (r.event_type.as_str(), r.success)),
        Some(("provisioning_failed", false))
    );
}

#[tokio::test]
async fn a_monitor_with_another_identity_key_fails_as_signature_invalid_and_gets_nothing() {
    let monitor = FakeMonitor::start("ZM-IMPOSTOR-1", LOOPBACK, 0).await;
    let station = TestStation::builder()
        .monitor_port(monitor.addr.port())
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    let registered = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-IMPOSTOR-1", &registered, "127.0.0.1"))
        .await;
    let (code, token) = monitor.enter_provisioning();
    let tech = station.token(TECH).await;
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-IMPOSTOR-1", "pairingCode": code, "pairingToken": token }),
    )
    .await;
    let events = station.job_events(&accepted.job_id, &tech).await;
    assert_eq!(
        events.last().and_then(|e| e.reason),
        Some(FailureReason::SignatureInvalid)
    );
    assert_eq!(
        monitor.challenges(),
        0,
        "the TLS pin stopped it before any request"
    );
    assert!(!monitor.staged() && monitor.committed().is_none());
}

#[tokio::test]
async fn a_wrong_code_fails_as_code_mismatch_and_revokes_the_certificate_it_issued() {
    let (station, monitor, code, _token) = paired_world("ZM-WRONG-1").await;
    let wrong = if code == "ABC-DEF-GHJ" {
        "ABC-DEF-GHK"
    } else {
        "ABC-DEF-GHJ"
    };
    let tech = station.token(TECH).await;
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-WRONG-1", "pairingCode": wrong }),
    )
    .await;
    let events = station.job_events(&accepted.job_id, &tech).await;
    assert_eq!(
        states(&events),
        [JobState::Pairing, JobState::Configuring, JobState::Failed]
    );
    assert_eq!(events[2].reason, Some(FailureReason::CodeMismatch));
    assert!(!monitor.staged());
    let (serial, revoked): (String, Option<i64>) = station
        .sql()
        .query_row(
            "SELECT serial, revoked_at FROM certificates WHERE device_id = 'ZM-WRONG-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("issued certificate");
    assert!(revoked.is_some());
    assert_eq!(station.revoked_serials().await, [serial]);
    // A token the monitor never issued is stale.
    let stale = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-WRONG-1", "pairingCode": code, "pairingToken": "AAECAwQFBgcICQoLDA0ODw" }),
    )
    .await;
    let events = station.job_events(&stale.job_id, &tech).await;
    assert_eq!(
        events.last().and_then(|e| e.reason),
        Some(FailureReason::TokenStale)
    );
}

#[tokio::test]
async fn a_failed_connection_test_fails_the_job_and_keeps_the_device_unpaired() {
    let monitor = FakeMonitor::start("ZM-CT-1", LOOPBACK, 0).await;
    let dead = format!("https://127.0.0.1:{}", closed_port());
    let station = TestStation::builder()
        .monitor_port(monitor.addr.port())
        .with_config(move |c| c.public_url = Some(dead))
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    station.register(&monitor.record()).await;
    let (code, token) = monitor.enter_provisioning();
    let tech = station.token(TECH).await;
    let accepted = pair(
        &station,
        &tech,
        json!({ "deviceId": "ZM-CT-1", "pairingCode": code, "pairingToken": token }),
    )
    .await;
    let events = station.job_events(&accepted.job_id, &tech).await;
    assert_eq!(
        states(&events),
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Failed
        ]
    );
    assert_eq!(events[3].reason, Some(FailureReason::ConnectionTestFailed));
    assert!(monitor.committed().is_none());
    let device: DeviceSummary = station.get("/api/devices/ZM-CT-1", &tech).await.json();
    assert_eq!(device.state, DeviceState::Unprovisioned);
    assert!(
        station
            .audit("ZM-CT-1")
            .iter()
            .any(|(e, ok, ..)| e == "connection_tested" && !ok)
    );
}
