//! The station's own TLS certificate, issued by the hospital CA for
//! `localhost`, `127.0.0.1` and the configured names. Re-issued when it lacks
//! a wanted name, is within 30 days of expiry, or was signed by another CA.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::Duration;
use x509_parser::extensions::GeneralName;
use zeroize::Zeroizing;

use super::{CertificateAuthority, PkiError, random_serial};
use crate::fsutil;

/// How long a server certificate is valid.
const LIFETIME: Duration = Duration::days(365);
/// Renew when less than this is left.
const RENEW_BEFORE: Duration = Duration::days(30);

/// The server certificate and its key.
pub(crate) struct ServerCredentials {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    fingerprint: String,
}

impl std::fmt::Debug for ServerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCredentials")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// A name as it is compared: IPs in their canonical form, DNS names lowercase.
fn normalise(name: &str) -> String {
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => name.trim_end_matches('.').to_ascii_lowercase(),
    }
}

impl ServerCredentials {
    /// Loads `server.crt`/`server.key`, re-issuing them when needed (see the module doc).
    pub(crate) fn load_or_create(
        dir: &Path,
        ca: &CertificateAuthority,
        wanted: Option<&[String]>,
        defaults: &[String],
        ca_created: bool,
    ) -> Result<Self, PkiError> {
        let cert_path = dir.join("server.crt");
        let key_path = dir.join("server.key");
        let cert = fsutil::read_optional(&cert_path)?;
        let key = fsutil::read_optional(&key_path)?.map(Zeroizing::new);
        if let (Some(cert), Some(key), false) = (&cert, &key, ca_created) {
            let loaded = Self::load(cert, key, dir)?;
            if loaded.still_good(ca, wanted) {
                return Ok(loaded);
            }
            tracing::info!("re-issuing the server certificate");
        }
        let mut names: BTreeSet<String> = wanted
            .unwrap_or(defaults)
            .iter()
            .map(|n| normalise(n))
            .collect();
        names.extend(defaults.iter().map(|n| normalise(n)));
        Self::create(dir, ca, &names)
    }

    fn load(cert_pem: &str, key_pem: &str, dir: &Path) -> Result<Self, PkiError> {
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| PkiError::Corrupt(dir.join("server.crt")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| PkiError::Corrupt(dir.join("server.key")))?;
        let fingerprint = zpair_proto::crypto::sha256_hex(&cert);
        Ok(Self {
            cert,
            key,
            fingerprint,
        })
    }

    /// Whether the stored certificate can be kept.
    fn still_good(&self, ca: &CertificateAuthority, wanted: Option<&[String]>) -> bool {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(&self.cert) else {
            return false;
        };
        let Ok((_, ca_cert)) = x509_parser::parse_x509_certificate(ca.der()) else {
            return false;
        };
        if cert.verify_signature(Some(ca_cert.public_key())).is_err() {
            return false;
        }
        let renew_at = crate::clock::now() + RENEW_BEFORE;
        if cert.validity().not_after.to_datetime() < renew_at {
            return false;
        }
        let Some(wanted) = wanted else {
            return true;
        };
        let mut present = BTreeSet::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => {
                        present.insert(normalise(dns));
                    }
                    GeneralName::IPAddress(bytes) => {
                        let ip = match bytes.len() {
                            4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            present.insert(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        wanted.iter().all(|n| present.contains(&normalise(n)))
    }

    fn create(
        dir: &Path,
        ca: &CertificateAuthority,
        names: &BTreeSet<String>,
    ) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let now = crate::clock::now();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "ZPair Central Station");
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n.clone().try_into().map(SanType::DnsName),
            })
            .collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + LIFETIME;
        params.serial_number = Some(random_serial()?.0);
        let cert = params.signed_by(&key, ca.issuer())?;
        let key_pem = Zeroizing::new(key.serialize_pem());
        fsutil::write_private(&dir.join("server.key"), key_pem.as_bytes())?;
        fsutil::write_private(&dir.join("server.crt"), cert.pem().as_bytes())?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| PkiError::Corrupt(dir.join("server.key")))?;
        let cert = cert.der().clone();
        Ok(Self {
            fingerprint: zpair_proto::crypto::sha256_hex(&cert),
            cert,
            key,
        })
    }

    /// The certificate, DER.
    pub(crate) fn certificate(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// Its private key.
    pub(crate) fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// SHA-256 of the certificate's DER, lowercase hex.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}
