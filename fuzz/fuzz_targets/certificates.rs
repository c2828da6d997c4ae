//! Arbitrary CSRs, certificates and revocation lists through every parser
//! that reads them from the network or a file: the station's CA issuing
//! from a monitor's CSR, the station reading a client certificate's
//! identity, the monitor checking the certificates a configuration pushes
//! and reading the station's revocation list, and the app reading a CA file
//! IT hands out. Each returns a typed result, never panics, and what it
//! accepts keeps its promise.
//!
//! Input layout: the first byte picks the parser, the rest is its input
//! (PEM as UTF-8, lossily; DER as bytes). For the monitor's check, the
//! client certificate and the CA are separated by a line `#`.

#![no_main]

use std::sync::OnceLock;

use central_station::fuzzing::{DeviceCa, client_identity};
use libfuzzer_sys::fuzz_target;
use rcgen::PublicKeyData as _;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, X509Certificate};
use zpair_core::client::{CertificateInfo, StationClient, StationTrust, TrustAnchor};
use zpair_proto::config::ConfigurationPayload;

const DEVICE: &str = "ZM-FUZZ-01";
/// The serial of the seeds' client certificate, which their CRL revokes.
const SEED_SERIAL: &str = "0badc0ffee";

/// A fixed clock inside the seeds' certificates' validity (2027-06-01), so
/// a run does not depend on the day it runs.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_811_808_000).expect("in range")
}

fn device_ca() -> &'static DeviceCa {
    static CA: OnceLock<DeviceCa> = OnceLock::new();
    CA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("zpair-fuzz-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder for the CA");
        DeviceCa::open(&dir).expect("the device CA")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((choice, input)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(input);
    match choice % 5 {
        0 => station_issues_from_csr(&text),
        1 => station_reads_client_identity(input),
        2 => monitor_checks_pushed_certificates(&text),
        3 => {
            let _ = bedside_monitor::connection::revocation_list_names(input, SEED_SERIAL);
        }
        _ => app_reads_ca_file(&text),
    }
});

/// Whatever the CSR asks, the certificate names the device, is for the
/// CSR's key, and reads back as the identity the mTLS port will see.
fn station_issues_from_csr(csr_pem: &str) {
    let Ok(issued) = device_ca().issue_client(csr_pem, DEVICE) else {
        return;
    };
    let csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)
        .expect("the CA read this CSR, so rcgen reads it again");
    let der = CertificateDer::from_pem_slice(issued.pem.as_bytes()).expect("issued PEM");
    let (_, cert) = X509Certificate::from_der(&der).expect("issued DER");
    assert_eq!(
        cert.public_key().raw,
        csr.public_key.subject_public_key_info(),
        "the certificate is not for the CSR's key"
    );
    let identity = client_identity(&der).expect("the issued certificate names its device");
    assert_eq!(identity.device_id, DEVICE);
    assert_eq!(identity.serial, issued.serial);
}

fn station_reads_client_identity(der: &[u8]) {
    if let Some(identity) = client_identity(der) {
        assert!(!identity.serial.is_empty());
        assert!(identity.serial.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// The pushed client certificate, checked against its own key and common
/// name (so a parseable one gets as far as the chain).
fn monitor_checks_pushed_certificates(text: &str) {
    let (client, ca) = text.split_once("\n#\n").unwrap_or((text, ""));
    let parsed = CertificateDer::from_pem_slice(client.as_bytes())
        .ok()
        .and_then(|der| {
            let (_, cert) = X509Certificate::from_der(&der).ok()?;
            let name = cert
                .subject()
                .iter_common_name()
                .next()?
                .as_str()
                .ok()?
                .to_owned();
            Some((cert.public_key().raw.to_vec(), name))
        });
    let (key, device_id) = parsed.unwrap_or_else(|| (Vec::new(), DEVICE.to_owned()));
    let now = now();
    let configuration = ConfigurationPayload {
        server_url: "https://127.0.0.1:8443".into(),
        ca_certificate: ca.into(),
        client_certificate: client.into(),
        device_id: device_id.clone(),
        device_label: device_id,
        bed_id: String::new(),
        timestamp: now,
        expires_at: now + time::Duration::minutes(5),
    };
    if let Ok(applied) =
        bedside_monitor::exchange::verify::check_certificates(&configuration, &key, now)
    {
        assert!(!applied.certificate_serial.is_empty());
        assert!(
            applied.certificate_not_after > now,
            "an expired certificate was accepted"
        );
    }
}

fn app_reads_ca_file(pem: &str) {
    if let Ok(info) = CertificateInfo::from_pem(pem) {
        assert_eq!(info.fingerprint.len(), 64);
    }
    let _ = StationClient::new(StationTrust {
        url: "https://127.0.0.1:8443".into(),
        anchor: TrustAnchor::CaPem(pem.to_owned()),
    });
}
