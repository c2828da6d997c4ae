//! Trusting a monitor's self-signed TLS certificate only when its public key
//! is the Ed25519 identity key in the registry. A mismatch is recorded, so the
//! job can say `signature_invalid` rather than `monitor_unreachable`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use subtle::ConstantTimeEq as _;

/// Object identifier of Ed25519 keys (RFC 8410).
const ED25519_OID: &str = "1.3.101.112";

/// A verifier that accepts exactly one Ed25519 key.
#[derive(Debug)]
pub(crate) struct PinnedIdentity {
    expected: [u8; 32],
    mismatch: Arc<AtomicBool>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedIdentity {
    /// Pins `expected`; sets `mismatch` when a server shows another key.
    pub(crate) fn new(expected: [u8; 32], mismatch: Arc<AtomicBool>) -> Self {
        Self {
            expected,
            mismatch,
            algorithms: super::provider().signature_verification_algorithms,
        }
    }
}

/// The raw Ed25519 key of a certificate, if it has one.
fn ed25519_key(der: &CertificateDer<'_>) -> Option<[u8; 32]> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != ED25519_OID {
        return None;
    }
    spki.subject_public_key.data.as_ref().try_into().ok()
}

impl ServerCertVerifier for PinnedIdentity {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The monitor's certificate is self-signed: its key is all that matters,
        // and the handshake signature below proves the monitor holds it.
        match ed25519_key(end_entity) {
            Some(key) if bool::from(key.ct_eq(&self.expected)) => {
                Ok(ServerCertVerified::assertion())
            }
            _ => {
                self.mismatch.store(true, Ordering::SeqCst);
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_cert(seed: u8) -> (CertificateDer<'static>, [u8; 32]) {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().expect("pkcs8");
        let key = rcgen::KeyPair::try_from(der.as_bytes()).expect("rcgen key");
        let cert = rcgen::CertificateParams::new(vec!["monitor".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        (cert.der().clone(), signing.verifying_key().to_bytes())
    }

    #[test]
    fn only_the_registered_key_is_accepted_and_a_mismatch_is_recorded() {
        let (cert, key) = ed25519_cert(1);
        let (other, _) = ed25519_cert(2);
        let name = ServerName::try_from("127.0.0.2").expect("name");
        let flag = Arc::new(AtomicBool::new(false));
        let verifier = PinnedIdentity::new(key, flag.clone());
        assert!(
            verifier
                .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
                .is_ok()
        );
        assert!(!flag.load(Ordering::SeqCst));
        assert!(
            verifier
                .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
                .is_err()
        );
        assert!(flag.load(Ordering::SeqCst));
    }

    #[test]
    fn non_ed25519_certificates_are_refused() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let verifier = PinnedIdentity::new([0; 32], Arc::new(AtomicBool::new(false)));
        let name = ServerName::try_from("x").expect("name");
        assert!(
            verifier
                .verify_server_cert(cert.der(), &[], &name, &[], UnixTime::now())
                .is_err()
        );
    }
}
