//! The hospital CA: it issues the station's server certificate and, as the
//! device CA, monitors' client certificates from their CSRs, and signs the
//! revocation list the mTLS port enforces.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams,
    CertificateSigningRequestParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    SerialNumber,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::{PkiError, random_serial, unhex};
use crate::fsutil;

/// How long the CA is valid.
const CA_LIFETIME: Duration = Duration::days(3650);
/// How long a monitor's client certificate is valid, unless the station is
/// configured otherwise (`StationConfig::client_certificate_lifetime`).
pub const CLIENT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
/// How far back a new certificate's validity starts, for clocks a little
/// behind; never more than a twelfth of its lifetime, so a short-lived
/// certificate's renewal point (a share of its validity) stays where it was meant.
const BACKDATE: Duration = Duration::minutes(5);
/// How long a CRL is announced to be current; the station re-signs it daily.
const CRL_LIFETIME: Duration = Duration::days(7);

/// The CA's certificate and signing key.
pub(crate) struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: CertificateDer<'static>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

/// A client certificate just issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCertificate {
    pub(crate) serial: String,
    pub(crate) pem: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    /// SHA-256 of the certified public key (its SubjectPublicKeyInfo), hex.
    pub(crate) key_sha256: String,
}

/// A signed revocation list.
#[derive(Debug, Clone)]
pub(crate) struct Crl {
    pub(crate) pem: String,
    pub(crate) der: CertificateRevocationListDer<'static>,
}

/// One revoked certificate for the CRL.
#[derive(Debug, Clone)]
pub(crate) struct Revoked {
    pub(crate) serial: String,
    pub(crate) revoked_at: OffsetDateTime,
}

fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

impl CertificateAuthority {
    /// Loads `ca.crt`/`ca.key` from `dir`, or makes a new CA if there is no
    /// certificate. Returns whether it was created.
    pub(crate) fn load_or_create(dir: &Path) -> Result<(Self, bool), PkiError> {
        let cert_path = dir.join("ca.crt");
        let key_path = dir.join("ca.key");
        let cert = fsutil::read_optional(&cert_path)?;
        let key = fsutil::read_optional(&key_path)?.map(Zeroizing::new);
        match (cert, key) {
            (Some(cert), Some(key)) => Ok((Self::load(&cert, &key, dir)?, false)),
            (Some(_), None) => Err(PkiError::Corrupt(key_path)),
            // A key without a certificate is a first run cut short: start over.
            (None, _) => Ok((Self::create(dir)?, true)),
        }
    }

