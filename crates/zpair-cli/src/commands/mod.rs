//! One module per group of subcommands; shared set-up here.

pub mod account;
pub mod audit;
pub mod devices;
pub mod pair;
mod pair_inputs;
pub mod registry;
pub mod reprovision;
pub mod setup;
pub mod users;

use std::sync::Arc;

use zpair_core::client::StationClient;
use zpair_core::secret_store::KeyringSecretStore;
use zpair_core::session::{SessionError, TechnicianSession};

use crate::config;
use crate::failure::Failure;

/// The service name session tokens are kept under in the system keyring.
pub const KEYRING_SERVICE: &str = "zpair-cli";

/// A session for the configured station, not yet restored.
pub fn session() -> Result<TechnicianSession, Failure> {
    let config = config::load()?;
    let client = StationClient::new(config.station)?;
    let store = KeyringSecretStore::new(KEYRING_SERVICE)?;
    Ok(TechnicianSession::new(client, Arc::new(store)))
}

/// The stored session, or `not_signed_in`.
pub async fn signed_in() -> Result<TechnicianSession, Failure> {
    let session = session()?;
    match session.restore().await? {
        Some(_) => Ok(session),
        None => Err(SessionError::NotSignedIn.into()),
    }
}
