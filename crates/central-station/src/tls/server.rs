//! The API port's `ServerConfig`, rebuilt with each new revocation list.

use std::sync::{Arc, RwLock};

use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::TlsError;

/// Holds the current `ServerConfig`; the accept loop reads it per connection.
pub(crate) struct TlsServer {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer").finish_non_exhaustive()
    }
}

impl TlsServer {
    /// A server presenting `certificate`, trusting client certificates from `ca`
    /// unless `crl` revokes them.
    pub(crate) fn new(
        ca: &CertificateDer<'static>,
        certificate: &CertificateDer<'static>,
        key: &PrivateKeyDer<'static>,
        crl: CertificateRevocationListDer<'static>,
    ) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let provider = super::provider();
        let roots = Arc::new(roots);
        let chain = vec![certificate.clone()];
        let config = build(&provider, &roots, &chain, key, crl)?;
        Ok(Self {
            provider,
            roots,
            chain,
            key: key.clone_key(),
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
) -> Result<ServerConfig, TlsError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .allow_unauthenticated()
        .with_crls([crl])
        .build()?;
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.to_vec(), key.clone_key())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
