//! TLS on both sides of the station.
//!
//! - The API port ([`server`], [`accept`]): the station's server certificate,
//!   client certificates optional (technicians use bearer tokens, monitors
//!   their device certificates), checked against the device CA and its current
//!   revocation list. The `ServerConfig` is rebuilt whenever a certificate is
//!   revoked and each new connection takes the current one.
//! - Towards monitors ([`pinning`]): the monitor's self-signed certificate is
//!   accepted only if its key is the identity key in the registry.

mod accept;
mod identity;
mod server;

pub(crate) use accept::serve;
pub use identity::ClientIdentity;
pub(crate) use server::TlsServer;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built (bad CA or CRL).
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The one crypto provider of the project.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
