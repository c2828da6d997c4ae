//! What administrators read of the station's pairings and certificates:
//! the pairing report of a period (and its CSV) over real pairings of fake
//! monitors — a wrong code, a success, a monitor tried three times — and
//! the certificates overview after a renewal replaced a certificate.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{CertificateOverview, CertificateStanding, PairingOutcome, PairingReport};
use zpair_proto::api::{JobState, PairAccepted};
use zpair_proto::device::{CertificateRenewal, RenewedCertificate};

use crate::support::monitor::FakeMonitor;
use crate::support::{
    ADMIN, TECH, TECH2, TestStation, paired_through_a_station_with, read_csv, record,
};

/// Asks for a pairing and follows it to its end: the job and how long it
/// took from the request to the last event, as the technician saw it.
async fn pairing(
    station: &TestStation,
    bearer: &str,
    body: serde_json::Value,
) -> (String, JobState, Duration) {
    let started = Instant::now();
    let accepted: PairAccepted = station
        .post("/api/provisioning/pair", Some(bearer), &body)
        .await
        .json();
    let events = station.job_events(&accepted.job_id, bearer).await;
    let state = events.last().map(|e| e.state).expect("events");
    (accepted.job_id, state, started.elapsed())
}

fn query(from: OffsetDateTime, to: OffsetDateTime, extra: &str) -> String {
    format!(
        "from={}&to={}{extra}",
        zpair_proto::timestamp::format(from),
        zpair_proto::timestamp::format(to)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pairing_report_says_who_paired_what_how_long_it_took_and_how_it_ended() {
    let since = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let monitor = FakeMonitor::start("ZM-REP-1", std::net::Ipv4Addr::LOCALHOST.into(), 0).await;
    let station = TestStation::builder()
        .monitor_port(monitor.addr.port())
        .start()
        .await;
    monitor.trust(&station.station().station_public_key());
    station.register(&monitor.record()).await;
    let gone = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-REP-GONE", &gone, "127.0.0.9"))
        .await;
    let tech = station.token(TECH).await;
    let tech2 = station.token(TECH2).await;

    let (code, _token) = monitor.enter_provisioning();
    let wrong = if code == "ABC-DEF-GHJ" {
        "ABC-DEF-GHK"
    } else {
        "ABC-DEF-GHJ"
    };
    let mismatch = pairing(
        &station,
        &tech,
        json!({ "deviceId": "ZM-REP-1", "pairingCode": wrong }),
    )
    .await;
    let (code, token) = monitor.enter_provisioning();
    let paired = pairing(
        &station,
        &tech,
        json!({ "deviceId": "ZM-REP-1", "pairingCode": code, "pairingToken": token }),
    )
    .await;
    let unreachable = pairing(
        &station,
        &tech2,
        json!({ "deviceId": "ZM-REP-GONE", "pairingCode": "ABC-DEF-GHJ" }),
    )
    .await;
    assert_eq!(
        [mismatch.1, paired.1, unreachable.1],
        [JobState::Failed, JobState::Provisioned, JobState::Failed]
    );

    let admin = station.token(ADMIN).await;
    let until = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    let answer = station
        .get(
            &format!("/api/reports/pairings?{}", query(since, until, "")),
            &admin,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: PairingReport = answer.json();
    let rows: Vec<_> = report
        .pairings
        .iter()
        .map(|p| {
            (
                p.job_id.as_str(),
                p.device_id.as_str(),
                p.technician.as_str(),
                p.outcome,
                p.failure.as_deref(),
                p.attempts,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                mismatch.0.as_str(),
                "ZM-REP-1",
                "tech",
                PairingOutcome::Failed,
                Some("code_mismatch"),
                1
            ),
            (
                paired.0.as_str(),
                "ZM-REP-1",
                "tech",
                PairingOutcome::Provisioned,
                None,
                1
            ),
            (
                unreachable.0.as_str(),
                "ZM-REP-GONE",
                "tech2",
                PairingOutcome::Failed,
                Some("monitor_unreachable"),
                3
            ),
        ]
    );
    assert_eq!((report.provisioned, report.failed), (1, 2));
    for (record, (_, _, seen)) in report
        .pairings
        .iter()
        .zip([&mismatch, &paired, &unreachable])
    {
        let took = record.duration_ms.expect("finished");
        assert!(
            u128::from(took) <= seen.as_millis(),
            "{took} ms, longer than the {seen:?} the technician waited"
        );
        assert_eq!(record.device_label, format!("LABEL-{}", record.device_id));
        assert!(record.finished_at >= Some(record.started_at));
    }
    // Three attempts, with the backoff between them, take time.
    let retried = report.pairings[2].duration_ms.expect("finished");
    assert!(retried >= 20, "{retried} ms");
    assert_eq!(report.median_duration_ms, report.pairings[1].duration_ms);

    // One technician's; a period without them; periods refused.
    let only: PairingReport = station
        .get(
            &format!(
                "/api/reports/pairings?{}",
                query(since, until, "&technician=tech2")
            ),
            &admin,
        )
        .await
        .json();
    assert_eq!(only.pairings.len(), 1);
    assert_eq!(only.pairings[0].job_id, unreachable.0);
    let earlier: PairingReport = station
        .get(
            &format!(
                "/api/reports/pairings?{}",
                query(since - time::Duration::days(2), since, "")
            ),
            &admin,
        )
        .await
        .json();
    assert!(earlier.pairings.is_empty());
    assert_eq!(earlier.median_duration_ms, None);
    for refused in [
        query(since - time::Duration::days(32), since, ""),
        query(until, since, ""),
        format!(
            "from=yesterday&to={}",
            zpair_proto::timestamp::format(until)
        ),
        format!("from={}", zpair_proto::timestamp::format(since)),
    ] {
        for path in ["/api/reports/pairings", "/api/reports/pairings/export"] {
            let answer = station.get(&format!("{path}?{refused}"), &admin).await;
            assert_eq!(
                (answer.status, answer.code()),
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
                "{path}?{refused}"
            );
        }
    }
    let refused = station
        .get(
            &format!("/api/reports/pairings?{}", query(since, until, "")),
            &tech,
        )
        .await;
    assert_eq!(refused.code(), ErrorCode::ForbiddenRole);

    // The CSV holds the same pairings.
    let csv = station
        .call(
            Method::GET,
            &format!("/api/reports/pairings/export?{}", query(since, until, "")),
            Some(&admin),
            None::<&()>,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let table = read_csv(&csv.body);
    assert_eq!(table[0][0], "jobId");
    let outcome = table[0]
        .iter()
        .position(|h| h == "outcome")
        .expect("outcome");
    let attempts = table[0]
        .iter()
        .position(|h| h == "attempts")
        .expect("attempts");
    let lines: Vec<(&str, &str, &str)> = table[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[outcome].as_str(), r[attempts].as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (mismatch.0.as_str(), "failed", "1"),
            (paired.0.as_str(), "provisioned", "1"),
            (unreachable.0.as_str(), "failed", "3"),
        ]
    );
}

#[tokio::test]
async fn the_certificates_overview_shows_a_renewal_and_the_certificate_it_replaced() {
    // Certificates of ten days: each is expiring from the day it is issued.
    let (station, monitor, _job) = paired_through_a_station_with("ZM-CERTS-1", |c| {
        c.client_certificate_lifetime = Duration::from_secs(10 * 24 * 60 * 60);
    })
    .await;
    let committed = monitor.await_commit(None).await;
    let old_serial = committed.serial();
    let admin = station.token(ADMIN).await;
    let overview: CertificateOverview = station.get("/api/certificates", &admin).await.json();
    let serials = |list: &[zpair_proto::admin::CertificateEntry]| -> Vec<String> {
        list.iter().map(|c| c.serial.clone()).collect()
    };
    assert_eq!(
        serials(&overview.expiring),
        std::slice::from_ref(&old_serial)
    );
    assert!(overview.renewed.is_empty() && overview.revoked.is_empty());

    // A renewal over the monitor's mTLS connection, then its first use.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ZM-CERTS-1");
    let request = CertificateRenewal {
        csr_pem: params
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem"),
    };
    let old = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let renewed: RenewedCertificate = station
        .call_with(
            &old,
            Method::POST,
            "/api/devices/certificate/renew",
            None,
            Some(&request),
        )
        .await
        .json();
    let new = station.mtls_client(&renewed.certificate_pem, &key.serialize_pem());
    let switched = station.heartbeat_with(&new).await;
    assert_eq!(switched.status, StatusCode::NO_CONTENT, "{}", switched.body);

    let overview: CertificateOverview = station.get("/api/certificates", &admin).await.json();
    assert_eq!(
        serials(&overview.expiring),
        std::slice::from_ref(&renewed.serial)
    );
    assert_eq!(
        serials(&overview.renewed),
        std::slice::from_ref(&renewed.serial)
    );
    assert_eq!(
        serials(&overview.revoked),
        std::slice::from_ref(&old_serial)
    );
    let revoked = &overview.revoked[0];
    assert_eq!(revoked.standing, CertificateStanding::Revoked);
    assert!(revoked.revoked_at.is_some() && revoked.revocation_reason.is_some());
    assert_eq!(
        (revoked.device_id.as_str(), revoked.device_label.as_str()),
        ("ZM-CERTS-1", "LABEL-ZM-CERTS-1")
    );
    assert_eq!(overview.renewed[0].standing, CertificateStanding::Renewed);
    assert_eq!(overview.expiring[0].standing, CertificateStanding::Expiring);

    let tech = station.token(TECH).await;
    let refused = station.get("/api/certificates", &tech).await;
    assert_eq!(refused.code(), ErrorCode::ForbiddenRole);
}
