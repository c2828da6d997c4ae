//! Only the Central Station drives the monitor's API: every request carries
//! the station's signature (its provisioning key, which the monitor already
//! trusts for configurations and commands) over the method, the path, the
//! body, a timestamp and a nonce. A request that is unsigned, signed by
//! another key, stale or replayed is refused here, before it reaches the
//! exchange: it cannot disturb a pairing in progress or spend an attempt.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};
use zpair_proto::crypto;
use zpair_proto::device::StationSignature;

use super::core::Core;
use crate::exchange::ExchangeError;

/// A signed request older (or further in the future) than this is refused.
/// Short, because the station signs just before it sends.
pub(crate) const REQUEST_MAX_AGE: Duration = Duration::seconds(30);

/// One request as the monitor received it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReceivedRequest<'a> {
    /// `POST`.
    pub method: &'a str,
    /// `/provisioning/challenge`.
    pub path: &'a str,
    /// The whole body, as sent.
    pub body: &'a [u8],
}

/// The nonces of accepted requests still inside the window. Kept in memory:
/// a restart forgets them, so requests signed before the monitor started
/// are refused too (they may have been seen by the process before).
#[derive(Debug)]
pub(crate) struct ReplayGuard {
    started: OffsetDateTime,
    seen: HashMap<String, OffsetDateTime>,
}

impl ReplayGuard {
    /// A guard for a monitor started at `started`.
    pub(crate) fn new(started: OffsetDateTime) -> Self {
        Self {
            started,
            seen: HashMap::new(),
        }
    }

    /// Takes a verified signature's nonce once, when fresh.
    fn admit(
        &mut self,
        signed: &StationSignature,
        now: OffsetDateTime,
    ) -> Result<(), ExchangeError> {
        let age = now - signed.timestamp;
        if age > REQUEST_MAX_AGE || age < -REQUEST_MAX_AGE {
            return Err(ExchangeError::StationUnauthenticated(
                "The station's request is older than 30 seconds (or the clocks disagree): check both clocks.",
            ));
        }
        // Timestamps are whole seconds: one second of slack for the start.
        if signed.timestamp < self.started - Duration::SECOND {
            return Err(ExchangeError::StationUnauthenticated(
                "The station's request was signed before the monitor started: send it again.",
            ));
        }
        self.seen.retain(|_, at| now - *at <= REQUEST_MAX_AGE * 2);
        if self.seen.contains_key(&signed.nonce) {
            return Err(ExchangeError::StationUnauthenticated(
                "The station's request was already received once: send a new one.",
            ));
        }
        self.seen.insert(signed.nonce.clone(), signed.timestamp);
        Ok(())
    }
}

impl Core {
    /// Lets a request through only when the station this monitor trusts
    /// signed exactly it, recently, and it was not seen before. The
    /// signature is checked before the nonce is remembered, so strangers
    /// cannot fill the replay guard.
    pub(crate) fn authenticate_station(
        &self,
        request: ReceivedRequest<'_>,
        signed: Option<&StationSignature>,
        now: OffsetDateTime,
    ) -> Result<(), ExchangeError> {
        let signed = signed.ok_or(ExchangeError::StationUnauthenticated(
            "The request is not signed by a Central Station.",
        ))?;
        let key = self.lock().station_key.ok_or(ExchangeError::StationUnauthenticated(
            "The monitor trusts no Central Station key yet: register it with the station's key first.",
        ))?;
        crypto::verify_station_request(
            &key,
            &self.identity.device_id,
            request.method,
            request.path,
            request.body,
            signed,
        )
        .map_err(|_| {
            ExchangeError::StationUnauthenticated(
                "The request is not signed by the Central Station this monitor trusts.",
            )
        })?;
        self.replay_guard().admit(signed, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2024-11-25 14:25:00 UTC);

    fn signed(at: OffsetDateTime, nonce: &str) -> StationSignature {
        StationSignature {
            timestamp: at,
            nonce: nonce.into(),
            signature: String::new(),
        }
    }

    #[test]
    fn a_nonce_is_taken_once_and_only_while_fresh() {
        let mut guard = ReplayGuard::new(NOW - Duration::HOUR);
        assert_eq!(guard.admit(&signed(NOW, "a"), NOW), Ok(()));
        assert!(guard.admit(&signed(NOW, "a"), NOW).is_err(), "replayed");
        assert_eq!(guard.admit(&signed(NOW, "b"), NOW), Ok(()));
        let stale = NOW - REQUEST_MAX_AGE - Duration::SECOND;
        assert!(guard.admit(&signed(stale, "c"), NOW).is_err(), "stale");
        let ahead = NOW + REQUEST_MAX_AGE + Duration::SECOND;
        assert!(
            guard.admit(&signed(ahead, "d"), NOW).is_err(),
            "from the future"
        );
    }

    #[test]
    fn requests_signed_before_the_start_are_refused() {
        let mut guard = ReplayGuard::new(NOW);
        let before = NOW - Duration::seconds(5);
        assert!(guard.admit(&signed(before, "a"), NOW).is_err());
        assert_eq!(guard.admit(&signed(NOW, "b"), NOW), Ok(()));
    }

    #[test]
    fn old_nonces_are_forgotten() {
        let mut guard = ReplayGuard::new(NOW - Duration::HOUR);
        for i in 0..100 {
            let at = NOW + Duration::seconds(i);
            assert_eq!(guard.admit(&signed(at, &i.to_string()), at), Ok(()));
        }
        assert!(guard.seen.len() <= 61, "{}", guard.seen.len());
    }
}
