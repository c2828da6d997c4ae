//! The contract's two events, named like URIs and emitted from one place.
//!
//! State and zpair-core's pairings talk to a [`Notifier`], not to a Tauri
//! handle, so they need no runtime type parameter; the app's handle is the
//! notifier, and converts what it announces to the IPC types here.

use tauri::{AppHandle, Emitter, Runtime};
pub use zpair_core::pairings::Notifier;
use zpair_core::pairings::Pairing;
use zpair_proto::user_facing::UserFacing;

use crate::ipc::{self, AppError};

/// Every update of a pairing, with the whole pairing.
pub const PAIRING_STATUS: &str = "pairing://status";
/// The session ended and could not be refreshed; payload `null`.
pub const SESSION_EXPIRED: &str = "session://expired";

/// The app's windows, as the domain's [`Notifier`].
#[derive(Debug)]
pub struct WindowEvents<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> Notifier for WindowEvents<R> {
    fn pairing_changed(&self, pairing: &Pairing) {
        if let Err(e) = self
            .0
            .emit(PAIRING_STATUS, ipc::Pairing::from(pairing.clone()))
        {
            tracing::warn!(error = %e, pairing_id = %pairing.pairing_id, "pairing status not delivered");
        }
    }

    fn session_expired(&self) {
        if let Err(e) = self.0.emit(SESSION_EXPIRED, ()) {
            tracing::warn!(error = %e, "session expiry not delivered");
        }
    }
}

/// The rejection for `error`; a session the station refused to refresh is
/// also announced, so the UI shows sign-in over whatever screen asked.
pub fn reject<E: UserFacing>(notifier: &dyn Notifier, error: E) -> AppError {
    AppError::from_user_facing(zpair_core::pairings::refusal(notifier, &error))
}
