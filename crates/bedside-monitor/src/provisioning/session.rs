//! One stay in provisioning mode: its pairing code, the QR tokens issued for
//! it (a fresh one every refresh, all remembered until the code expires), its
//! expiry and its count of wrong attempts. And what is remembered of the
//! session before it, to tell a stale QR from an expired one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;
use zpair_proto::device::MonitorState;
use zpair_proto::qr::PAIRING_TOKEN_BYTES;
use zpair_proto::{PairingCode, b64, crypto};

/// A QR token.
pub type Token = [u8; PAIRING_TOKEN_BYTES];

/// Tokens kept per code at most: 10 minutes of 30-second refreshes is 20; the
/// bound only stops a stuck "regenerate" button from growing the file forever.
const MAX_TOKENS: usize = 256;

/// Why a session could not be made or read back.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The operating system's random number generator failed.
    #[error("no randomness available for a pairing code or token")]
    Random,
    /// The stored session is not one this monitor wrote.
    #[error("the stored pairing session is damaged")]
    Damaged,
}

/// The outcome of a wrong pairing proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Wrong, but the technician may try again.
    Refused,
    /// Wrong for the last allowed time: provisioning mode closes.
    Closed,
}

/// The session in force while the monitor is in provisioning mode.
#[derive(Clone)]
pub struct PairingSession {
    code: PairingCode,
    tokens: Vec<Zeroizing<Token>>,
    expires_at: OffsetDateTime,
    token_issued_at: OffsetDateTime,
    failed_attempts: u32,
    entered_from: MonitorState,
}

impl std::fmt::Debug for PairingSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingSession")
            .field("tokens", &self.tokens.len())
            .field("expires_at", &self.expires_at)
            .field("failed_attempts", &self.failed_attempts)
            .field("entered_from", &self.entered_from)
            .finish_non_exhaustive()
    }
}

impl PairingSession {
    /// A fresh code and first token, valid for `lifetime` from `now`. The
    /// expiry is cut to the whole second so the QR's `expiresAt` is exactly
    /// the moment the monitor stops accepting the code.
    pub fn new(
        lifetime: std::time::Duration,
        entered_from: MonitorState,
        now: OffsetDateTime,
    ) -> Result<Self, SessionError> {
        let code = PairingCode::generate().map_err(|_| SessionError::Random)?;
        let expires_at = whole_second(now + lifetime);
        let mut session = Self {
            code,
            tokens: Vec::new(),
            expires_at,
            token_issued_at: now,
            failed_attempts: 0,
            entered_from,
        };
        session.refresh_token(now)?;
        Ok(session)
    }

    /// Issues a new QR token for the same code; the older ones stay valid.
    pub fn refresh_token(&mut self, now: OffsetDateTime) -> Result<(), SessionError> {
        let token =
            crypto::random_bytes::<PAIRING_TOKEN_BYTES>().map_err(|_| SessionError::Random)?;
        if self.tokens.len() >= MAX_TOKENS {
            self.tokens.remove(0);
        }
        self.tokens.push(Zeroizing::new(token));
        self.token_issued_at = now;
        Ok(())
    }

    /// The pairing code.
    pub fn code(&self) -> &PairingCode {
        &self.code
    }

    /// The token the QR shows now.
    pub fn current_token(&self) -> Option<&Token> {
        self.tokens.last().map(|t| &**t)
    }

    /// The token whose [`crypto::token_id`] is `id`, among those issued for this code.
    pub fn find_token(&self, id: &str) -> Option<&Token> {
        self.tokens
            .iter()
            .map(|t| &**t)
            .find(|t| crypto::token_id(&t[..]) == id)
    }

    /// When the code stops working.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// When the current token was issued (the QR refresh counts from it).
    pub fn token_issued_at(&self) -> OffsetDateTime {
        self.token_issued_at
    }

    /// Whether the code has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// The state to return to when provisioning mode ends without a new configuration.
    pub fn entered_from(&self) -> MonitorState {
        self.entered_from
    }

    /// Wrong attempts so far.
    pub fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }

    /// Counts a wrong pairing proof; the `max`-th closes provisioning mode.
    pub fn record_failure(&mut self, max: u32) -> Attempt {
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        if self.failed_attempts >= max.max(1) {
            Attempt::Closed
        } else {
            Attempt::Refused
        }
    }

    /// What is kept of this session once it ends.
    pub fn into_past(self, ended: SessionEnd) -> PastSession {
        PastSession {
            token_ids: self
                .tokens
                .iter()
                .map(|t| crypto::token_id(&t[..]))
                .collect(),
            expires_at: self.expires_at,
            ended,
        }
    }

    /// The session as stored in `pairing.json` (a 0600 file).
    pub fn to_stored(&self) -> StoredSession {
        StoredSession {
            code: self.code.canonical().to_owned(),
            tokens: self.tokens.iter().map(|t| b64::encode(&t[..])).collect(),
            expires_at: self.expires_at,
            token_issued_at: self.token_issued_at,
            failed_attempts: self.failed_attempts,
            entered_from: self.entered_from,
        }
    }

    /// The session read back from `pairing.json`.
    pub fn from_stored(stored: &StoredSession) -> Result<Self, SessionError> {
        let code = PairingCode::parse(&stored.code).map_err(|_| SessionError::Damaged)?;
        let tokens = stored
            .tokens
            .iter()
            .map(|t| b64::decode_array::<PAIRING_TOKEN_BYTES>(t).map(Zeroizing::new))
            .collect::<Option<Vec<_>>>()
            .filter(|t| !t.is_empty())
            .ok_or(SessionError::Damaged)?;
        Ok(Self {
            code,
            tokens,
            expires_at: stored.expires_at,
            token_issued_at: stored.token_issued_at,
            failed_attempts: stored.failed_attempts,
            entered_from: stored.entered_from,
        })
    }
}

