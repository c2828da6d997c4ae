//! Restarting after a crash: no job is left running, no row is lost.

use central_station::params;
use reqwest::StatusCode;
use zpair_proto::api::{DeviceState, DeviceSummary, FailureReason, JobState, JobSummary};

use crate::support::{TECH, TestStation, record};

#[tokio::test]
async fn a_job_left_running_by_a_crash_fails_as_interrupted_on_restart() {
    let mut station = TestStation::start().await;
    let identity = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-CRASH-1", &identity, "127.0.0.9"))
        .await;
    station.stop().await;

    // What a crash in the middle of a job leaves behind: a job in CONFIGURING
    // with a certificate issued, the device in PAIRING (previously
    // UNPROVISIONED: the pairing gate lets no other pairing start).
    {
        let db = station.sql();
        db.execute(
            "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at)
             VALUES ('crashed-job', 'ZM-CRASH-1', 'tech', 'CONFIGURING', 1, 1)",
            [],
        )
        .expect("job");
        for (state, at) in [("PAIRING", 1_i64), ("CONFIGURING", 2)] {
            db.execute(
                "INSERT INTO job_events (job_id, state, message, at) VALUES ('crashed-job', ?1, 'step', ?2)",
                params![state, at],
            )
            .expect("event");
        }
        db.execute(
            "INSERT INTO certificates (serial, device_id, job_id, not_before, not_after, issued_at, pem)
             VALUES ('1a2b3c', 'ZM-CRASH-1', 'crashed-job', 1, 99999999999, 1, 'PEM')",
            [],
        )
        .expect("certificate");
        db.execute(
            "UPDATE devices SET state = 'PAIRING', state_before_pairing = 'UNPROVISIONED' WHERE device_id = 'ZM-CRASH-1'",
            [],
        )
        .expect("device");
    }
    let rows_before: i64 = station
        .sql()
        .query_row("SELECT COUNT(*) FROM provisioning_events", [], |r| r.get(0))
        .expect("count");

    station.start_again().await;
    let tech = station.token(TECH).await;
    let job: JobSummary = station
        .get("/api/provisioning/jobs/crashed-job", &tech)
        .await
        .json();
    assert_eq!(
        (job.state, job.reason),
        (JobState::Failed, Some(FailureReason::Interrupted))
    );
    let states: Vec<JobState> = job.events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [JobState::Pairing, JobState::Configuring, JobState::Failed]
    );
    // The stream of the finished job replays it and ends.
    let events = station.job_events("crashed-job", &tech).await;
    assert_eq!(
        events.last().and_then(|e| e.reason),
        Some(FailureReason::Interrupted)
    );

    let device: DeviceSummary = station.get("/api/devices/ZM-CRASH-1", &tech).await.json();
    assert_eq!(
        device.state,
        DeviceState::Unprovisioned,
        "back to its state before the job"
    );
    let revoked: Option<i64> = station
        .sql()
        .query_row(
            "SELECT revoked_at FROM certificates WHERE serial = '1a2b3c'",
            [],
            |r| r.get(0),
        )
        .expect("certificate");
    assert!(
        revoked.is_some(),
        "the certificate the job issued is revoked"
    );
    let audit = station.audit("ZM-CRASH-1");
    assert!(
        audit
            .iter()
            .any(|(e, ok, err, _)| e == "provisioning_failed"
                && !ok
                && err.as_deref() == Some("interrupted"))
    );
    let rows_after: i64 = station
        .sql()
        .query_row("SELECT COUNT(*) FROM provisioning_events", [], |r| r.get(0))
        .expect("count");
    assert!(rows_after > rows_before);

    // The device can be paired again (no job is left blocking it).
    let answer = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &serde_json::json!({ "deviceId": "ZM-CRASH-1", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
}
