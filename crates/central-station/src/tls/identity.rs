//! The monitor behind an mTLS connection, from its verified client certificate.

use rustls::pki_types::CertificateDer;

/// Inserted into every request of a connection that presented a client
/// certificate the device CA issued (and did not revoke). The certificate's
/// common name is the device ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate's CN.
    pub device_id: String,
    /// The certificate's serial, lowercase hex.
    pub serial: String,
}

impl ClientIdentity {
    /// Reads the identity from a certificate rustls already verified.
    pub(crate) fn from_certificate(der: &CertificateDer<'_>) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let device_id = cert
            .subject()
            .iter_common_name()
            .next()?
            .as_str()
            .ok()?
            .to_owned();
        Some(Self {
            device_id,
            serial: crate::pki::hex(cert.raw_serial()),
        })
    }
}
