//! The secret store the app keeps its session in: the system keyring under
//! the app's identifier (test builds have their own, so they never touch a
//! real user's entries).
//!
//! Without a usable keyring the app still opens — setting up the station
//! needs none — and sign-in reports the keyring's own explanation. Nothing
//! is ever kept anywhere else instead.

use std::sync::Arc;

use zpair_core::Secret;
use zpair_core::secret_store::{KeyringSecretStore, SecretStore, SecretStoreError};

/// The keyring for `identifier` with what Settings calls it, or a store
/// that answers every call with why the keyring could not be opened (and
/// no name).
pub fn system_secret_store(identifier: &str) -> (Arc<dyn SecretStore>, Option<String>) {
    match KeyringSecretStore::new(identifier) {
        Ok(store) => {
            let kept_in = store.kind().label().to_owned();
            tracing::info!(store = %kept_in, "the sign-in is kept in the system store");
            (Arc::new(store), Some(kept_in))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no usable keyring; sign-in will report it");
            let store = NoKeyring {
                reason: keyring_reason(e),
            };
            (Arc::new(store), None)
        }
    }
}

fn keyring_reason(error: SecretStoreError) -> String {
    match error {
        SecretStoreError::Unavailable { reason } => reason,
        SecretStoreError::Failed { operation, reason } => format!("{operation}: {reason}"),
    }
}

/// Refuses every operation with the reason the keyring did not open.
#[derive(Debug)]
struct NoKeyring {
    reason: String,
}

impl NoKeyring {
    fn refuse(&self) -> SecretStoreError {
        SecretStoreError::Unavailable {
            reason: self.reason.clone(),
        }
    }
}

impl SecretStore for NoKeyring {
    fn get(&self, _key: &str) -> Result<Option<Secret<String>>, SecretStoreError> {
        Err(self.refuse())
    }

    fn set(&self, _key: &str, _value: &Secret<String>) -> Result<(), SecretStoreError> {
        Err(self.refuse())
    }

    fn delete(&self, _key: &str) -> Result<(), SecretStoreError> {
        Err(self.refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::user_facing::UserFacing as _;

    #[test]
    fn a_missing_keyring_is_reported_on_use_not_hidden() {
        let store = NoKeyring {
            reason: "no session keyring".into(),
        };
        let error = store.get("https://station/").expect_err("refused");
        assert_eq!(
            error.code(),
            zpair_core::error::ErrorCode::SecretStoreUnavailable
        );
        assert!(error.to_string().contains("no session keyring"));
        assert!(store.set("k", &Secret::new("v".into())).is_err());
    }
}
