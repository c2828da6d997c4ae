//! The pairings of this run: a typed device ID and code checked, or a
//! scanned monitor taken; each sent and followed by [`crate::pairing::pair`]
//! in a background task, every step kept in the [`PairingBook`], announced
//! to a [`Notifier`] and ended with a line in the [`History`].

mod book;
mod run;

pub use book::{BookError, Pairing, PairingBook, Stage, Step};

use std::sync::Arc;

use crate::error::{ErrorCode, UserFacing, UserFacingError};
use crate::history::{History, HistoryAction, HistoryOutcome};
use crate::pairing::PairTarget;
use crate::qr::QrError;
use crate::session::TechnicianSession;
use crate::{PairingCode, PairingCodeError};

/// Where the app's announcements go: the app emits them to its UI.
pub trait Notifier: Send + Sync {
    /// A pairing changed.
    fn pairing_changed(&self, pairing: &Pairing);
    /// The station refused to refresh the session: sign in again.
    fn session_expired(&self);
}

/// The `{code, message}` of a refusal; a session the station refused to
/// refresh is also announced, so the UI shows sign-in over whatever screen
/// met it.
pub fn refusal(notifier: &dyn Notifier, error: &impl UserFacing) -> UserFacingError {
    if error.code() == ErrorCode::SessionExpired {
        notifier.session_expired();
    }
    error.user_facing()
}

/// Why the typed device ID or code was refused before anything was sent.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not a device ID.
    #[error(
        "'{device_id}' is not a device ID ({reason}). Type the device ID shown on the monitor's screen."
    )]
    DeviceId {
        /// What was typed.
        device_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not a pairing code.
    #[error(transparent)]
    Code(#[from] PairingCodeError),
}

impl UserFacing for InputError {
    fn code(&self) -> ErrorCode {
        match self {
            InputError::DeviceId { .. } => ErrorCode::InvalidDeviceId,
            InputError::Code(e) => e.code(),
        }
    }
}

/// The monitor to pair, from what the technician typed.
pub fn typed_target(device_id: &str, code: &str) -> Result<PairTarget, InputError> {
    let device_id = device_id.trim();
    crate::qr::check_device_id(device_id).map_err(|e| InputError::DeviceId {
        device_id: device_id.to_owned(),
        reason: match e {
            QrError::InvalidField { reason, .. } => reason,
            other => other.to_string(),
        },
    })?;
    Ok(PairTarget::Typed {
        device_id: device_id.to_owned(),
        code: PairingCode::parse(code)?,
    })
}

/// Starts pairings and keeps their record: the book, the history and where
/// updates are announced.
#[derive(Clone)]
pub struct Pairings {
    book: Arc<PairingBook>,
    history: Arc<History>,
    notifier: Arc<dyn Notifier>,
}

impl std::fmt::Debug for Pairings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairings")
            .field("book", &self.book)
            .finish_non_exhaustive()
    }
}

impl Pairings {
    /// Pairings recorded in `history` and announced to `notifier`.
    pub fn new(history: Arc<History>, notifier: Arc<dyn Notifier>) -> Self {
        Self {
            book: Arc::new(PairingBook::default()),
            history,
            notifier,
        }
    }

    /// The pairings of this run.
    pub fn book(&self) -> &PairingBook {
        &self.book
    }

    /// The technician's log, which pairings end with a line in.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Records a new pairing and runs it in the background; returns it in
    /// SUBMITTING at once.
    pub fn start(
        &self,
        session: Arc<TechnicianSession>,
        target: PairTarget,
    ) -> Result<Pairing, BookError> {
        let pairing = self.book.begin(target.clone())?;
        self.launch(&pairing, session, target);
        Ok(pairing)
    }

    /// Runs a failed pairing again with the same device ID and code.
    pub fn retry(
        &self,
        session: Arc<TechnicianSession>,
        pairing_id: &str,
    ) -> Result<Pairing, BookError> {
        let (pairing, target) = self.book.restart(pairing_id)?;
        self.launch(&pairing, session, target);
        Ok(pairing)
    }

    fn launch(&self, pairing: &Pairing, session: Arc<TechnicianSession>, target: PairTarget) {
        tracing::info!(pairing_id = %pairing.pairing_id, device_id = %pairing.device_id, "pairing started");
        self.history.record_or_warn(
            &pairing.device_id,
            HistoryAction::Paired,
            HistoryOutcome::Started,
            None,
        );
        tokio::spawn(run::follow(
            self.clone(),
            pairing.pairing_id.clone(),
            session,
            target,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_input_is_checked_before_anything_is_sent() {
        let target = typed_target(" ZM-1 ", "k7pm3xq9r").expect("valid");
        assert_eq!(target.device_id(), "ZM-1");
        assert!(
            !format!("{target:?}").contains("K7P"),
            "the code never shows"
        );

        let error = typed_target("", "K7P-M3X-Q9R").expect_err("no device ID");
        assert_eq!(error.code(), ErrorCode::InvalidDeviceId);
        let error = typed_target("ZM-1", "K7P-M3X-Q9").expect_err("short code");
        assert_eq!(error.code(), ErrorCode::InvalidCode);
        let error = typed_target("ZM-1", "K7P-M3X-Q90").expect_err("0 is never in a code");
        assert_eq!(error.code(), ErrorCode::InvalidCode);
    }
}
