//! Which Central Station the client trusts, and the rustls configurations
//! that enforce it.
//!
//! A hospital station rarely has a publicly trusted certificate, and the
//! system's roots must not be enough to impersonate it, so the client trusts
//! exactly one anchor: the hospital CA that IT hands out, or the SHA-256
//! fingerprint of the station's own certificate (pinning, for stations with
//! a self-signed certificate). [`probe_station`] is the only connection that
//! accepts any certificate, and it only reads the certificate for the
//! technician to compare with what IT gave them.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zpair_tls::{PinnedServer, ServerCheck};

use super::error::{ClientError, find_tls_error, station_origin};

/// Bytes in a SHA-256 fingerprint.
const FINGERPRINT_BYTES: usize = 32;
/// How long [`probe_station`] waits for the TCP connection and the handshake.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// A Central Station and what to trust it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StationTrust {
    /// The station's base URL, `https://host:port`.
    pub url: String,
    /// The one anchor its certificate must match.
    pub anchor: TrustAnchor,
}

/// What the station's certificate must chain to or be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrustAnchor {
    /// The hospital CA, PEM (one or more certificates); nothing else is trusted.
    CaPem(String),
    /// SHA-256 of the station certificate's DER, hex (any case, `:` or
    /// spaces allowed); that exact certificate is trusted, whoever issued it.
    Fingerprint(String),
}

/// What a technician compares before trusting a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// SHA-256 of the DER, lower-case hex without separators.
    pub fingerprint: String,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// End of validity.
    #[serde(with = "zpair_proto::timestamp")]
    pub not_after: OffsetDateTime,
}

impl CertificateInfo {
    /// Describes one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, ClientError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| ClientError::InvalidTrust {
                reason: format!("the certificate could not be read ({e})"),
            })?;
        let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
            .map_err(|_| ClientError::InvalidTrust {
                reason: "the certificate's end date is out of range".into(),
            })?;
        Ok(Self {
            fingerprint: zpair_proto::crypto::sha256_hex(der),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_after,
        })
    }

    /// Describes the first certificate of a PEM file (a CA file's own CA).
    pub fn from_pem(pem: &str) -> Result<Self, ClientError> {
        let certs = parse_pem_certificates(pem)?;
        match certs.first() {
            Some(der) => Self::from_der(der),
            None => Err(no_certificates()),
        }
    }
}

/// Reads a fingerprint as IT may write it (`AB:CD:…`, spaces, any case) and
/// returns it as 64 lower-case hex digits.
pub fn parse_fingerprint(text: &str) -> Result<String, ClientError> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() != FINGERPRINT_BYTES * 2 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ClientError::InvalidTrust {
            reason: "a SHA-256 fingerprint is 64 hexadecimal digits (32 pairs like AB:CD:…)".into(),
        });
    }
    Ok(hex)
}

/// Shows a fingerprint the way it is read aloud and compared: `AB:CD:…`.
pub fn format_fingerprint(hex: &str) -> String {
    let upper = hex.to_ascii_uppercase();
    let pairs: Vec<&str> = upper
        .as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .collect();
    pairs.join(":")
}

/// A station address as typed or given on a command line, checked the way
/// the client will use it (`https` only, with a host, nothing secret in it).
pub fn check_station_url(text: &str) -> Result<String, ClientError> {
    parse_station_url(text).map(|url| url.to_string())
}

/// Parses and checks a station URL: `https` only, with a host.
pub(crate) fn parse_station_url(text: &str) -> Result<reqwest::Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "https" {
        return Err(invalid("only https:// is allowed"));
    }
    if url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not contain a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not contain ? or #"));
    }
    Ok(url)
}