    fn load(cert_pem: &str, key_pem: &str, dir: &Path) -> Result<Self, PkiError> {
        let corrupt = || PkiError::Corrupt(dir.join("ca.crt"));
        let key = KeyPair::from_pem(key_pem).map_err(|_| PkiError::Corrupt(dir.join("ca.key")))?;
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|_| corrupt())?;
        let matches = x509_parser::parse_x509_certificate(&der)
            .map(|(_, cert)| {
                cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
            })
            .unwrap_or(false);
        if !matches {
            return Err(corrupt());
        }
        let issuer = Issuer::from_ca_cert_der(&der, key).map_err(|_| corrupt())?;
        Ok(Self {
            issuer,
            pem: cert_pem.to_owned(),
            der,
        })
    }

    fn create(dir: &Path) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let now = whole_seconds(crate::clock::now());
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "ZPair Hospital CA");
        name.push(DnType::OrganizationName, "ZPair Central Station");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + CA_LIFETIME;
        params.serial_number = Some(random_serial()?.0);
        let cert = params.self_signed(&key)?;
        // Key first: a crash between the two writes leaves no certificate,
        // which the next run treats as "no CA yet".
        fsutil::write_private(
            &dir.join("ca.key"),
            Zeroizing::new(key.serialize_pem()).as_bytes(),
        )?;
        let pem = cert.pem();
        fsutil::write_private(&dir.join("ca.crt"), pem.as_bytes())?;
        tracing::info!("created a new hospital CA");
        Ok(Self {
            issuer: Issuer::new(params, key),
            pem,
            der: cert.der().clone(),
        })
    }

    /// The CA certificate, PEM.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER.
    pub(crate) fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The issuer, for the server certificate.
    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// Issues a monitor's client certificate from its CSR: CN = device ID,
    /// client authentication only, valid for `lifetime` (a year unless
    /// configured). Only the CSR's key is used; its requested subject and
    /// extensions are not.
    pub(crate) fn issue_client(
        &self,
        csr_pem: &str,
        device_id: &str,
        now: OffsetDateTime,
        lifetime: std::time::Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let csr =
            CertificateSigningRequestParams::from_pem(csr_pem).map_err(|_| PkiError::BadCsr)?;
        let alg = csr.public_key.algorithm();
        let supported = [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ];
        if !supported.contains(&alg) {
            return Err(PkiError::BadCsr);
        }
        let key_sha256 = {
            use rcgen::PublicKeyData as _;
            zpair_proto::crypto::sha256_hex(&csr.public_key.subject_public_key_info())
        };
        let lifetime = Duration::try_from(lifetime).map_err(|_| PkiError::BadCsr)?;
        let now = whole_seconds(now);
        let (serial_number, serial) = random_serial()?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, device_id);
        params.distinguished_name = name;
        params.not_before = now - BACKDATE.min(lifetime / 12);
        params.not_after = now + lifetime;
        params.serial_number = Some(serial_number);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let (not_before, not_after) = (params.not_before, params.not_after);
        let request = CertificateSigningRequestParams {
            params,
            public_key: csr.public_key,
        };
        let cert = request.signed_by(&self.issuer)?;
        Ok(IssuedCertificate {
            serial,
            pem: cert.pem(),
            not_before,
            not_after,
            key_sha256,
        })
    }

    /// Signs a CRL listing `revoked`.
    pub(crate) fn crl(
        &self,
        revoked: &[Revoked],
        number: u64,
        now: OffsetDateTime,
    ) -> Result<Crl, PkiError> {
        let now = whole_seconds(now);
        let revoked_certs = revoked
            .iter()
            .filter_map(|r| {
                Some(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&unhex(&r.serial)?),
                    revocation_time: whole_seconds(r.revoked_at),
                    reason_code: Some(RevocationReason::Superseded),
                    invalidity_date: None,
                })
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + CRL_LIFETIME,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer)?;
        Ok(Crl {
            pem: crl.pem()?,
            der: crl.der().clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca() -> (tempfile::TempDir, CertificateAuthority) {
        let dir = tempfile::tempdir().expect("temp");
        let (ca, created) = CertificateAuthority::load_or_create(dir.path()).expect("ca");
        assert!(created);
        (dir, ca)
    }

    fn csr(cn: &str) -> String {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem")
    }

    #[test]
    fn issues_a_client_certificate_for_the_device_whatever_the_csr_asks() {
        let (_dir, ca) = ca();
        let now = crate::clock::now();
        let issued = ca
            .issue_client(&csr("someone-else"), "ZM-1", now, CLIENT_LIFETIME)
            .expect("issue");
        let der = CertificateDer::from_pem_slice(issued.pem.as_bytes()).expect("pem");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parse");
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok());
        assert_eq!(cn, Some("ZM-1"));
        assert_eq!(super::super::hex(cert.raw_serial()), issued.serial);
        let (_, ca_cert) = x509_parser::parse_x509_certificate(ca.der()).expect("ca");
        cert.verify_signature(Some(ca_cert.public_key()))
            .expect("signed by the CA");
        assert!(issued.not_after - issued.not_before > Duration::days(364));
    }

    #[test]
    fn garbage_csrs_are_refused() {
        let (_dir, ca) = ca();
        let now = crate::clock::now();
        for bad in [
            "",
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        ] {
            assert!(matches!(
                ca.issue_client(bad, "ZM-1", now, CLIENT_LIFETIME),
                Err(PkiError::BadCsr)
            ));
        }
    }

    #[test]
    fn the_crl_lists_revoked_serials() {
        let (_dir, ca) = ca();
        let now = crate::clock::now();
        let issued = ca
            .issue_client(&csr("ZM-1"), "ZM-1", now, CLIENT_LIFETIME)
            .expect("issue");
        let crl = ca
            .crl(
                &[Revoked {
                    serial: issued.serial.clone(),
                    revoked_at: now,
                }],
                7,
                now,
            )
            .expect("crl");
        assert!(crl.pem.contains("BEGIN X509 CRL"));
        let (_, parsed) = x509_parser::parse_x509_crl(&crl.der).expect("parse");
        let serials: Vec<String> = parsed
            .iter_revoked_certificates()
            .map(|r| super::super::hex(r.raw_serial()))
            .collect();
        assert_eq!(serials, [issued.serial]);
    }
}
