//! The API port's `ServerConfig`, rebuilt with each new revocation list.

use std::sync::{Arc, RwLock};

use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::UnixTime;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::sync::mpsc;

use super::{ClientIdentity, TlsError};

/// Holds the current `ServerConfig`; the accept loop reads it per connection.
pub(crate) struct TlsServer {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    refused: mpsc::Sender<ClientIdentity>,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer").finish_non_exhaustive()
    }
}

impl TlsServer {
    /// A server presenting `certificate`, trusting client certificates from `ca`
    /// unless `crl` revokes them; each revoked one presented is sent to
    /// `refused` (when there is room: a flood is not worth blocking for).
    pub(crate) fn new(
        ca: &CertificateDer<'static>,
        certificate: &CertificateDer<'static>,
        key: &PrivateKeyDer<'static>,
        crl: CertificateRevocationListDer<'static>,
        refused: mpsc::Sender<ClientIdentity>,
    ) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let provider = super::provider();
        let roots = Arc::new(roots);
        let chain = vec![certificate.clone()];
        let config = build(&provider, &roots, &chain, key, crl, &refused)?;
        Ok(Self {
            provider,
            roots,
            chain,
            key: key.clone_key(),
            refused,
            current: RwLock::new(Arc::new(config)),
        })
    }

    /// Replaces the configuration with one enforcing `crl`. Connections
    /// already open keep theirs; the heartbeat handler checks revocation too.
    pub(crate) fn rebuild(
        &self,
        crl: CertificateRevocationListDer<'static>,
    ) -> Result<(), TlsError> {
        let config = Arc::new(build(
            &self.provider,
            &self.roots,
            &self.chain,
            &self.key,
            crl,
            &self.refused,
        )?);
        match self.current.write() {
            Ok(mut current) => *current = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        Ok(())
    }

    /// The configuration for a new connection.
    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

fn build(
    provider: &Arc<CryptoProvider>,
    roots: &Arc<RootCertStore>,
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    crl: CertificateRevocationListDer<'static>,
    refused: &mpsc::Sender<ClientIdentity>,
) -> Result<ServerConfig, TlsError> {
    let verifier = Arc::new(ReportingVerifier {
        inner: WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .allow_unauthenticated()
            .with_crls([crl])
            .build()?,
        refused: refused.clone(),
    });
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.to_vec(), key.clone_key())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The device CA's verifier, telling the station about every revoked
/// certificate a client presents: a monitor doing so believes it is paired,
/// and the station raises that on the device's status.
#[derive(Debug)]
struct ReportingVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    refused: mpsc::Sender<ClientIdentity>,
}

impl ClientCertVerifier for ReportingVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now);
        if let Err(rustls::Error::InvalidCertificate(CertificateError::Revoked)) = &verified
            && let Some(identity) = ClientIdentity::from_certificate(end_entity)
        {
            // A full queue drops the report; the next heartbeat sends another.
            let _ = self.refused.try_send(identity);
        }
        verified
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
