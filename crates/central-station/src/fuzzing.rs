//! Entry points for the `station_api` and `certificates` fuzz targets: the
//! station's router on a running station, the CA issuing from a CSR, and
//! the reading of a client certificate's identity, reachable on arbitrary
//! input. Not the station's API: a seam for the fuzzer, which can only
//! reach what the crate makes public.

use std::path::Path;

use axum::Router;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::pki::{CertificateAuthority, PkiError};
use crate::{ClientIdentity, Station};

/// The router of a running station, to drive in process (requests carry no
/// peer address unless the caller attaches one, as the accept loop does).
pub fn router(station: &Station) -> Router {
    crate::routes::app(station.state().clone())
}

/// The device CA, made in (or loaded from) `dir`.
#[derive(Debug)]
pub struct DeviceCa(CertificateAuthority);

/// A client certificate the CA issued from a CSR.
#[derive(Debug, Clone)]
pub struct Issued {
    /// PEM.
    pub pem: String,
    /// Serial, lowercase hex.
    pub serial: String,
}

impl DeviceCa {
    /// Loads the CA in `dir`, creating it the first time.
    pub fn open(dir: &Path) -> Result<Self, PkiError> {
        CertificateAuthority::load_or_create(dir).map(|(ca, _)| Self(ca))
    }

    /// Issues `device_id`'s client certificate from `csr_pem`, as a pairing does.
    pub fn issue_client(&self, csr_pem: &str, device_id: &str) -> Result<Issued, PkiError> {
        self.0
            .issue_client(
                csr_pem,
                device_id,
                OffsetDateTime::now_utc(),
                crate::pki::CLIENT_LIFETIME,
            )
            .map(|issued| Issued {
                pem: issued.pem,
                serial: issued.serial,
            })
    }
}

/// The identity the mTLS port reads from a client certificate.
pub fn client_identity(der: &[u8]) -> Option<ClientIdentity> {
    ClientIdentity::from_certificate(&CertificateDer::from(der))
}
