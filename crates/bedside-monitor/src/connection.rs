//! The monitor's mTLS connection to the Central Station: trusting only the CA
//! the station pushed, presenting the client certificate it issued. Used for
//! the connection test before a configuration is committed, and for every
//! heartbeat after.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use zpair_proto::device::Heartbeat;

use crate::station_configuration::Credentials;

/// How long one heartbeat (or the connection test) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the station could not be reached over mTLS.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// A certificate or the key is not valid PEM.
    #[error("the {0} is not valid PEM")]
    Pem(&'static str),
    /// rustls refused the certificates or key.
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    /// The connection or the request failed.
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The station answered, but not with success.
    #[error("the station answered {0}")]
    Status(reqwest::StatusCode),
    /// The station's revocation list does not parse.
    #[error("the revocation list does not parse: {0}")]
    Crl(String),
}

/// The pushed CA as the only root: every connection to the station trusts
/// nothing else.
fn station_roots(credentials: &Credentials) -> Result<rustls::RootCertStore, ConnectionError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(credentials.ca_pem.as_bytes()) {
        let ca = ca.map_err(|_| ConnectionError::Pem("CA certificate"))?;
        roots.add(ca)?;
    }
    if roots.is_empty() {
        return Err(ConnectionError::Pem("CA certificate"));
    }
    Ok(roots)
}

/// A client configuration that trusts only the pushed CA, still to be told
/// whether it presents a certificate.
fn trusting_the_station(
    credentials: &Credentials,
) -> Result<
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    ConnectionError,
> {
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(station_roots(credentials)?))
}

/// The rustls client configuration: only the pushed CA is trusted, and the
/// new certificate and key are presented.
pub fn tls_config(credentials: &Credentials) -> Result<rustls::ClientConfig, ConnectionError> {
    let chain = CertificateDer::pem_slice_iter(credentials.certificate_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConnectionError::Pem("client certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(credentials.key_pem.as_bytes())
        .map_err(|_| ConnectionError::Pem("client key"))?;
    Ok(trusting_the_station(credentials)?.with_client_auth_cert(chain, key)?)
}

/// An HTTPS-only client for the station with these credentials. A monitor
/// simulated on a loopback address connects from that address, as a real
/// one does from its own on a ward network (the station counts connections
/// per address); elsewhere the system picks the source address, so a
/// station of the other IP family stays reachable.
pub fn client(
    credentials: &Credentials,
    local_ip: std::net::IpAddr,
) -> Result<reqwest::Client, ConnectionError> {
    Ok(reqwest::Client::builder()
        .local_address(local_ip.is_loopback().then_some(local_ip))
        .tls_backend_preconfigured(tls_config(credentials)?)
        .https_only(true)
        // The station is reached directly: a proxy from the environment
        // would see (and break) the mutual TLS.
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// What the station made of a heartbeat.
#[derive(Debug)]
pub enum Verdict {
    /// Accepted (2xx); the bytes sent.
    Accepted(u64),
    /// The station refused this certificate: a 401/403 over the connection
    /// authenticated by its server certificate, or its revocation list
    /// (fetched over such a connection) names it.
    Refused(String),
    /// No answer that says anything: network, timeout, a server error, or a
    /// TLS alert alone (an alert can arrive before the server proved who it
    /// is, so a stranger on the path could have sent it).
    Unreachable(String),
}

/// TLS alerts by which a station refuses a client certificate at the handshake.
const REFUSING_ALERTS: [rustls::AlertDescription; 4] = [
    rustls::AlertDescription::CertificateRevoked,
    rustls::AlertDescription::CertificateExpired,
    rustls::AlertDescription::BadCertificate,
    rustls::AlertDescription::CertificateUnknown,
];

/// Delivers a heartbeat over `client` and says what the station made of it.
/// A refusing TLS alert is only a suspicion: it is confirmed by the station's
/// revocation list, read over a connection that authenticates the station.
pub async fn deliver(
    client: &reqwest::Client,
    credentials: &Credentials,
    server_url: &str,
    serial: &str,
    heartbeat: &Heartbeat,
) -> Verdict {
    match send_heartbeat(client, server_url, heartbeat).await {
        Ok(sent) => Verdict::Accepted(sent),
        Err(ConnectionError::Status(status))
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN =>
        {
            Verdict::Refused(format!("the station answered {status}"))
        }
        Err(ConnectionError::Http(e)) => match refusing_alert(&e) {
            Some(alert) => match revoked(credentials, server_url, serial).await {
                Ok(true) => Verdict::Refused(format!(
                    "the station sent the TLS alert {alert:?} and its revocation list names the certificate"
                )),
                Ok(false) => Verdict::Unreachable(format!(
                    "a TLS alert {alert:?}, but the revocation list does not name the certificate"
                )),
                Err(why) => Verdict::Unreachable(format!(
                    "a TLS alert {alert:?}; no revocation list to confirm it: {why}"
                )),
            },
            None => Verdict::Unreachable(e.to_string()),
        },
        Err(other) => Verdict::Unreachable(other.to_string()),
    }
}

/// The refusing TLS alert somewhere in `error`'s chain. rustls' error sits
/// inside an `io::Error`, whose `source()` skips it, so each link is also
/// looked into as an `io::Error`.
fn refusing_alert(error: &(dyn std::error::Error + 'static)) -> Option<rustls::AlertDescription> {
    let mut link = Some(error);
    while let Some(e) = link {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::AlertReceived(alert)) = tls
            && REFUSING_ALERTS.contains(alert)
        {
            return Some(*alert);
        }
        link = e.source();
    }
    None
}

/// Whether the station's revocation list names `serial` (lowercase hex).
/// Read without a client certificate, trusting only the pushed CA: the
/// answer comes from the station itself.
async fn revoked(
    credentials: &Credentials,
    server_url: &str,
    serial: &str,
) -> Result<bool, ConnectionError> {
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(trusting_the_station(credentials)?.with_no_client_auth())
        .https_only(true)
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    let url = format!("{}/api/ca/crl", server_url.trim_end_matches('/'));
    let response = client.get(url).send().await?;
    if !response.status().is_success() {
        return Err(ConnectionError::Status(response.status()));
    }
    revocation_list_names(&response.bytes().await?, serial)
}

/// Whether the PEM revocation list `pem` lists `serial` (lowercase hex).
/// Its signature is not checked here: it came over TLS from the station the
/// monitor trusts.
pub fn revocation_list_names(pem: &[u8], serial: &str) -> Result<bool, ConnectionError> {
    let der = CertificateRevocationListDer::from_pem_slice(pem)
        .map_err(|_| ConnectionError::Pem("revocation list"))?;
    let (_, crl) =
        x509_parser::parse_x509_crl(&der).map_err(|e| ConnectionError::Crl(e.to_string()))?;
    Ok(crl
        .iter_revoked_certificates()
        .any(|r| crate::exchange::verify::serial_hex(r.raw_serial()) == serial))
}

/// Sends one heartbeat to `{server_url}/api/devices/heartbeat`; the bytes sent.
pub async fn send_heartbeat(
    client: &reqwest::Client,
    server_url: &str,
    heartbeat: &Heartbeat,
) -> Result<u64, ConnectionError> {
    let url = format!("{}/api/devices/heartbeat", server_url.trim_end_matches('/'));
    let body = serde_json::to_vec(heartbeat).unwrap_or_default();
    let sent = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    if response.status().is_success() {
        Ok(sent)
    } else {
        Err(ConnectionError::Status(response.status()))
    }
}
