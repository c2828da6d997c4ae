//! `POST /api/provisioning/pair`: what it refuses, before any job runs.

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::ErrorCode;
use zpair_proto::api::{JobState, JobSummary, PairAccepted};

use crate::support::{ADMIN, TECH, TECH2, TestStation, record};

fn key() -> zpair_proto::crypto::SigningKey {
    zpair_proto::crypto::generate_signing_key().expect("key")
}

/// A monitor address where connections are accepted and never answered, so
/// a job stays in PAIRING until its timeout.
fn silent_monitor() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("silent");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODw";

#[tokio::test]
async fn malformed_requests_and_unknown_devices_are_refused() {
    let station = TestStation::start().await;
    station
        .register(&record("ZM-PR-1", &key(), "127.0.0.9"))
        .await;
    let tech = station.token(TECH).await;
    let pair = |body: serde_json::Value| {
        let tech = tech.clone();
        let station = &station;
        async move {
            station
                .post("/api/provisioning/pair", Some(&tech), &body)
                .await
        }
    };

    let unknown = pair(json!({ "deviceId": "ZM-NOT-THERE", "pairingCode": "ABC-DEF-GHJ" })).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, ErrorCode::UnknownDevice)
    );
    for code in ["ABC-DEF-GH", "ABC-DEF-GH0", "ABC-DEF-GHJK", ""] {
        let bad = pair(json!({ "deviceId": "ZM-PR-1", "pairingCode": code })).await;
        assert_eq!(
            (bad.status, bad.code()),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidCode),
            "{code}"
        );
    }
    let token = pair(
        json!({ "deviceId": "ZM-PR-1", "pairingCode": "ABC-DEF-GHJ", "pairingToken": "short" }),
    )
    .await;
    assert_eq!(
        (token.status, token.code()),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
    let ip = pair(json!({ "deviceId": "ZM-PR-1", "pairingCode": "ABC-DEF-GHJ", "ipAddress": "monitor.local" })).await;
    assert_eq!(ip.code(), ErrorCode::InvalidRequest);
    let shape = pair(json!({ "deviceId": 4 })).await;
    assert_eq!(
        (shape.status, shape.code()),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );

    let audit = station.audit("ZM-NOT-THERE");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].0.as_str(), audit[0].1, audit[0].2.as_deref()),
        ("pairing_requested", false, Some("unknown_device"))
    );
}

#[tokio::test]
async fn a_used_token_is_refused_and_a_running_job_blocks_another() {
    let (_silent, port) = silent_monitor();
    let station = TestStation::builder().monitor_port(port).start().await;
    station
        .register(&record("ZM-PR-2", &key(), "127.0.0.1"))
        .await;
    station
        .register(&record("ZM-PR-3", &key(), "127.0.0.1"))
        .await;
    let tech = station.token(TECH).await;

    let first = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-PR-2", "pairingCode": "abc def ghj", "pairingToken": TOKEN }),
        )
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let accepted: PairAccepted = first.json();
    assert_eq!(
        accepted.events_url,
        format!("/api/provisioning/jobs/{}/events", accepted.job_id)
    );
    let job: JobSummary = station
        .get(
            &format!("/api/provisioning/jobs/{}", accepted.job_id),
            &tech,
        )
        .await
        .json();
    assert_eq!(
        (job.state, job.technician.as_str()),
        (JobState::Pairing, "tech")
    );

    let busy = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-PR-2", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(
        (busy.status, busy.code()),
        (StatusCode::CONFLICT, ErrorCode::PairingInProgress)
    );

    // The same QR token for another device (or again later) is a replay.
    let replay = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-PR-3", "pairingCode": "ABC-DEF-GHJ", "pairingToken": TOKEN }),
        )
        .await;
    assert_eq!(
        (replay.status, replay.code()),
        (StatusCode::CONFLICT, ErrorCode::TokenReplayed)
    );
    let tokens: i64 = station
        .sql()
        .query_row("SELECT COUNT(*) FROM used_pairing_tokens", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tokens, 1);

    let unknown_job = station.get("/api/provisioning/jobs/nope", &tech).await;
    assert_eq!(
        (unknown_job.status, unknown_job.code()),
        (StatusCode::NOT_FOUND, ErrorCode::UnknownJob)
    );
}

