//! The desktop's Secret Service, in its `session` collection, as a
//! keyring-core store.
//!
//! GNOME Keyring keeps one collection in memory only, under the alias
//! `session`: cleared when the desktop session ends and never written to
//! disk, unlike the default (login) collection, which is saved encrypted
//! and unlocked again at the next login. A technician's sign-in belongs in
//! the first. `dbus-secret-service-keyring-store` writes to the default
//! collection or to one it finds by *label* (creating it, on disk, when
//! none matches), and the session collection has an empty label, so it
//! cannot address it; this store does, through the same maintained client
//! crate (`dbus-secret-service`), by alias. A Secret Service without a
//! session collection (KWallet, KeePassXC) is not used at all:
//! [`SessionCollection::open`] fails and the kernel keyring is chosen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use dbus_secret_service::{Collection, EncryptionType, Item, SecretService};
use keyring_core::api::{Credential, CredentialApi, CredentialPersistence, CredentialStoreApi};
use keyring_core::{Entry, Error, Result};

/// The alias GNOME Keyring (and libsecret's `SECRET_COLLECTION_SESSION`)
/// gives the collection that lasts as long as the login session.
const SESSION_ALIAS: &str = "session";

/// One connection to the session bus's Secret Service, shared by every
/// entry (its calls are blocking and not reentrant, hence the lock).
pub(super) struct SessionCollection {
    service: Arc<Mutex<SecretService>>,
}

impl std::fmt::Debug for SessionCollection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCollection").finish_non_exhaustive()
    }
}

impl SessionCollection {
    /// The session collection of the desktop session's Secret Service, or
    /// why there is none. Only a session that already has a bus address is
    /// asked: without one, libdbus would try to launch a bus of its own.
    /// Prompts are refused (timeout 0): the session collection never needs
    /// one, and a sign-in must not wait on a dialog.
    pub(super) fn open() -> std::result::Result<Arc<Self>, String> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return Err("no desktop session bus (DBUS_SESSION_BUS_ADDRESS is not set)".into());
        }
        let service = SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, 0)
            .map_err(|e| format!("no Secret Service on the session bus: {e}"))?;
        let collection = service
            .get_collection_by_alias(SESSION_ALIAS)
            .map_err(|e| format!("the Secret Service has no session collection: {e}"))?;
        if collection.is_locked().map_err(|e| e.to_string())? {
            return Err("the Secret Service's session collection is locked".into());
        }
        Ok(Arc::new(Self {
            service: Arc::new(Mutex::new(service)),
        }))
    }
}

impl CredentialStoreApi for SessionCollection {
    fn vendor(&self) -> String {
        "Secret Service session collection (dbus-secret-service)".into()
    }

    fn id(&self) -> String {
        "session".into()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> Result<Entry> {
        if modifiers.is_some_and(|m| !m.is_empty()) {
            return Err(Error::NotSupportedByStore(
                "the session collection store takes no modifiers".into(),
            ));
        }
        Ok(Entry::new_with_credential(Arc::new(SessionItem {
            service: self.service.clone(),
            name: service.to_owned(),
            user: user.to_owned(),
        })))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::UntilLogout
    }
}

/// An item of the session collection, found by the attributes the keyring
/// stores use (`service`, `username`), so `secret-tool lookup` finds it too.
struct SessionItem {
    service: Arc<Mutex<SecretService>>,
    name: String,
    user: String,
}

impl std::fmt::Debug for SessionItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionItem")
            .field("service", &self.name)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn platform(e: dbus_secret_service::Error) -> Error {
    match e {
        dbus_secret_service::Error::Locked | dbus_secret_service::Error::Prompt => {
            Error::NoStorageAccess(Box::new(e))
        }
        other => Error::PlatformFailure(Box::new(other)),
    }
}

impl SessionItem {
    fn connection(&self) -> MutexGuard<'_, SecretService> {
        // Each call is one D-Bus round trip; a panic in one leaves nothing
        // half-written on this side.
        self.service.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn attributes(&self) -> HashMap<&str, &str> {
        HashMap::from([
            ("service", self.name.as_str()),
            ("username", self.user.as_str()),
        ])
    }

    /// The session collection, looked up again on each call: the service may
    /// have restarted since the store was opened.
    fn collection<'a>(&self, service: &'a SecretService) -> Result<Collection<'a>> {
        service.get_collection_by_alias(SESSION_ALIAS).map_err(|e| {
            Error::NoStorageAccess(format!("the session collection is gone: {e}").into())
        })
    }

    /// `then` given this entry's items in the session collection (none,
    /// one, or more should another client have written the same attributes).
    fn with_items<T>(&self, then: impl FnOnce(&[Item<'_>]) -> Result<T>) -> Result<T> {
        let service = self.connection();
        let collection = self.collection(&service)?;
        let items = collection
            .search_items(self.attributes())
            .map_err(platform)?;
        then(&items)
    }
}

impl CredentialApi for SessionItem {
    fn set_secret(&self, secret: &[u8]) -> Result<()> {
        let service = self.connection();
        let collection = self.collection(&service)?;
        let label = format!("ZPair sign-in: {}@{}", self.user, self.name);
        collection
            .create_item(&label, self.attributes(), secret, true, "text/plain")
            .map_err(platform)?;
        Ok(())
    }

    fn get_secret(&self) -> Result<Vec<u8>> {
        self.with_items(|items| match items {
            [] => Err(Error::NoEntry),
            [item] => item.get_secret().map_err(platform),
            _ => Err(Error::Invalid(
                "item".into(),
                "more than one session item has this service and user".into(),
            )),
        })
    }

    fn delete_credential(&self) -> Result<()> {
        self.with_items(|items| {
            if items.is_empty() {
                return Err(Error::NoEntry);
            }
            for item in items {
                item.delete().map_err(platform)?;
            }
            Ok(())
        })
    }

    fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
        self.with_items(|items| {
            if items.is_empty() {
                Err(Error::NoEntry)
            } else {
                Ok(None)
            }
        })
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        Some((self.name.clone(), self.user.clone()))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
