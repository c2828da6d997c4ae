//! A [`SecretStore`] in the operating system's keyring, through keyring-core.
//!
//! The platform store is chosen explicitly ([`super::platform`]), never
//! through keyring-core's process-wide default, and there is no mock
//! fallback: where no real store exists, [`KeyringSecretStore::new`] says
//! so.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use super::platform::{self, StoreKind};
use super::{SecretStore, SecretStoreError};
use crate::secret::Secret;

/// Secrets in the system keyring, under one service name.
pub struct KeyringSecretStore {
    service: String,
    kind: StoreKind,
    store: Arc<CredentialStore>,
    modifiers: HashMap<&'static str, &'static str>,
}

impl std::fmt::Debug for KeyringSecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringSecretStore")
            .field("service", &self.service)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl KeyringSecretStore {
    /// Opens the platform's keyring for `service` and checks that a secret
    /// written to it can be read back, so a session without a usable keyring
    /// is reported now rather than as a lost sign-in later.
    pub fn new(service: &str) -> Result<Self, SecretStoreError> {
        let opened = platform::open()?;
        let this = Self {
            service: service.to_owned(),
            kind: opened.kind,
            modifiers: opened.modifiers(),
            store: opened.store,
        };
        this.probe()?;
        Ok(this)
    }

    /// Which system store this is, for Settings.
    #[must_use]
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    fn entry(&self, key: &str) -> Result<Entry, keyring_core::Error> {
        let modifiers = (!self.modifiers.is_empty()).then_some(&self.modifiers);
        self.store.build(&self.service, key, modifiers)
    }

    /// Writes, reads back and deletes a throw-away entry whose name is unique
    /// to this call, so concurrent processes never see each other's probe.
    fn probe(&self) -> Result<(), SecretStoreError> {
        let nonce: [u8; 8] =
            zpair_proto::crypto::random_bytes().map_err(|e| SecretStoreError::Unavailable {
                reason: format!("no randomness for the keyring check: {e}"),
            })?;
        let key = format!(
            "probe-{}-{}",
            std::process::id(),
            zpair_proto::b64::encode(nonce)
        );
        let value = Secret::new(zpair_proto::b64::encode(nonce));
        let store = self.kind.label();
        let unusable = |e: SecretStoreError| match e {
            SecretStoreError::Unavailable { reason } => SecretStoreError::Unavailable {
                reason: format!("{store} refused access: {reason}"),
            },
            SecretStoreError::Failed { operation, reason } => SecretStoreError::Unavailable {
                reason: format!("{store} cannot {operation} a secret: {reason}"),
            },
        };
        self.set(&key, &value).map_err(unusable)?;
        let read = self.get(&key).map_err(unusable)?;
        self.delete(&key).map_err(unusable)?;
        match read {
            Some(back) if back.expose() == value.expose() => Ok(()),
            _ => Err(SecretStoreError::Unavailable {
                reason: format!("a secret written to {store} could not be read back"),
            }),
        }
    }
}

fn failed(operation: &'static str, e: &keyring_core::Error) -> SecretStoreError {
    match e {
        keyring_core::Error::NoStorageAccess(reason) => SecretStoreError::Unavailable {
            reason: reason.to_string(),
        },
        other => SecretStoreError::Failed {
            operation,
            reason: other.to_string(),
        },
    }
}

impl SecretStore for KeyringSecretStore {
    fn get(&self, key: &str) -> Result<Option<Secret<String>>, SecretStoreError> {
        let entry = self.entry(key).map_err(|e| failed("read", &e))?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(failed("read", &e)),
        }
    }

    fn set(&self, key: &str, value: &Secret<String>) -> Result<(), SecretStoreError> {
        let entry = self.entry(key).map_err(|e| failed("save", &e))?;
        entry
            .set_password(value.expose())
            .map_err(|e| failed("save", &e))
    }

    fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        let entry = self.entry(key).map_err(|e| failed("delete", &e))?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(failed("delete", &e)),
        }
    }
}

/// These run on every system (the release workflow runs them on Windows
/// and macOS against Credential Manager and the login keychain).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;
    use crate::secret_store::choose;

    /// A keyring this test run may use, or a failure that says how to get one.
    fn store() -> KeyringSecretStore {
        match KeyringSecretStore::new("zpair-core-tests") {
            Ok(store) => store,
            Err(e) => panic!(
                "the keyring tests need a usable system keyring; on Linux run them under \
                 `keyctl session -` (package `keyutils`), e.g. `keyctl session - cargo test -p \
                 zpair-core`. Cause: {e:?}"
            ),
        }
    }

    #[test]
    fn the_store_is_the_one_chosen_for_this_system() {
        let kind = store().kind();
        let platform = Platform::current().expect("a supported system");
        let desktop_keyring = kind == StoreKind::SecretServiceSession;
        assert_eq!(kind, choose(platform, desktop_keyring));
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            assert_ne!(
                kind,
                StoreKind::SecretServiceSession,
                "no session bus to ask"
            );
        }
    }

    #[test]
    fn round_trips_replaces_and_deletes_in_the_session_keyring() {
        let store = store();
        let key = format!("test-{}", std::process::id());
        store.delete(&key).expect("clean start");
        assert!(store.get(&key).expect("get").is_none());
        store.set(&key, &Secret::new("first".into())).expect("set");
        store
            .set(&key, &Secret::new("second".into()))
            .expect("replace");
        assert_eq!(
            store.get(&key).expect("get").expect("present").expose(),
            "second"
        );
        // A second handle (as a second run of the CLI would open) sees it too.
        let again = KeyringSecretStore::new("zpair-core-tests").expect("reopen");
        assert_eq!(
            again.get(&key).expect("get").expect("present").expose(),
            "second"
        );
        store.delete(&key).expect("delete");
        store.delete(&key).expect("deleting twice is fine");
        assert!(again.get(&key).expect("get").is_none());
    }

    #[test]
    fn services_do_not_see_each_other() {
        let a = store();
        let b = KeyringSecretStore::new("zpair-core-tests-other").expect("second service");
        let key = format!("isolated-{}", std::process::id());
        a.set(&key, &Secret::new("only a".into())).expect("set");
        assert!(b.get(&key).expect("get").is_none());
        a.delete(&key).expect("delete");
    }
}
