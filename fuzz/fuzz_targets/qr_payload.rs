//! Arbitrary text as a scanned QR payload: validation must return a typed
//! result (never panic) and only accept what it promises to accept.
//!
//! Input layout: the first 8 bytes are the tablet's clock (seconds since the
//! epoch, bounded to ±200 years), the rest is the QR text; invalid UTF-8 is
//! replaced, as a decoder's Latin-1 fallback would produce text anyway.

#![no_main]

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use zpair_core::qr::{self, CLOCK_SKEW, MAX_CODE_LIFETIME};

/// ±200 years in seconds: far beyond any clock, well inside `time`'s range.
const CLOCK_RANGE: i64 = 200 * 366 * 24 * 3600;

fuzz_target!(|data: &[u8]| {
    let Some((clock, text)) = data.split_first_chunk::<8>() else {
        return;
    };
    let seconds = i64::from_le_bytes(*clock) % CLOCK_RANGE;
    let Ok(now) = OffsetDateTime::from_unix_timestamp(seconds) else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let Ok(monitor) = qr::validate(&text, now) else {
        return;
    };
    assert!(!monitor.is_expired(now), "an expired code was accepted");
    assert!(monitor.expires_at <= now + MAX_CODE_LIFETIME + CLOCK_SKEW);
    assert!(!monitor.device_id.is_empty());
    assert_eq!(
        qr::validate(&text, now),
        Ok(monitor.clone()),
        "not deterministic"
    );
});
