//! Where session tokens are kept between runs: behind a trait, so the app
//! and the CLI use the operating system's keyring and tests use memory.
//!
//! There is deliberately no plain-file implementation: a token on disk in
//! clear is what the design forbids, and an "it works everywhere" fallback
//! would silently become that.

mod keyring;
#[cfg(target_os = "linux")]
mod keyutils_session;
mod memory;
mod platform;
#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(all(test, target_os = "linux"))]
mod session_tests;

pub use keyring::KeyringSecretStore;
pub use memory::MemorySecretStore;
pub use platform::{StoreKind, choose};

use crate::error::{ErrorCode, UserFacing};
use crate::secret::Secret;

/// A small key–value store for secrets.
pub trait SecretStore: Send + Sync {
    /// The secret under `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Secret<String>>, SecretStoreError>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &Secret<String>) -> Result<(), SecretStoreError>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), SecretStoreError>;
}

/// Why the secret store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretStoreError {
    /// No real secret store exists on this platform or in this session.
    #[error(
        "No usable secret store is available ({reason}). Sign-in tokens are only kept in the system keyring; on Linux run inside a login session or start one with `keyctl session -`."
    )]
    Unavailable {
        /// What was missing.
        reason: String,
    },
    /// The store refused or failed an operation.
    #[error(
        "The system keyring failed to {operation} the saved sign-in ({reason}). Sign in again; if it keeps failing, contact IT support."
    )]
    Failed {
        /// `read`, `save` or `delete`.
        operation: &'static str,
        /// The platform's explanation (never the secret).
        reason: String,
    },
}

impl UserFacing for SecretStoreError {
    fn code(&self) -> ErrorCode {
        match self {
            SecretStoreError::Unavailable { .. } => ErrorCode::SecretStoreUnavailable,
            SecretStoreError::Failed { .. } => ErrorCode::SecretStoreFailed,
        }
    }
}
