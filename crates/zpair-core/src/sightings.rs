//! The monitors found by scanning and not yet paired, and the QR codes
//! already sent for pairing: the rules the Scan screen follows, whichever
//! camera the frames come from. Each QR is one found monitor however many
//! frames show it, is sent at most once, and a dismissed one is ignored
//! while it stays in view; a newer QR of the same monitor replaces an older.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use zpair_proto::qr::PAIRING_TOKEN_BYTES;

use crate::error::{ErrorCode, UserFacing};
use crate::qr::{self, QrError, ScannedMonitor};

type Token = [u8; PAIRING_TOKEN_BYTES];

/// Why a found monitor could not be paired.
#[derive(Debug, thiserror::Error)]
pub enum ScanDeskError {
    /// The scan ID is not (or no longer) one of the found monitors.
    #[error("This monitor is no longer in the found list. Point the camera at its QR code again.")]
    Unknown,
    /// Its QR was already sent for pairing.
    #[error(
        "Monitor {device_id}'s QR code was already sent for pairing. Follow that pairing in the list; to pair again, scan the new QR code the monitor shows."
    )]
    AlreadySent {
        /// The monitor.
        device_id: String,
    },
    /// The code expired while the technician looked at it.
    #[error(transparent)]
    Expired(#[from] QrError),
}

impl UserFacing for ScanDeskError {
    fn code(&self) -> ErrorCode {
        match self {
            ScanDeskError::Unknown => ErrorCode::ScanUnknown,
            ScanDeskError::AlreadySent { .. } => ErrorCode::QrAlreadySent,
            ScanDeskError::Expired(e) => e.code(),
        }
    }
}

/// What one QR read means for the technician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A QR dismissed earlier, still in view: nothing to show.
    Nothing,
    /// A monitor to pair, under its scan ID.
    Found {
        scan_id: String,
        monitor: ScannedMonitor,
    },
    /// A QR whose pairing request has already gone.
    Sent { device_id: String },
    /// A monitor whose pairing is running: not offered again until it ends.
    Running { device_id: String },
    /// Not a usable Z Monitor QR, and why.
    Refused(QrError),
}

/// Found monitors by scan ID, and the tokens already sent.
#[derive(Debug, Default)]
pub struct Sightings {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Scan IDs handed out so far.
    issued: u64,
    found: HashMap<String, ScannedMonitor>,
    /// Token → (device ID, when the token stops working): remembered until
    /// then, since an expired QR is refused anyway.
    sent: HashMap<Token, (String, OffsetDateTime)>,
    /// QRs the technician said are not the monitor to pair (token → expiry):
    /// ignored while they stay in view.
    dismissed: HashMap<Token, OffsetDateTime>,
}

impl Sightings {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Plain maps, consistent between statements: a panic elsewhere
        // while locked leaves nothing half-done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the technician should see for a QR reading `text` at `now`. The
    /// same QR in many frames is one found monitor (one scan ID).
    pub fn consider(
        &self,
        text: &str,
        now: OffsetDateTime,
        pairing_running: impl Fn(&str) -> bool,
    ) -> Seen {
        let monitor = match qr::validate(text, now) {
            Ok(monitor) => monitor,
            Err(e) => return Seen::Refused(e),
        };
        let mut inner = self.lock();
        inner.forget_expired(now);
        let token = *monitor.token.expose();
        if let Some((device_id, _)) = inner.sent.get(&token) {
            return Seen::Sent {
                device_id: device_id.clone(),
            };
        }
        if inner.dismissed.contains_key(&token) {
            return Seen::Nothing;
        }
        if pairing_running(&monitor.device_id) {
            return Seen::Running {
                device_id: monitor.device_id,
            };
        }
        if let Some((scan_id, known)) = inner
            .found
            .iter()
            .find(|(_, known)| known.token.expose() == &token)
        {
            return Seen::Found {
                scan_id: scan_id.clone(),
                monitor: known.clone(),
            };
        }
        // A newer QR of the same monitor replaces the one found before.
        inner
            .found
            .retain(|_, known| known.device_id != monitor.device_id);
        inner.issued += 1;
        let scan_id = format!("scan-{}", inner.issued);
        inner.found.insert(scan_id.clone(), monitor.clone());
        Seen::Found { scan_id, monitor }
    }

    /// Takes a found monitor to pair it, and marks its QR as sent so no
    /// later frame or tap sends it again.
    pub fn take(
        &self,
        scan_id: &str,
        now: OffsetDateTime,
    ) -> Result<ScannedMonitor, ScanDeskError> {
        let mut inner = self.lock();
        let Some(monitor) = inner.found.remove(scan_id) else {
            return Err(ScanDeskError::Unknown);
        };
        let token = *monitor.token.expose();
        if let Some((device_id, _)) = inner.sent.get(&token) {
            return Err(ScanDeskError::AlreadySent {
                device_id: device_id.clone(),
            });
        }
        if monitor.is_expired(now) {
            return Err(QrError::Expired {
                expired_at: monitor.expires_at,
            }
            .into());
        }
        inner
            .sent
            .insert(token, (monitor.device_id.clone(), monitor.expires_at));
        Ok(monitor)
    }

