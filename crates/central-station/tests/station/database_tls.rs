//! A PostgreSQL server on another host is reached over TLS only: its
//! certificate must chain to the authorities named by `--database-ca` and
//! name the host connected to (libpq's `verify-full`). The server here
//! refuses clear text on TCP, so a station that works on it at all spoke TLS.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use central_station::db::{Database, DbError, Direct};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use reqwest::StatusCode;
use zpair_testkit::postgres::{Cluster, ServerTls};

use crate::support::{ADMIN, TestStation};

/// A certificate authority: what signs, and its certificate in PEM.
fn authority(name: &str) -> (Issuer<'static, KeyPair>, String) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let pem = params.self_signed(&key).expect("self-signed").pem();
    (Issuer::new(params, key), pem)
}

/// The file's TLS-only server, its certificate signed by the trusted
/// authority for the address 127.0.0.1 alone, and that authority's PEM file.
fn server() -> &'static (Cluster, PathBuf) {
    static SERVER: OnceLock<(Cluster, PathBuf)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let (issuer, ca_pem) = authority("Hospital database CA");
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
        let certificate = params.signed_by(&key, &issuer).expect("signed");
        let cluster = Cluster::start_with_tls(&ServerTls {
            certificate_chain_pem: certificate.pem(),
            private_key_pem: key.serialize_pem(),
        })
        .expect("a TLS-only PostgreSQL server");
        let ca = write_pem("trusted", &ca_pem);
        (cluster, ca)
    })
}

/// Writes `pem` to a file that outlives the test process's tests.
fn write_pem(name: &str, pem: &str) -> PathBuf {
    let dir = tempfile::tempdir().expect("temp").keep();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, pem).expect("write PEM");
    path
}

/// A fresh database on the TLS-only server, reached at `host`, checked
/// against the authorities in `ca`.
fn database(host: &str, ca: Option<PathBuf>) -> (String, Database) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("tls_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let url = server().0.create_database(&name).expect("database");
    let url = url.replace("@127.0.0.1:", &format!("@{host}:"));
    let database = Database::Postgres {
        url,
        connections: 2,
        ca,
    };
    (name, database)
}

/// Opens `database` as the offline admin commands do, off the runtime.
fn open(database: &Database) -> Result<Direct, DbError> {
    let dir = tempfile::tempdir().expect("temp");
    Direct::open(dir.path(), database)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_station_on_a_tls_only_server_works_and_every_connection_is_encrypted() {
    let (name, database) = database("127.0.0.1", Some(server().1.clone()));
    let station = TestStation::builder().database(database).start().await;
    assert_eq!(station.try_login(ADMIN).await.status, StatusCode::OK);

    let (connections, all_encrypted) = tokio::task::spawn_blocking(move || {
        let seen = server()
            .0
            .psql(
                &name,
                "SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s \
                 JOIN pg_stat_activity a USING (pid) \
                 WHERE a.application_name = 'central-station' AND a.datname = current_database()",
            )
            .expect("psql");
        let (count, ssl) = seen.split_once('|').expect("two columns");
        (count.parse::<u32>().expect("count"), ssl == "t")
    })
    .await
    .expect("psql task");
    // The database threads, the listener and the instance's name lock.
    assert!(connections >= 3, "{connections} connections");
    assert!(all_encrypted);
}

#[test]
fn a_server_certificate_from_another_authority_is_refused() {
    let (_, other) = authority("Somebody else's CA");
    let stranger = write_pem("stranger", &other);
    let error = open(&database("127.0.0.1", Some(stranger)).1).expect_err("refused");
    assert!(
        error.to_string().contains("invalid peer certificate"),
        "{error}"
    );
}

#[test]
fn a_server_certificate_for_another_name_is_refused() {
    // The certificate names 127.0.0.1; "localhost" reaches the same server.
    let error = open(&database("localhost", Some(server().1.clone())).1).expect_err("refused");
    assert!(
        error.to_string().contains("invalid peer certificate"),
        "{error}"
    );
}

#[test]
fn without_authorities_nothing_is_sent_in_clear() {
    // Locally the station may speak clear text: this server refuses it.
    let error = open(&database("127.0.0.1", None).1).expect_err("refused");
    assert!(error.to_string().contains("no encryption"), "{error}");
    // Elsewhere the station does not try.
    let remote = Database::Postgres {
        url: "postgres://zpair:secret@db.hospital.example/zpair".to_owned(),
        connections: 1,
        ca: None,
    };
    let error = open(&remote).expect_err("refused");
    assert!(error.to_string().contains("--database-ca"), "{error}");
}

#[test]
fn an_authorities_file_without_a_certificate_is_named() {
    let junk = write_pem("junk", "this is not a certificate\n");
    let error = open(&database("127.0.0.1", Some(junk.clone())).1).expect_err("refused");
    assert!(
        matches!(error, DbError::ServerCa { ref path, .. } if *path == junk),
        "{error}"
    );
    assert!(error.to_string().contains("no certificate"), "{error}");
    let missing = junk.with_file_name("missing.pem");
    let error = open(&database("127.0.0.1", Some(missing)).1).expect_err("refused");
    assert!(matches!(error, DbError::ServerCa { .. }), "{error}");
}
