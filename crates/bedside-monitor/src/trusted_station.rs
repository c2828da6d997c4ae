//! Settings that belong to the monitor rather than to one configuration, and
//! so survive re-provisioning: today, the Central Station key it trusts
//! configurations and commands from (set at registration with
//! `bedside-monitor trust-station`).

use serde::{Deserialize, Serialize};
use zpair_proto::crypto::{self, VerifyingKey};

use crate::paths::DataDir;
use crate::storage::{self, PRIVATE_FILE, StorageError};

/// Why the settings could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Reading or writing `settings.json` failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The text given is not an Ed25519 public key in base64url.
    #[error(
        "that is not a Central Station key: expected 43 base64url characters, as `central-station station-key` prints"
    )]
    BadStationKey,
}

/// The contents of `settings.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The Central Station's provisioning key, base64url.
    #[serde(default)]
    pub trusted_station_key: Option<String>,
}

impl Settings {
    /// Reads the settings; defaults when there are none yet.
    pub fn load(dir: &DataDir) -> Result<Self, SettingsError> {
        Ok(storage::read_json(&dir.settings())?.unwrap_or_default())
    }

    /// Writes the settings atomically.
    pub fn save(&self, dir: &DataDir) -> Result<(), SettingsError> {
        storage::ensure_data_dir(dir.root())?;
        Ok(storage::write_json(&dir.settings(), self, PRIVATE_FILE)?)
    }

    /// The trusted station key, parsed; `None` when none is set or it is damaged.
    pub fn station_key(&self) -> Option<VerifyingKey> {
        self.trusted_station_key
            .as_deref()
            .and_then(|k| crypto::parse_public_key(k).ok())
    }
}

/// Makes the monitor trust `key_text` from now on, keeping its other settings.
pub fn trust_station(dir: &DataDir, key_text: &str) -> Result<VerifyingKey, SettingsError> {
    let key =
        crypto::parse_public_key(key_text.trim()).map_err(|_| SettingsError::BadStationKey)?;
    let mut settings = Settings::load(dir)?;
    settings.trusted_station_key = Some(crypto::public_key_text(&key));
    settings.save(dir)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_key_is_persisted_and_garbage_is_refused() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        let key = crypto::generate_signing_key().expect("key").verifying_key();
        let text = crypto::public_key_text(&key);
        assert!(matches!(
            trust_station(&dir, "not-a-key"),
            Err(SettingsError::BadStationKey)
        ));
        assert_eq!(Settings::load(&dir).expect("load").station_key(), None);
        trust_station(&dir, &format!(" {text}\n")).expect("trust");
        assert_eq!(Settings::load(&dir).expect("load").station_key(), Some(key));
    }
}