    /// Drops a found monitor the technician dismissed; its QR is ignored
    /// from now on (a newer QR of the same monitor is found again).
    pub fn dismiss(&self, scan_id: &str) {
        let mut inner = self.lock();
        if let Some(monitor) = inner.found.remove(scan_id) {
            inner
                .dismissed
                .insert(*monitor.token.expose(), monitor.expires_at);
        }
    }
}

impl Inner {
    fn forget_expired(&mut self, now: OffsetDateTime) {
        self.found.retain(|_, monitor| !monitor.is_expired(now));
        self.sent
            .retain(|_, (_, expires_at)| now <= *expires_at + qr::CLOCK_SKEW);
        self.dismissed
            .retain(|_, expires_at| now <= *expires_at + qr::CLOCK_SKEW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-01 10:00:00 UTC);

    fn qr_text(device_id: &str, token: &str, expires_at: OffsetDateTime) -> String {
        serde_json::json!({
            "deviceId": device_id,
            "deviceSerial": "SN-1",
            "ipAddress": "127.0.0.2",
            "pairingCode": "K7P-M3X-Q9R",
            "pairingToken": token,
            "expiresAt": zpair_proto::timestamp::format(expires_at),
            "firmwareVersion": "3.2.1",
        })
        .to_string()
    }

    const TOKEN_A: &str = "AAAAAAAAAAAAAAAAAAAAAA";
    const TOKEN_B: &str = "BBBBBBBBBBBBBBBBBBBBBA";

    fn idle(_: &str) -> bool {
        false
    }

    fn scan_id(seen: &Seen) -> String {
        match seen {
            Seen::Found { scan_id, .. } => scan_id.clone(),
            other => panic!("expected a found monitor, got {other:?}"),
        }
    }

    #[test]
    fn the_same_qr_in_many_frames_is_one_found_monitor() {
        let sightings = Sightings::default();
        let text = qr_text("ZM-1", TOKEN_A, NOW + Duration::minutes(5));
        let first = scan_id(&sightings.consider(&text, NOW, idle));
        let again = scan_id(&sightings.consider(&text, NOW + Duration::seconds(1), idle));
        assert_eq!(first, again);
    }

    #[test]
    fn a_qr_is_sent_once_and_then_reported_as_sent() {
        let sightings = Sightings::default();
        let text = qr_text("ZM-1", TOKEN_A, NOW + Duration::minutes(5));
        let id = scan_id(&sightings.consider(&text, NOW, idle));
        let monitor = sightings.take(&id, NOW).expect("first take");
        assert_eq!(monitor.device_id, "ZM-1");
        assert!(matches!(
            sightings.take(&id, NOW),
            Err(ScanDeskError::Unknown)
        ));
        assert_eq!(
            sightings.consider(&text, NOW, idle),
            Seen::Sent {
                device_id: "ZM-1".into()
            }
        );
    }

    #[test]
    fn a_dismissed_qr_is_ignored_while_in_view_and_a_newer_one_found_again() {
        let sightings = Sightings::default();
        let expires = NOW + Duration::minutes(5);
        let old = qr_text("ZM-1", TOKEN_A, expires);
        sightings.dismiss(&scan_id(&sightings.consider(&old, NOW, idle)));
        assert_eq!(sightings.consider(&old, NOW, idle), Seen::Nothing);
        let newer = qr_text("ZM-1", TOKEN_B, expires);
        scan_id(&sightings.consider(&newer, NOW, idle));
    }

    #[test]
    fn a_newer_qr_of_the_same_monitor_replaces_the_older() {
        let sightings = Sightings::default();
        let expires = NOW + Duration::minutes(5);
        let old = scan_id(&sightings.consider(&qr_text("ZM-1", TOKEN_A, expires), NOW, idle));
        let new = scan_id(&sightings.consider(&qr_text("ZM-1", TOKEN_B, expires), NOW, idle));
        assert_ne!(old, new);
        assert!(matches!(
            sightings.take(&old, NOW),
            Err(ScanDeskError::Unknown)
        ));
        assert!(sightings.take(&new, NOW).is_ok());
    }

    #[test]
    fn expired_and_foreign_qrs_are_refused_with_their_code_and_one_pairing_runs_alone() {
        let sightings = Sightings::default();
        let expired = qr_text("ZM-1", TOKEN_A, NOW - Duration::minutes(5));
        let refused = |s: Seen| match s {
            Seen::Refused(e) => e.code().to_owned(),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            refused(sightings.consider(&expired, NOW, idle)),
            ErrorCode::QrExpired
        );
        assert_eq!(
            refused(sightings.consider("https://example.org/asset/17", NOW, idle)),
            ErrorCode::QrNotJson
        );
        let fresh = qr_text("ZM-2", TOKEN_B, NOW + Duration::minutes(5));
        assert_eq!(
            sightings.consider(&fresh, NOW, |id| id == "ZM-2"),
            Seen::Running {
                device_id: "ZM-2".into()
            }
        );
    }

    #[test]
    fn a_code_that_expires_before_the_tap_is_refused() {
        let sightings = Sightings::default();
        let expires = NOW + Duration::seconds(10);
        let id = scan_id(&sightings.consider(&qr_text("ZM-1", TOKEN_A, expires), NOW, idle));
        let later = expires + qr::CLOCK_SKEW + Duration::seconds(1);
        let error = sightings.take(&id, later).expect_err("expired");
        assert_eq!(error.code(), ErrorCode::QrExpired);
    }
}
