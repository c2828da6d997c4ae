//! Entry points for the `monitor_provisioning` fuzz target: the provisioning
//! API's router on a running monitor, and what an exchange in progress has
//! spent, to check that requests the station did not sign change nothing.
//! Not the monitor's API: a seam for the fuzzer, which can only reach what
//! the crate makes public.

use axum::Router;
use zpair_proto::device::MonitorState;

use crate::Monitor;

/// The `/provisioning/*` router of a running monitor, to drive in process.
pub fn router(monitor: &Monitor) -> Router {
    crate::server::router(monitor.core().clone())
}

/// What a stranger's request must leave alone: the state, the wrong
/// attempts of the pairing session, and whether an exchange is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub state: MonitorState,
    pub failed_attempts: Option<u32>,
    pub exchange_started: bool,
}

/// `monitor`'s [`Progress`] now.
pub fn progress(monitor: &Monitor) -> Progress {
    let inner = monitor.core().lock();
    Progress {
        state: inner.state,
        failed_attempts: inner.session.as_ref().map(|s| s.failed_attempts()),
        exchange_started: inner.exchange.is_some(),
    }
}

/// The committed seeds of the monitor's fuzz targets do what they are for:
/// the pushed certificates pass the monitor's check and the revocation list
/// names their serial (so the `certificates` target reaches its assertions),
/// and `monitor_provisioning` starts from every route under every signing.
#[cfg(test)]
mod seeds {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    use time::OffsetDateTime;
    use time::macros::datetime;
    use x509_parser::prelude::{FromDer as _, X509Certificate};
    use zpair_proto::config::ConfigurationPayload;

    use crate::exchange::verify::check_certificates;

    /// The `certificates` target's clock.
    const NOW: OffsetDateTime = datetime!(2027-06-01 00:00 UTC);

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
        let path = PathBuf::from(manifest)
            .join("../../fuzz/seeds")
            .join(target)
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_pushed_certificates_seed_passes_the_check_and_the_crl_names_it() {
        let bytes = seed("certificates", "pushed-certificates");
        assert_eq!(bytes[0] % 5, 2, "routed to the monitor's check");
        let text = String::from_utf8(bytes[1..].to_vec()).expect("PEM");
        let (client, ca) = text.split_once("\n#\n").expect("client # CA");
        let der = CertificateDer::from_pem_slice(client.as_bytes()).expect("client PEM");
        let (_, cert) = X509Certificate::from_der(&der).expect("client DER");
        let configuration = ConfigurationPayload {
            server_url: "https://127.0.0.1:8443".into(),
            ca_certificate: ca.into(),
            client_certificate: client.into(),
            device_id: "ZM-FUZZ-01".into(),
            device_label: String::new(),
            bed_id: String::new(),
            timestamp: NOW,
            expires_at: NOW,
        };
        let applied = check_certificates(&configuration, cert.public_key().raw, NOW)
            .expect("the seed passes the check");

        let crl = seed("certificates", "crl");
        assert_eq!(crl[0] % 5, 3, "routed to the revocation list");
        assert!(matches!(
            crate::connection::revocation_list_names(&crl[1..], &applied.certificate_serial),
            Ok(true)
        ));
    }

    #[test]
    fn monitor_provisioning_seeds_cover_every_route_and_signing() {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
        let dir = PathBuf::from(manifest).join("../../fuzz/seeds/monitor_provisioning");
        let covered: BTreeSet<(u8, u8)> = std::fs::read_dir(&dir)
            .expect("seeds")
            .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed")[0])
            .map(|flags| ((flags >> 1 & 0b111) % 5, (flags >> 4) % 7))
            .collect();
        for route in 0..4 {
            for signing in 0..7 {
                assert!(
                    covered.contains(&(route, signing)),
                    "no seed for route {route} signed as {signing}"
                );
            }
        }
    }
}
