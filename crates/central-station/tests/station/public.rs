//! What anyone can read, and the station's own TLS identity.

use std::sync::Arc;
use zpair_proto::ErrorCode;

use reqwest::{Method, StatusCode};
use rustls::pki_types::ServerName;
use sha2::{Digest as _, Sha256};
use zpair_proto::api::StationKey;

use crate::support::TestStation;

#[tokio::test]
async fn health_ca_crl_station_key_and_openapi_are_public() {
    let station = TestStation::start().await;
    let get = |path: &'static str| {
        let station = &station;
        async move { station.call(Method::GET, path, None, None::<&()>).await }
    };
    assert_eq!(get("/healthz").await.status, StatusCode::OK);
    assert_eq!(
        get("/api/ca/certificate").await.body,
        station.station().ca_certificate_pem()
    );
    assert!(get("/api/ca/crl").await.body.contains("BEGIN X509 CRL"));
    let key: StationKey = get("/api/provisioning/station-key").await.json();
    assert_eq!(key.public_key, station.station().station_public_key());
    let doc: serde_json::Value = get("/api/openapi.json").await.json();
    assert!(doc["paths"]["/api/provisioning/pair"]["post"].is_object());
    let missing = get("/api/nothing-here").await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    let wrong_method = station
        .call(Method::DELETE, "/api/devices", None, None::<&()>)
        .await;
    assert_eq!(wrong_method.code(), ErrorCode::MethodNotAllowed);
}

#[tokio::test]
async fn the_presented_certificate_has_the_advertised_fingerprint_and_survives_restarts() {
    let mut station = TestStation::start().await;
    let fingerprint = station.station().server_certificate_fingerprint();
    let ca = station.station().ca_certificate_pem();
    assert_eq!(presented_fingerprint(&station).await, fingerprint);
    station.restart().await;
    assert_eq!(
        station.station().server_certificate_fingerprint(),
        fingerprint
    );
    assert_eq!(station.station().ca_certificate_pem(), ca);
    assert_eq!(
        central_station::admin::server_certificate_fingerprint(&station.config.data_dir)
            .expect("offline"),
        fingerprint
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(station.config.data_dir.join("pki/ca.key"))
            .expect("key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

async fn presented_fingerprint(station: &TestStation) -> String {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(
            rustls::pki_types::CertificateDer::from_pem_slice(
                station.station().ca_certificate_pem().as_bytes(),
            )
            .expect("ca"),
        )
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(station.station().local_addr())
        .await
        .expect("connect");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("handshake for localhost");
    let cert = tls.get_ref().1.peer_certificates().expect("certificate")[0].clone();
    zpair_proto::hex::encode(&Sha256::digest(&cert))
}

/// A stopping station (`Station::drain`, what SIGTERM starts) tells load
/// balancers and clients so: `/healthz` answers 503 `station_busy` with a
/// `Retry-After`, while what it still serves (the CA, job streams) answers.
#[tokio::test]
async fn a_stopping_station_answers_healthz_with_503_and_retry_after() {
    let station = TestStation::start().await;
    let get = |path: &'static str| {
        let station = &station;
        async move { station.call(Method::GET, path, None, None::<&()>).await }
    };
    assert_eq!(get("/healthz").await.status, StatusCode::OK);
    let stopped = station
        .station()
        .drain(std::time::Duration::from_secs(1))
        .await;
    assert_eq!(stopped, 0, "no job was running");
    let health = get("/healthz").await;
    assert_eq!(
        (health.status, health.code()),
        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::StationBusy)
    );
    let raw = station
        .client()
        .get(station.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(raw.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert_eq!(get("/api/ca/certificate").await.status, StatusCode::OK);
}
