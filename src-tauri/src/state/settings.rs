//! The station setup, kept between runs in `settings.json` (tauri-plugin-store)
//! in the app's data folder. Nothing secret is in it: the station's address,
//! its trust anchor (a CA certificate or a fingerprint, both public) and what
//! the technician was shown of it. Tokens live in the keyring, never here.

use serde::{Deserialize, Serialize};
use tauri::Runtime;
use zpair_core::client::{StationTrust, TrustAnchor};
use zpair_core::error::ErrorCode;
use zpair_proto::user_facing::UserFacing;

use crate::ipc::{SetupState, TrustInfo, TrustKind};

/// The store file's name in the app's data folder.
pub const FILE_NAME: &str = "settings.json";
/// The store key the setup is saved under.
const STATION_KEY: &str = "station";

/// A station the technician chose to trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StationSetup {
    /// The address (normalised by the client) and the anchor.
    pub trust: StationTrust,
    /// SHA-256 hex of the anchor certificate: the CA's, or the station's own.
    pub fingerprint: String,
    /// Subject of that certificate.
    pub subject: String,
}

impl StationSetup {
    /// What the setup screens show.
    pub fn setup_state(&self) -> SetupState {
        let kind = match self.trust.anchor {
            TrustAnchor::CaPem(_) => TrustKind::Ca,
            TrustAnchor::Fingerprint(_) => TrustKind::Fingerprint,
        };
        SetupState {
            suggested_station_url: None,
            sign_in_kept_in: None,
            station_url: Some(self.trust.url.clone()),
            trust: Some(TrustInfo {
                kind,
                fingerprint: self.fingerprint.clone(),
                subject: self.subject.clone(),
            }),
        }
    }
}

/// Why the setup could not be saved.
#[derive(Debug, thiserror::Error)]
#[error(
    "The station settings could not be saved ({reason}). Check the disk has space, then set up the station again."
)]
pub struct SettingsError {
    reason: String,
}

impl UserFacing for SettingsError {
    fn code(&self) -> ErrorCode {
        ErrorCode::SettingsUnavailable
    }
}

/// Where the setup is kept: tauri-plugin-store in the app, the same store in
/// tests (through the mock runtime).
pub trait SettingsStore: Send + Sync {
    /// The saved setup; an unreadable one counts as none (with a warning),
    /// so the technician can set the station up again.
    fn load_setup(&self) -> Option<StationSetup>;
    /// Saves `setup` to disk before returning.
    fn save_setup(&self, setup: &StationSetup) -> Result<(), SettingsError>;
}

impl<R: Runtime> SettingsStore for tauri_plugin_store::Store<R> {
    fn load_setup(&self) -> Option<StationSetup> {
        let value = self.get(STATION_KEY)?;
        match serde_json::from_value(value) {
            Ok(setup) => Some(setup),
            Err(e) => {
                tracing::warn!(error = %e, "saved station setup unreadable; set it up again");
                None
            }
        }
    }

    fn save_setup(&self, setup: &StationSetup) -> Result<(), SettingsError> {
        let value = serde_json::to_value(setup).map_err(|e| SettingsError {
            reason: e.to_string(),
        })?;
        self.set(STATION_KEY, value);
        self.save().map_err(|e| SettingsError {
            reason: e.to_string(),
        })
    }
}
