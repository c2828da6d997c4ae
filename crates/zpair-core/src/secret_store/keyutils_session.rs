//! The kernel's session keyring as a keyring-core store, and nothing more.
//!
//! `linux-keyutils-keyring-store`'s own `Store` links every key it writes
//! into the user's persistent keyring as well (and links that keyring into
//! the session), so a sign-in outlives logging out of the desktop for as
//! long as `/proc/sys/kernel/keys/persistent_keyring_expiry` says — three
//! days by default. Its credential type keeps that keyring in a public,
//! optional field; this store builds the same credentials with it left
//! empty, so keys live in the session keyring alone and end with the login
//! session (or `keyctl session -`) that owns it.

use std::sync::Arc;

use keyring_core::api::{CredentialPersistence, CredentialStoreApi};
use keyring_core::{Entry, Error, Result};
use linux_keyutils::{KeyRing, KeyRingIdentifier};
use linux_keyutils_keyring_store::Cred;

/// Entries in the calling process's session keyring, named as
/// `linux-keyutils-keyring-store` names them (`keyring:{user}@{service}`).
#[derive(Debug)]
pub(super) struct SessionKeyring {
    session: KeyRing,
}

impl SessionKeyring {
    /// The session keyring this process belongs to. Without one of its own
    /// the kernel answers with the user-session keyring, which also ends
    /// when the user's last process does.
    pub(super) fn new() -> Result<Arc<Self>> {
        let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
            .map_err(|e| Error::NoStorageAccess(Box::new(e)))?;
        Ok(Arc::new(Self { session }))
    }
}

/// The key's description, as the keyutils store writes it.
pub(super) fn description(service: &str, user: &str) -> String {
    format!("keyring:{user}@{service}")
}

impl CredentialStoreApi for SessionKeyring {
    fn vendor(&self) -> String {
        "Linux keyutils, session keyring only (linux-keyutils-keyring-store credentials)".into()
    }

    fn id(&self) -> String {
        format!("session keyring {:?}", self.session)
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&std::collections::HashMap<&str, &str>>,
    ) -> Result<Entry> {
        if modifiers.is_some_and(|m| !m.is_empty()) {
            return Err(Error::NotSupportedByStore(
                "the session keyring store takes no modifiers".into(),
            ));
        }
        let cred = Cred {
            session: self.session,
            // The whole point: never the persistent keyring.
            persistent: None,
            description: description(service, user),
            specifiers: Some((service.to_owned(), user.to_owned())),
        };
        Ok(Entry::new_with_credential(Arc::new(cred)))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::UntilLogout
    }
}
