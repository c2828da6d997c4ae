//! Step 2 of the exchange, the monitor's checks of what the station pushed:
//! the sealed box opens with this exchange's key, the configuration is signed
//! by the station key the monitor trusts, is for this monitor and has not
//! expired, and its client certificate is for the key the monitor made and
//! chains to the CA it came with.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, X509Certificate};
use zpair_proto::config::{ConfigurationPayload, SignedConfiguration};
use zpair_proto::crypto::{self, HpkeKeyPair, Sealed, VerifyingKey};
use zpair_proto::{b64, canonical};

use super::ExchangeError;
use crate::station_configuration::AppliedConfiguration;

/// The sealed configuration as the station sent it.
#[derive(Debug, Clone, Copy)]
pub struct SealedBox<'a> {
    /// HPKE `enc`, base64url.
    pub encapped_key: &'a str,
    /// The ciphertext, base64url.
    pub ciphertext: &'a str,
}

/// A configuration whose box opened and whose signature verified.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The configuration.
    pub configuration: ConfigurationPayload,
    /// SHA-256 of its signed bytes, hex: names it in the event log.
    pub hash: String,
}

/// Opens the box and checks signature, device and expiry.
pub fn open_configuration(
    hpke: &HpkeKeyPair,
    sealed: SealedBox<'_>,
    station_key: Option<&VerifyingKey>,
    device_id: &str,
    now: OffsetDateTime,
) -> Result<Opened, ExchangeError> {
    let unreadable = ExchangeError::SignatureInvalid("The configuration could not be opened.");
    let sealed = Sealed {
        encapped_key: b64::decode(sealed.encapped_key).map_err(|_| unreadable)?,
        ciphertext: b64::decode(sealed.ciphertext).map_err(|_| unreadable)?,
    };
    let plaintext = hpke.open(device_id, &sealed).map_err(|_| unreadable)?;
    let signed: SignedConfiguration = serde_json::from_slice(&plaintext).map_err(|_| unreadable)?;
    let key = station_key.ok_or(ExchangeError::SignatureInvalid(
        "The monitor trusts no Central Station key yet: register it with the station's key first.",
    ))?;
    crypto::verify_configuration(key, &signed).map_err(|_| {
        ExchangeError::SignatureInvalid(
            "The configuration is not signed by the Central Station this monitor trusts.",
        )
    })?;
    let configuration = signed.configuration;
    if configuration.device_id != device_id {
        return Err(ExchangeError::SignatureInvalid(
            "The configuration is for another monitor.",
        ));
    }
    if configuration.expires_at <= now {
        return Err(ExchangeError::ConfigExpired);
    }
    let hash = crypto::sha256_hex(&canonical::configuration(&configuration));
    Ok(Opened {
        configuration,
        hash,
    })
}

/// Checks the pushed certificates and reads what the monitor reports about them.
pub fn check_certificates(
    configuration: &ConfigurationPayload,
    tls_public_key: &[u8],
    now: OffsetDateTime,
) -> Result<AppliedConfiguration, ExchangeError> {
    let client = single_certificate(&configuration.client_certificate)?;
    let cas = CertificateDer::pem_slice_iter(configuration.ca_certificate.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ExchangeError::CertificateInvalid("The CA certificate is not valid PEM."))?;
    if cas.is_empty() {
        return Err(ExchangeError::CertificateInvalid(
            "The configuration carries no CA certificate.",
        ));
    }
    let (_, parsed) = X509Certificate::from_der(client.as_ref())
        .map_err(|_| ExchangeError::CertificateInvalid("The client certificate cannot be read."))?;
    if parsed.public_key().raw != tls_public_key {
        return Err(ExchangeError::CertificateInvalid(
            "The client certificate is not for the key this monitor generated.",
        ));
    }
    let common_name = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok());
    if common_name != Some(configuration.device_id.as_str()) {
        return Err(ExchangeError::CertificateInvalid(
            "The client certificate names another monitor.",
        ));
    }
    chains_to(&client, cas, now)?;
    let not_after = OffsetDateTime::from_unix_timestamp(parsed.validity().not_after.timestamp())
        .map_err(|_| {
            ExchangeError::CertificateInvalid("The client certificate's dates cannot be read.")
        })?;
    Ok(AppliedConfiguration {
        server_url: configuration.server_url.clone(),
        certificate_serial: serial_hex(parsed.raw_serial()),
        certificate_not_after: not_after,
        device_label: configuration.device_label.clone(),
        bed_id: configuration.bed_id.clone(),
    })
}

fn single_certificate(pem: &str) -> Result<CertificateDer<'static>, ExchangeError> {
    let mut certs = CertificateDer::pem_slice_iter(pem.as_bytes());
    match (certs.next(), certs.next()) {
        (Some(Ok(cert)), None) => Ok(cert),
        _ => Err(ExchangeError::CertificateInvalid(
            "The client certificate is not a single PEM certificate.",
        )),
    }
}

/// Verifies the client certificate as the station's mTLS port will: issued by
/// one of `cas`, in its validity period, usable for client authentication.
fn chains_to(
    client: &CertificateDer<'static>,
    cas: Vec<CertificateDer<'static>>,
    now: OffsetDateTime,
) -> Result<(), ExchangeError> {
    let bad_ca = ExchangeError::CertificateInvalid("The CA certificate is not a usable CA.");
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        roots.add(ca).map_err(|_| bad_ca)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|_| bad_ca)?;
    let seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds));
    verifier
        .verify_client_cert(client, &[], at)
        .map(|_| ())
        .map_err(|_| {
            ExchangeError::CertificateInvalid(
                "The client certificate does not chain to the station's CA, or is not valid now.",
            )
        })
}

/// A certificate serial as lowercase hex without leading zero bytes (DER
/// adds one when the top bit is set).
pub fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    zpair_proto::hex::encode(raw.get(start..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_drop_the_der_sign_byte() {
        assert_eq!(serial_hex(&[0x00, 0x9a, 0x01]), "9a01");
        assert_eq!(serial_hex(&[0x0a, 0x00]), "0a00");
        assert_eq!(serial_hex(&[0x00]), "00");
    }
}