fn whole_second(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// Its code expired unused.
    Expired,
    /// Provisioning mode was cancelled on the monitor.
    Cancelled,
    /// Too many wrong attempts.
    Closed,
    /// A new session replaced it (the station's re-provision command).
    Replaced,
    /// It paired the monitor.
    Used,
    /// The station de-provisioned the monitor.
    Deprovisioned,
}

/// What is remembered of the session before the current one: which tokens it
/// issued (as one-way IDs only) and when its code expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PastSession {
    token_ids: Vec<String>,
    #[serde(with = "zpair_proto::timestamp")]
    expires_at: OffsetDateTime,
    ended: SessionEnd,
}

impl PastSession {
    /// Whether its code ran out (rather than being cancelled or used).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.ended == SessionEnd::Expired || now >= self.expires_at
    }

    /// Whether it issued the token named `id`.
    pub fn issued(&self, id: &str) -> bool {
        self.token_ids.iter().any(|t| t == id)
    }

    /// How it ended.
    pub fn ended(&self) -> SessionEnd {
        self.ended
    }
}

/// [`PairingSession`] on disk. Holds the code and tokens: only ever written
/// with mode 0600, never logged.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
    code: String,
    tokens: Vec<String>,
    #[serde(with = "zpair_proto::timestamp")]
    expires_at: OffsetDateTime,
    #[serde(with = "zpair_proto::timestamp")]
    token_issued_at: OffsetDateTime,
    failed_attempts: u32,
    entered_from: MonitorState,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredSession {
    /// The state the stored session was entered from.
    pub fn entered_from(&self) -> MonitorState {
        self.entered_from
    }

    /// Whether its code is still valid at `now`.
    pub fn alive(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn a_code_expires_after_its_lifetime_on_a_whole_second() {
        let start = now();
        let session =
            PairingSession::new(Duration::from_secs(600), MonitorState::Unprovisioned, start)
                .expect("session");
        assert_eq!(session.expires_at().nanosecond(), 0);
        assert!(!session.is_expired(start));
        assert!(!session.is_expired(start + Duration::from_secs(598)));
        assert!(session.is_expired(start + Duration::from_secs(600)));
    }

    #[test]
    fn every_token_of_the_current_code_is_remembered_until_it_ends() {
        let start = now();
        let mut session =
            PairingSession::new(Duration::from_secs(600), MonitorState::Unprovisioned, start)
                .expect("session");
        let first = *session.current_token().expect("token");
        session.refresh_token(start).expect("refresh");
        session.refresh_token(start).expect("refresh");
        let third = *session.current_token().expect("token");
        assert_ne!(first, third);
        let first_id = crypto::token_id(&first);
        assert_eq!(session.find_token(&first_id), Some(&first));
        assert_eq!(session.find_token(&crypto::token_id(&third)), Some(&third));
        assert_eq!(session.find_token(&crypto::token_id(&[0u8; 16])), None);

        let past = session.into_past(SessionEnd::Cancelled);
        assert!(past.issued(&first_id));
        assert!(!past.expired(start), "cancelled, not expired");
        assert!(past.expired(start + Duration::from_secs(601)));
    }

    #[test]
    fn the_last_allowed_wrong_attempt_closes() {
        let mut session =
            PairingSession::new(Duration::from_secs(600), MonitorState::Unprovisioned, now())
                .expect("session");
        let attempts: Vec<_> = (0..5).map(|_| session.record_failure(5)).collect();
        assert_eq!(
            attempts,
            [
                Attempt::Refused,
                Attempt::Refused,
                Attempt::Refused,
                Attempt::Refused,
                Attempt::Closed
            ]
        );
    }

    #[test]
    fn a_stored_session_reads_back_with_its_code_tokens_and_attempts() {
        let start = now();
        let mut session =
            PairingSession::new(Duration::from_secs(600), MonitorState::Provisioned, start)
                .expect("session");
        session.refresh_token(start).expect("refresh");
        session.record_failure(5);
        let json = serde_json::to_string(&session.to_stored()).expect("json");
        let stored: StoredSession = serde_json::from_str(&json).expect("parse");
        let back = PairingSession::from_stored(&stored).expect("back");
        assert_eq!(back.code(), session.code());
        assert_eq!(back.current_token(), session.current_token());
        assert_eq!(back.failed_attempts(), 1);
        assert_eq!(back.entered_from(), MonitorState::Provisioned);
        assert_eq!(back.expires_at(), session.expires_at());
        assert!(!format!("{back:?} {stored:?}").contains(session.code().canonical()));
    }
}
