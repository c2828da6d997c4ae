//! Sliding-window limits on pair requests, per device and per technician:
//! the monitor closes provisioning mode after a few wrong codes anyway; this
//! keeps one technician (or one stolen session) from hammering monitors.
//!
//! The window is kept in the database (`pair_request_hits`), counted and
//! written inside the pair request's write transaction: every station
//! instance on the database, and every request of a burst, sees the
//! requests admitted before it, and a restart forgets none.

use std::time::Duration;

use crate::db::{Connection, params};
use time::OffsetDateTime;

use crate::clock;
use crate::config::RateLimits;
use crate::db::DbError;

const WINDOW: Duration = Duration::from_secs(60);

/// The window in milliseconds, as the table keeps times.
fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// Admits a request (and counts it against both limits), or says how long
/// to wait before one would be admitted. Run inside the caller's write
/// transaction, which makes the count and the insert one step.
///
/// Times are wall-clock milliseconds, shared by every instance: a hit
/// dated more than a window ahead (a clock stepped back, or another
/// instance's clock ahead) is dropped rather than counted forever, and the
/// wait is never longer than a window.
pub(crate) fn admit(
    conn: &Connection,
    limits: RateLimits,
    device_id: &str,
    technician: &str,
    now: OffsetDateTime,
) -> Result<Result<(), Duration>, DbError> {
    let now_ms = clock::unix_ms(now);
    conn.execute(
        "DELETE FROM pair_request_hits WHERE at_ms <= ?1 OR at_ms > ?2",
        [now_ms - window_ms(), now_ms + window_ms()],
    )?;
    let device = format!("device:{device_id}");
    let tech = format!("technician:{technician}");
    let mut wait: Option<Duration> = None;
    for (subject, limit) in [
        (&device, limits.per_device_per_minute),
        (&tech, limits.per_technician_per_minute),
    ] {
        let count: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pair_request_hits WHERE subject = ?1",
            [subject],
            |r| r.get(0),
        )?;
        let limit = i64::from(limit);
        if count >= limit {
            // Room comes when all but `limit - 1` of them have left the
            // window: when the (count - limit + 1)-th oldest does.
            let leaving: i64 = conn.query_row(
                "SELECT at_ms FROM pair_request_hits WHERE subject = ?1
                 ORDER BY at_ms LIMIT 1 OFFSET ?2",
                params![subject, count - limit],
                |r| r.get(0),
            )?;
            let until = (leaving + window_ms() - now_ms).clamp(0, window_ms());
            let until = Duration::from_millis(u64::try_from(until).unwrap_or(0));
            wait = Some(wait.map_or(until, |w| w.max(until)));
        }
    }
    if let Some(wait) = wait {
        return Ok(Err(wait));
    }
    for subject in [&device, &tech] {
        conn.execute(
            "INSERT INTO pair_request_hits (subject, at_ms) VALUES (?1, ?2)",
            params![subject, now_ms],
        )?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_device_and_per_technician_and_slide() {
        let dir = tempfile::tempdir().expect("temp");
        let conn = crate::db::testing::open(dir.path()).expect("db");
        let limits = RateLimits {
            per_device_per_minute: 2,
            per_technician_per_minute: 3,
        };
        let admit = |device: &str, tech: &str, at: OffsetDateTime| {
            admit(&conn, limits, device, tech, at).expect("database")
        };
        let t0 = clock::now();
        assert!(admit("ZM-1", "ana", t0).is_ok());
        assert!(admit("ZM-1", "bob", t0).is_ok());
        let wait = admit("ZM-1", "carla", t0).expect_err("device full");
        assert_eq!(wait, WINDOW);
        assert!(admit("ZM-2", "ana", t0).is_ok());
        assert!(admit("ZM-3", "ana", t0).is_ok());
        let half = t0 + time::Duration::seconds(30);
        assert_eq!(
            admit("ZM-4", "ana", half),
            Err(Duration::from_secs(30)),
            "technician full until the first of hers leaves the window"
        );
        let later = t0 + time::Duration::seconds(60);
        assert!(admit("ZM-1", "carla", later).is_ok(), "the window slid");
        assert!(admit("ZM-4", "ana", later).is_ok());
    }

    #[test]
    fn a_lowered_limit_and_a_clock_stepped_back_wait_no_longer_than_they_must() {
        let dir = tempfile::tempdir().expect("temp");
        let conn = crate::db::testing::open(dir.path()).expect("db");
        let generous = RateLimits {
            per_device_per_minute: 5,
            per_technician_per_minute: 100,
        };
        let t0 = clock::now();
        for s in 0..5 {
            let at = t0 + time::Duration::seconds(s * 10);
            assert!(
                admit(&conn, generous, "ZM-1", "ana", at)
                    .expect("db")
                    .is_ok()
            );
        }
        // Limit lowered to two while five are in the window: room comes when
        // the fourth oldest (at +30 s) leaves, not the oldest.
        let strict = RateLimits {
            per_device_per_minute: 2,
            ..generous
        };
        let now = t0 + time::Duration::seconds(45);
        assert_eq!(
            admit(&conn, strict, "ZM-1", "ana", now).expect("db"),
            Err(Duration::from_secs(45))
        );
        // The clock stepped back two minutes: those hits are from the
        // future, dropped rather than counted for two minutes more.
        let earlier = t0 - time::Duration::seconds(120);
        assert_eq!(
            admit(&conn, strict, "ZM-1", "ana", earlier).expect("db"),
            Ok(())
        );
    }
}
