//! The contract's two events, named like URIs and emitted from one place.
//!
//! State and the pairing workflow talk to a [`Notifier`], not to a Tauri
//! handle, so they need no runtime type parameter; the app's handle is the
//! notifier.

use tauri::{AppHandle, Emitter, Runtime};
use zpair_core::error::ErrorCode;
use zpair_proto::user_facing::UserFacing;

use crate::ipc::{AppError, Pairing};

/// Every update of a pairing, with the whole pairing.
pub const PAIRING_STATUS: &str = "pairing://status";
/// The session ended and could not be refreshed; payload `null`.
pub const SESSION_EXPIRED: &str = "session://expired";

/// Where the app's events go.
pub trait Notifier: Send + Sync {
    /// A pairing changed.
    fn pairing_status(&self, pairing: &Pairing);
    /// The station refused to refresh the session: the UI shows sign-in.
    fn session_expired(&self);
}

impl<R: Runtime> Notifier for AppHandle<R> {
    fn pairing_status(&self, pairing: &Pairing) {
        if let Err(e) = self.emit(PAIRING_STATUS, pairing) {
            tracing::warn!(error = %e, pairing_id = %pairing.pairing_id, "pairing status not delivered");
        }
    }

    fn session_expired(&self) {
        if let Err(e) = self.emit(SESSION_EXPIRED, ()) {
            tracing::warn!(error = %e, "session expiry not delivered");
        }
    }
}

/// The rejection for `error`; a session the station refused to refresh is
/// also announced, so the UI shows sign-in over whatever screen asked.
pub fn reject<E: UserFacing>(notifier: &dyn Notifier, error: E) -> AppError {
    if error.code() == ErrorCode::SessionExpired {
        notifier.session_expired();
    }
    AppError::from(error)
}