#[tokio::test]
async fn pair_requests_are_rate_limited_per_device_and_per_technician() {
    let station = TestStation::builder()
        .with_config(|c| {
            c.rate_limits.per_device_per_minute = 2;
            c.rate_limits.per_technician_per_minute = 3;
        })
        .start()
        .await;
    let tech = station.token(TECH).await;
    let tech2 = station.token(TECH2).await;
    let pair = |token: &str, device: &str| {
        let (token, device) = (token.to_owned(), device.to_owned());
        let station = &station;
        async move {
            station
                .post(
                    "/api/provisioning/pair",
                    Some(&token),
                    &json!({ "deviceId": device, "pairingCode": "ABC-DEF-GHJ" }),
                )
                .await
        }
    };
    // Unknown devices are refused after the limits are counted, which keeps the test free of jobs.
    assert_eq!(
        pair(&tech, "ZM-RL-1").await.code(),
        ErrorCode::UnknownDevice
    );
    assert_eq!(
        pair(&tech2, "ZM-RL-1").await.code(),
        ErrorCode::UnknownDevice
    );
    let limited = pair(&tech2, "ZM-RL-1").await;
    assert_eq!(
        (limited.status, limited.code()),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
        "per device"
    );
    assert!(limited.body.contains("Wait"));

    assert_eq!(
        pair(&tech, "ZM-RL-2").await.code(),
        ErrorCode::UnknownDevice
    );
    assert_eq!(
        pair(&tech, "ZM-RL-3").await.code(),
        ErrorCode::UnknownDevice
    );
    assert_eq!(
        pair(&tech, "ZM-RL-4").await.code(),
        ErrorCode::RateLimited,
        "per technician"
    );
    assert_eq!(
        pair(&tech2, "ZM-RL-4").await.code(),
        ErrorCode::UnknownDevice,
        "another technician is not limited"
    );
    assert!(
        station
            .audit("ZM-RL-4")
            .iter()
            .any(|(e, ok, err, _)| e == "pairing_requested"
                && !ok
                && err.as_deref() == Some("rate_limited"))
    );
}

/// The limits hold for a burst sent at once and split between two station
/// instances on one database, and survive a restart: forty requests for one
/// monitor, five admitted.
#[tokio::test]
async fn a_burst_split_between_two_instances_on_one_database_gets_the_limit_once() {
    const LIMIT: u32 = 5;
    let mut station = TestStation::builder()
        .with_config(|c| c.rate_limits.per_device_per_minute = LIMIT)
        .start()
        .await;
    let mut second = station.config.clone();
    second.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    second.instance_id = "second".into();
    let other = central_station::Station::start(second)
        .await
        .expect("a second instance on the same database");
    let tech = station.token(TECH).await;
    let urls = [station.station().url(), other.url()];
    let client = station.client();
    let answers = futures_util::future::join_all((0..40).map(|i| {
        let request = client
            .post(format!("{}/api/provisioning/pair", urls[i % 2]))
            .bearer_auth(&tech)
            .json(&json!({ "deviceId": "ZM-RL-BURST", "pairingCode": "ABC-DEF-GHJ" }));
        async move {
            let answer = request.send().await.expect("answer");
            let status = answer.status();
            let body: zpair_proto::api::ApiError = answer.json().await.expect("error body");
            (status, body.code)
        }
    }))
    .await;
    // Unknown devices are refused after the limits are counted.
    let admitted = answers
        .iter()
        .filter(|(_, code)| *code == ErrorCode::UnknownDevice)
        .count();
    let limited = answers
        .iter()
        .filter(|(status, code)| {
            *status == StatusCode::TOO_MANY_REQUESTS && *code == ErrorCode::RateLimited
        })
        .count();
    assert_eq!((admitted, limited), (LIMIT as usize, 40 - LIMIT as usize));

    other.shutdown().await;
    station.restart().await;
    let after = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": "ZM-RL-BURST", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(
        after.code(),
        ErrorCode::RateLimited,
        "a restart forgets none"
    );
}

#[tokio::test]
async fn administrators_cannot_open_jobs_even_for_known_devices() {
    let station = TestStation::start().await;
    station
        .register(&record("ZM-PR-4", &key(), "127.0.0.9"))
        .await;
    let admin = station.token(ADMIN).await;
    let answer = station
        .post(
            "/api/provisioning/pair",
            Some(&admin),
            &json!({ "deviceId": "ZM-PR-4", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(answer.code(), ErrorCode::ForbiddenRole);
    let jobs: i64 = station
        .sql()
        .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(jobs, 0);
}
