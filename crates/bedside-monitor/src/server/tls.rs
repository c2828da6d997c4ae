//! The monitor's HTTPS identity: a certificate self-signed with its Ed25519
//! identity key, made at each start. The station pins the certificate's key
//! to the registry's identity key, so no CA is involved and nothing about the
//! certificate needs to be stored.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{CertificateParams, DnType, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::MonitorError;
use crate::identity::Identity;

/// How long the self-signed certificate is valid: a monitor's service life.
const VALIDITY: Duration = Duration::days(3650);

/// The rustls server configuration (ring provider, HTTP/2 and HTTP/1.1).
pub fn server_config(
    identity: &Identity,
    ip: IpAddr,
) -> Result<Arc<rustls::ServerConfig>, MonitorError> {
    let der = identity.pkcs8_der()?;
    let key_pair = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(der.as_slice()),
        &rcgen::PKCS_ED25519,
    )?;
    let mut params = CertificateParams::new(vec![ip.to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, identity.device_id.as_str());
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + VALIDITY;
    let certificate = params.self_signed(&key_pair)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![certificate.der().clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
