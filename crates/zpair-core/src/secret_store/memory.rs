//! A [`SecretStore`] in process memory: for tests, and for callers that must
//! not touch the user's keyring.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::{SecretStore, SecretStoreError};
use crate::secret::Secret;

/// Secrets kept in memory for the life of the value.
#[derive(Debug, Default)]
pub struct MemorySecretStore {
    entries: Mutex<HashMap<String, Secret<String>>>,
}

impl MemorySecretStore {
    fn entries(&self) -> MutexGuard<'_, HashMap<String, Secret<String>>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (each operation is one map call), so the data is still good.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, key: &str) -> Result<Option<Secret<String>>, SecretStoreError> {
        Ok(self.entries().get(key).cloned())
    }

    fn set(&self, key: &str, value: &Secret<String>) -> Result<(), SecretStoreError> {
        self.entries().insert(key.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.entries().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_replace_and_delete() {
        let store = MemorySecretStore::default();
        assert!(store.get("a").expect("get").is_none());
        store.set("a", &Secret::new("one".into())).expect("set");
        store.set("b", &Secret::new("two".into())).expect("set");
        store
            .set("a", &Secret::new("three".into()))
            .expect("replace");
        assert_eq!(
            store.get("a").expect("get").expect("present").expose(),
            "three"
        );
        assert_eq!(
            store.get("b").expect("get").expect("present").expose(),
            "two"
        );
        store.delete("a").expect("delete");
        store.delete("a").expect("deleting twice is fine");
        assert!(store.get("a").expect("get").is_none());
        assert!(store.get("b").expect("get").is_some());
        assert!(!format!("{store:?}").contains("two"));
    }
}
