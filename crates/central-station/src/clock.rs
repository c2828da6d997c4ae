//! The station's one notion of "now", and the conversions to the whole-second
//! and millisecond integers SQLite stores.

use time::OffsetDateTime;

/// The current time, UTC.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Whole seconds since the Unix epoch, as stored in the database.
pub(crate) fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Milliseconds since the Unix epoch, for heartbeats that come more often than once a second.
pub(crate) fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Reads a stored whole-second timestamp back.
pub(crate) fn from_unix(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Reads a stored millisecond timestamp back.
pub(crate) fn from_unix_ms(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A `std` duration as a `time` duration, saturating.
pub(crate) fn span(duration: std::time::Duration) -> time::Duration {
    time::Duration::try_from(duration).unwrap_or(time::Duration::MAX)
}
