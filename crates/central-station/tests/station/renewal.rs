//! Client certificate renewal over mTLS (`POST /api/devices/certificate/renew`)
//! as an attacker would try it: only the current certificate renews, a
//! replay issues nothing, concurrent requests leave one certificate to
//! switch to, and the old certificate is revoked only when the new one is
//! used.

use reqwest::{Method, StatusCode};
use zpair_proto::ErrorCode;
use zpair_proto::api::ConnectedStatus;
use zpair_proto::device::{CertificateRenewal, RenewedCertificate};

use crate::support::{TECH, TestStation, paired_through_the_station};

const RENEW: &str = "/api/devices/certificate/renew";

/// A new key and a CSR for it.
fn new_key(device_id: &str) -> (String, CertificateRenewal) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, device_id);
    let csr_pem = params
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    (key.serialize_pem(), CertificateRenewal { csr_pem })
}

async fn renew(
    station: &TestStation,
    client: &reqwest::Client,
    request: &CertificateRenewal,
) -> crate::support::Answer {
    station
        .call_with(client, Method::POST, RENEW, None, Some(request))
        .await
}

fn unrevoked(station: &TestStation, device_id: &str) -> Vec<String> {
    station
        .sql()
        .query_map(
            "SELECT serial FROM certificates WHERE device_id = ?1 AND revoked_at IS NULL ORDER BY serial",
            [device_id],
            |r| r.get(0),
        )
        .expect("rows")
}

fn audited(station: &TestStation, device_id: &str, event: &str) -> usize {
    station
        .audit(device_id)
        .iter()
        .filter(|(e, ..)| e == event)
        .count()
}

#[tokio::test]
async fn a_renewal_is_switched_to_on_first_use_and_only_then_is_the_old_one_revoked() {
    let (station, monitor, _job) = paired_through_the_station("ZM-RENEW-1").await;
    let tech = station.token(TECH).await;
    let committed = monitor.await_commit(None).await;
    let old_serial = committed.serial();
    let old = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );

    let (key_pem, request) = new_key("ZM-RENEW-1");
    let answer = renew(&station, &old, &request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let renewed: RenewedCertificate = answer.json();
    assert_ne!(renewed.serial, old_serial);

    // The same request again (a lost answer, or a replay): the same
    // certificate, nothing new issued.
    let again: RenewedCertificate = renew(&station, &old, &request).await.json();
    assert_eq!(again, renewed);
    assert_eq!(
        audited(&station, "ZM-RENEW-1", "certificate_renewal_issued"),
        1
    );

    // Issued, not in force: the old certificate still works and is current.
    let status: ConnectedStatus = station
        .get("/api/devices/ZM-RENEW-1/status", &tech)
        .await
        .json();
    assert_eq!(
        status.certificate.map(|c| c.serial),
        Some(old_serial.clone())
    );
    let ok = station.heartbeat_with(&old).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);

    // A certificate not yet in use cannot renew in turn.
    let new = station.mtls_client(&renewed.certificate_pem, &key_pem);
    let (_, other) = new_key("ZM-RENEW-1");
    let refused = renew(&station, &new, &other).await;
    assert_eq!(
        (refused.status, refused.code()),
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClientCertificateRequired
        )
    );

    // Its first use switches the device to it and revokes the old one.
    let switched = station.heartbeat_with(&new).await;
    assert_eq!(switched.status, StatusCode::NO_CONTENT, "{}", switched.body);
    let status: ConnectedStatus = station
        .get("/api/devices/ZM-RENEW-1/status", &tech)
        .await
        .json();
    assert_eq!(
        status.certificate.map(|c| c.serial),
        Some(renewed.serial.clone())
    );
    assert_eq!(
        unrevoked(&station, "ZM-RENEW-1"),
        vec![renewed.serial.clone()]
    );
    let events: Vec<String> = station
        .audit("ZM-RENEW-1")
        .into_iter()
        .map(|(e, ..)| e)
        .collect();
    let at = |name: &str| events.iter().rposition(|e| e == name);
    assert!(
        at("certificate_renewal_issued") < at("certificate_switched")
            && at("certificate_switched") < at("certificate_revoked"),
        "{events:?}"
    );
    let revoked = station.revoked_serials().await;
    assert!(
        revoked.contains(&old_serial),
        "the CRL lists the old serial"
    );

    // The revoked certificate cannot renew (refused at the handshake on a
    // new connection, by the handler on one opened before).
    let (_, late) = new_key("ZM-RENEW-1");
    let stale = renew(&station, &old, &late).await;
    assert_eq!(stale.code(), ErrorCode::ClientCertificateRequired);
    let fresh = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let sent = fresh.post(station.url(RENEW)).json(&late).send().await;
    assert!(sent.is_err() || sent.is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn concurrent_renewals_leave_one_certificate_to_switch_to() {
    let (station, monitor, _job) = paired_through_the_station("ZM-RENEW-2").await;
    let committed = monitor.await_commit(None).await;
    let current = committed.serial();
    let client = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let requests: Vec<_> = (0..8).map(|_| new_key("ZM-RENEW-2").1).collect();
    let answers =
        futures_util::future::join_all(requests.iter().map(|r| renew(&station, &client, r))).await;
    let issued: Vec<RenewedCertificate> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            a.json()
        })
        .collect();
    // The current certificate and exactly one renewal are live: the last
    // one issued; every earlier one was revoked by the next.
    let live = unrevoked(&station, "ZM-RENEW-2");
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(live.contains(&current));
    assert!(issued.iter().any(|c| live.contains(&c.serial)));
}

#[tokio::test]
async fn a_renewal_needs_a_client_certificate() {
    let station = TestStation::start().await;
    let (_, request) = new_key("ZM-NOBODY-1");
    let answer = station.post(RENEW, None, &request).await;
    assert_eq!(
        (answer.status, answer.code()),
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClientCertificateRequired
        )
    );
}

/// The station's bound on renewals of one certificate (`MAX_RENEWALS_PER_CERTIFICATE`).
const MAX_RENEWALS: usize = 10;

#[tokio::test]
async fn renewals_of_one_certificate_are_bounded_and_only_a_revocation_re_signs_the_crl() {
    let (station, monitor, _job) = paired_through_the_station("ZM-RENEW-3").await;
    let committed = monitor.await_commit(None).await;
    let client = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let before = station.crl().await;
    let first = renew(&station, &client, &new_key("ZM-RENEW-3").1).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        station.crl().await,
        before,
        "nothing was revoked, so the list is not signed again"
    );

    for _ in 1..MAX_RENEWALS {
        let answer = renew(&station, &client, &new_key("ZM-RENEW-3").1).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    assert_ne!(station.crl().await, before, "replaced renewals are listed");
    let refused = renew(&station, &client, &new_key("ZM-RENEW-3").1).await;
    assert_eq!(
        (refused.status, refused.code()),
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClientCertificateRequired
        ),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("too many times"), "{}", refused.body);
    assert_eq!(unrevoked(&station, "ZM-RENEW-3").len(), 2);
}
