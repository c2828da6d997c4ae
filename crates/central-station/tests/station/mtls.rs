//! The heartbeat endpoint and client certificates on the API port.

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::ErrorCode;
use zpair_proto::api::{CertificateValidity, ConnectedStatus, DeviceState, DeviceSummary};
use zpair_proto::device::CommandKind;

use crate::support::{ADMIN, TECH, TestStation, beat, paired_through_the_station};

#[tokio::test]
async fn a_heartbeat_without_a_client_certificate_is_refused() {
    let station = TestStation::start().await;
    let answer = station.post("/api/devices/heartbeat", None, &beat()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (
            StatusCode::UNAUTHORIZED,
            ErrorCode::ClientCertificateRequired
        )
    );
    // Not even a malformed body is looked at first.
    let garbage = station
        .post("/api/devices/heartbeat", None, &"not a heartbeat")
        .await;
    assert_eq!(garbage.code(), ErrorCode::ClientCertificateRequired);
    // A bearer token is no substitute.
    let tech = station.token(TECH).await;
    let answer = station
        .post("/api/devices/heartbeat", Some(&tech), &beat())
        .await;
    assert_eq!(answer.code(), ErrorCode::ClientCertificateRequired);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_at_the_handshake() {
    let station = TestStation::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ZM-FORGED-1");
    let cert = params.self_signed(&key).expect("self-signed");
    let client = station.mtls_client(&cert.pem(), &key.serialize_pem());
    let sent = client
        .post(station.url("/api/devices/heartbeat"))
        .json(&beat())
        .send()
        .await;
    assert!(sent.is_err() || sent.is_ok_and(|r| !r.status().is_success()));
}

#[tokio::test]
async fn a_revoked_certificate_is_refused_on_new_connections_after_the_crl_rebuild() {
    let (station, monitor, _job) = paired_through_the_station("ZM-REVOKE-1").await;
    let tech = station.token(TECH).await;
    let committed = monitor.await_commit(None).await;
    let cert = &committed.configuration.client_certificate;

    let before = station.mtls_client(cert, &committed.key_pem);
    let ok = station.heartbeat_with(&before).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);

    let admin = station.token(ADMIN).await;
    let answer = station
        .post(
            "/api/devices/ZM-REVOKE-1/deprovision",
            Some(&admin),
            &json!({ "reason": "stolen" }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let device: DeviceSummary = answer.json();
    assert_eq!(device.state, DeviceState::Deprovisioned);
    assert_eq!(monitor.commands(), [CommandKind::Deprovision]);

    // A new connection with the revoked certificate fails the TLS handshake.
    let after = station.mtls_client(cert, &committed.key_pem);
    let sent = after
        .post(station.url("/api/devices/heartbeat"))
        .json(&beat())
        .send()
        .await;
    // Refused by the TLS layer itself, with the alert that says why — not
    // an HTTP answer, not a connection that merely failed.
    let error = sent.expect_err("the handshake must fail");
    assert_eq!(
        revoked_alert(&error),
        Some(rustls::AlertDescription::CertificateRevoked),
        "{error:?}"
    );
    // The connection opened before the revocation is refused by the handler.
    let stale = station.heartbeat_with(&before).await;
    assert_eq!(stale.code(), ErrorCode::ClientCertificateRequired);

    let status: ConnectedStatus = station
        .get("/api/devices/ZM-REVOKE-1/status", &tech)
        .await
        .json();
    assert_eq!(
        status.certificate.map(|c| c.validity),
        Some(CertificateValidity::Revoked)
    );
    assert!(
        station
            .audit("ZM-REVOKE-1")
            .iter()
            .any(|(e, ok, _, actor)| e == "deprovisioned"
                && *ok
                && actor.as_deref() == Some("admin"))
    );
    assert!(
        station
            .audit("ZM-REVOKE-1")
            .iter()
            .any(|(e, ok, ..)| e == "command_delivered" && *ok)
    );
}

/// The TLS alert the server sent, from anywhere in a reqwest error's chain
/// (rustls' error sits inside an `io::Error`, whose `source()` skips it).
fn revoked_alert(error: &reqwest::Error) -> Option<rustls::AlertDescription> {
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = link {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::AlertReceived(alert)) = tls {
            return Some(*alert);
        }
        link = e.source();
    }
    None
}
