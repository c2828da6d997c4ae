//! The library's top-level error: what can stop a station from starting or an
//! admin command from completing.

use std::net::SocketAddr;

use crate::accounts::AccountError;
use crate::db::DbError;
use crate::fsutil::FsError;
use crate::pki::PkiError;
use crate::tls::TlsError;

/// Why the station (or an admin command) failed.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    /// The database could not be opened, migrated or written.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Keys or certificates could not be made or read.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An account could not be created.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A data directory file could not be prepared.
    #[error(transparent)]
    File(#[from] FsError),
    /// The listen address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `public_url` is not an `https://` URL with a host.
    #[error("the public URL {0:?} is not an https:// URL with a host")]
    PublicUrl(String),
    /// A blocking start-up task died.
    #[error("start-up task failed: {0}")]
    Startup(String),
}
