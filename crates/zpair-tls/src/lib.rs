//! The one server-certificate verifier ZPair needs beyond webpki's chain
//! check, taking the check it needs ([`ServerCheck`]):
//!
//! - **any certificate**, to *show* a station's certificate before the
//!   technician decides to trust it (never for API calls);
//! - **one certificate by its SHA-256**, a station trusted by the
//!   fingerprint IT gave (the pin replaces name and chain checks);
//! - **one Ed25519 key**, a monitor's self-signed certificate whose key must
//!   be the identity key in the registry.
//!
//! In every case the handshake signature is still verified, so the server
//! holds the key of the certificate it shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use subtle::ConstantTimeEq as _;

/// Object identifier of Ed25519 keys (RFC 8410).
const ED25519_OID: &str = "1.3.101.112";

/// What the server's certificate must be.
#[derive(Debug, Clone)]
pub enum ServerCheck {
    /// Anything: the certificate is only to be shown.
    AnyCertificate,
    /// Exactly this certificate: SHA-256 of its DER, lowercase hex.
    CertificateSha256(String),
    /// A certificate for exactly this Ed25519 key; `mismatch` (when given)
    /// is set when the server shows another, so a caller can tell "not the
    /// monitor we registered" from "unreachable".
    Ed25519Key {
        key: [u8; 32],
        mismatch: Option<Arc<AtomicBool>>,
    },
}

/// A [`ServerCertVerifier`] applying one [`ServerCheck`].
#[derive(Debug)]
pub struct PinnedServer {
    check: ServerCheck,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServer {
    /// Applies `check`, verifying handshake signatures with `provider`'s algorithms.
    pub fn new(check: ServerCheck, provider: &CryptoProvider) -> Self {
        Self {
            check,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    fn accepts(&self, end_entity: &CertificateDer<'_>) -> bool {
        match &self.check {
            ServerCheck::AnyCertificate => true,
            ServerCheck::CertificateSha256(expected) => {
                let seen = zpair_proto::crypto::sha256_hex(end_entity);
                bool::from(seen.as_bytes().ct_eq(expected.as_bytes()))
            }
            ServerCheck::Ed25519Key { key, mismatch } => {
                let matches = ed25519_key(end_entity).is_some_and(|k| bool::from(k.ct_eq(key)));
                if !matches && let Some(flag) = mismatch {
                    flag.store(true, Ordering::SeqCst);
                }
                matches
            }
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

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.accepts(end_entity) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
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
        match self.check {
            // A monitor's identity key signs nothing else.
            ServerCheck::Ed25519Key { .. } => vec![SignatureScheme::ED25519],
            _ => self.algorithms.supported_schemes(),
        }
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

    fn verify(check: ServerCheck, cert: &CertificateDer<'_>) -> bool {
        let provider = rustls::crypto::ring::default_provider();
        let name = ServerName::try_from("127.0.0.2").expect("name");
        PinnedServer::new(check, &provider)
            .verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .is_ok()
    }

    #[test]
    fn only_the_registered_key_is_accepted_and_a_mismatch_is_recorded() {
        let (cert, key) = ed25519_cert(1);
        let (other, _) = ed25519_cert(2);
        let flag = Arc::new(AtomicBool::new(false));
        let pin = |flag: &Arc<AtomicBool>| ServerCheck::Ed25519Key {
            key,
            mismatch: Some(flag.clone()),
        };
        assert!(verify(pin(&flag), &cert));
        assert!(!flag.load(Ordering::SeqCst));
        assert!(!verify(pin(&flag), &other));
        assert!(flag.load(Ordering::SeqCst), "the mismatch is recorded");
    }

    #[test]
    fn a_fingerprint_pins_one_certificate_and_any_accepts_all() {
        let (cert, _) = ed25519_cert(1);
        let (other, _) = ed25519_cert(2);
        let fingerprint = zpair_proto::crypto::sha256_hex(&cert);
        assert!(verify(
            ServerCheck::CertificateSha256(fingerprint.clone()),
            &cert
        ));
        assert!(!verify(ServerCheck::CertificateSha256(fingerprint), &other));
        assert!(verify(ServerCheck::AnyCertificate, &other));
    }
}