/// The rustls configuration for API calls: trusts `anchor` and nothing else.
pub(crate) fn client_config(anchor: &TrustAnchor) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::InvalidTrust {
            reason: e.to_string(),
        })?;
    let mut config = match anchor {
        TrustAnchor::CaPem(pem) => {
            let mut roots = RootCertStore::empty();
            for der in parse_pem_certificates(pem)? {
                roots.add(der).map_err(|e| ClientError::InvalidTrust {
                    reason: format!("a certificate in the CA file is not usable as a CA ({e})"),
                })?;
            }
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ClientError::InvalidTrust {
                    reason: e.to_string(),
                })?;
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        }
        TrustAnchor::Fingerprint(text) => {
            let verifier = PinnedServer::new(
                ServerCheck::CertificateSha256(parse_fingerprint(text)?),
                &provider,
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn parse_pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::InvalidTrust {
            reason: format!("the CA file is not valid PEM ({e})"),
        })?;
    if certs.is_empty() {
        return Err(no_certificates());
    }
    Ok(certs)
}

fn no_certificates() -> ClientError {
    ClientError::InvalidTrust {
        reason: "the CA file holds no certificate (expected -----BEGIN CERTIFICATE-----)".into(),
    }
}

/// Connects to the station accepting whatever certificate it presents, and
/// returns that certificate's description for the technician to compare
/// with the fingerprint IT gave them. Nothing else is sent on the connection.
pub async fn probe_station(url: &str) -> Result<CertificateInfo, ClientError> {
    let url = parse_station_url(url)?;
    let origin = station_origin(&url);
    let port = url.port_or_known_default().unwrap_or(443);
    let unreachable = |detail: String| ClientError::Unreachable {
        url: origin.clone(),
        detail,
    };
    let host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .unwrap_or_default();
    let (server_name, address) = match host.parse::<IpAddr>() {
        Ok(ip) => (
            ServerName::IpAddress(ip.into()),
            std::net::SocketAddr::new(ip, port).to_string(),
        ),
        Err(_) => (
            ServerName::try_from(host.to_owned()).map_err(|e| ClientError::InvalidUrl {
                url: origin.clone(),
                reason: e.to_string(),
            })?,
            format!("{host}:{port}"),
        ),
    };
    let tcp = tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| unreachable("connection timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;

    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| unreachable(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer::new(
            ServerCheck::AnyCertificate,
            &provider,
        )))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = tokio::time::timeout(PROBE_TIMEOUT, connector.connect(server_name, tcp))
        .await
        .map_err(|_| unreachable("TLS handshake timed out".into()))?
        .map_err(|e| match find_tls_error(&e) {
            Some(tls) => unreachable(format!("TLS handshake failed: {tls}")),
            None => unreachable(e.to_string()),
        })?;
    let (_, connection) = tls.get_ref();
    let der = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| unreachable("the station presented no certificate".into()))?;
    CertificateInfo::from_der(der)
}

/// The SHA-256 fingerprint (hex) of the certificate the station presents;
/// see [`probe_station`].
pub async fn fetch_certificate_fingerprint(url: &str) -> Result<String, ClientError> {
    Ok(probe_station(url).await?.fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_in_every_common_spelling() {
        let hex = "ab".repeat(32);
        let grouped = format_fingerprint(&hex);
        assert_eq!(&grouped[..8], "AB:AB:AB");
        assert_eq!(grouped.len(), 32 * 3 - 1);
        for text in [
            hex.clone(),
            hex.to_uppercase(),
            grouped.clone(),
            grouped.replace(':', " "),
        ] {
            assert_eq!(parse_fingerprint(&text).expect("valid"), hex, "{text}");
        }
        assert!(parse_fingerprint(&"ab".repeat(31)).is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn station_urls_must_be_https_without_credentials() {
        assert!(parse_station_url("https://127.0.0.1:8443").is_ok());
        assert!(parse_station_url(" https://station.ward.local/ ").is_ok());
        for bad in [
            "http://127.0.0.1:8443",
            "127.0.0.1:8443",
            "https://user:pw@station",
            "https://station/?x=1",
            "",
        ] {
            assert!(parse_station_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unusable_anchors_are_refused() {
        assert!(matches!(
            client_config(&TrustAnchor::CaPem("not a certificate".into())),
            Err(ClientError::InvalidTrust { .. })
        ));
        assert!(matches!(
            client_config(&TrustAnchor::Fingerprint("abc".into())),
            Err(ClientError::InvalidTrust { .. })
        ));
        assert!(client_config(&TrustAnchor::Fingerprint("00".repeat(32))).is_ok());
    }
}
