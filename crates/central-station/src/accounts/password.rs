//! Argon2id password hashes (PHC strings), verified off the async runtime
//! and a few at a time: each verification takes ~19 MiB and tens of
//! milliseconds by design.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::AccountError;

/// Hashes a new password.
pub(crate) fn hash(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| AccountError::Hash)
}

fn verify_blocking(password: &[u8], phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password, &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a password nobody knows, verified against when the username is
/// unknown, so that a wrong username costs as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random = zpair_proto::crypto::random_bytes::<24>()
            .map(zpair_proto::b64::encode)
            .unwrap_or_else(|_| "zpair-decoy-password".to_owned());
        hash(&random).unwrap_or_default()
    })
}

/// Verifies passwords, at most a few at once.
#[derive(Debug)]
pub(crate) struct PasswordCheck {
    slots: Semaphore,
    /// Hashes computed since start: what a burst of guesses actually got.
    checked: AtomicU64,
}

impl PasswordCheck {
    /// At most `parallel` verifications run at the same time.
    pub(crate) fn new(parallel: usize) -> Self {
        Self {
            slots: Semaphore::new(parallel.max(1)),
            checked: AtomicU64::new(0),
        }
    }

    /// How many passwords were hashed and compared since the station started.
    pub(crate) fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    /// Hashes a new password, within the same few slots as verifications
    /// (each hash costs what a verification does), off the async runtime.
    pub(crate) async fn hash(&self, password: &str) -> Result<String, AccountError> {
        let _slot = self.slots.acquire().await.map_err(|_| AccountError::Hash)?;
        let password = Zeroizing::new(password.to_owned());
        tokio::task::spawn_blocking(move || hash(&password))
            .await
            .map_err(|_| AccountError::Hash)?
    }

    /// Whether `password` matches `phc`; with `None` (unknown user), does the
    /// same work and answers `false`.
    pub(crate) async fn verify(&self, password: &str, phc: Option<String>) -> bool {
        let Ok(_slot) = self.slots.acquire().await else {
            return false;
        };
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| decoy_hash().to_owned());
        self.checked.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || verify_blocking(&password, &phc))
            .await
            .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let phc = hash("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let check = PasswordCheck::new(2);
        assert!(check.verify("correct horse", Some(phc.clone())).await);
        assert!(!check.verify("correct horsf", Some(phc)).await);
        assert!(!check.verify("anything", None).await);
        assert!(!check.verify("x", Some("not a phc string".into())).await);
        assert_eq!(check.checked(), 4);
    }
}
