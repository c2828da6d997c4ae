//! Pairing reports: every pairing asked for in a period (a shift, a few
//! days), who asked, which monitor, how long it took and how it ended —
//! from the jobs, their steps and the audit rows of their retries.

pub(crate) mod handlers;

pub(crate) use handlers::{export, pairings};

use crate::db::{Connection, params};
use time::OffsetDateTime;
use zpair_proto::admin::{
    MAX_REPORT_DAYS, PairingOutcome, PairingRecord, PairingReport, ReportQuery,
};
use zpair_proto::api::JobState;

use crate::clock;
use crate::db::DbError;

/// Why a report was refused: the message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PeriodError {
    /// `from` or `to` is not an RFC 3339 time.
    #[error("{0} must be a time in RFC 3339 form, such as 2024-11-25T14:30:00Z.")]
    Time(&'static str),
    /// `to` is before `from`.
    #[error("to must not be before from.")]
    Backwards,
    /// Longer than [`MAX_REPORT_DAYS`].
    #[error("A report covers at most {MAX_REPORT_DAYS} days: ask for several.")]
    TooLong,
}

/// The period of `query`, checked.
pub(crate) fn period(query: &ReportQuery) -> Result<(OffsetDateTime, OffsetDateTime), PeriodError> {
    let parse =
        |text: &str, name| zpair_proto::timestamp::parse(text).map_err(|_| PeriodError::Time(name));
    let from = parse(&query.from, "from")?;
    let to = parse(&query.to, "to")?;
    if to < from {
        return Err(PeriodError::Backwards);
    }
    if to - from > time::Duration::days(MAX_REPORT_DAYS) {
        return Err(PeriodError::TooLong);
    }
    Ok((from, to))
}

/// The pairings asked for from `from` (inclusive) to `to` (exclusive), by
/// `technician` or anyone, oldest first.
pub(crate) fn pairing_report(
    conn: &Connection,
    from: OffsetDateTime,
    to: OffsetDateTime,
    technician: Option<&str>,
) -> Result<PairingReport, DbError> {
    // A step's time in milliseconds (steps written before migration 009
    // kept whole seconds only).
    let at_ms = "COALESCE(e.at_ms, e.at * 1000)";
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT j.id, j.device_id, COALESCE(d.device_label, ''), COALESCE(d.bed_id, ''),
                j.technician, j.state, j.reason, j.created_at,
                (SELECT min({at_ms}) FROM job_events e WHERE e.job_id = j.id),
                (SELECT min({at_ms}) FROM job_events e
                  WHERE e.job_id = j.id AND e.state IN ('PROVISIONED', 'FAILED')),
                (SELECT COUNT(*) FROM provisioning_events p
                  WHERE p.job_id = j.id AND p.event_type = 'monitor_contact_retried')
         FROM jobs j LEFT JOIN devices d ON d.device_id = j.device_id
         WHERE j.created_at >= ?1 AND j.created_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR j.technician = ?3)
         ORDER BY j.created_at, j.rowid"
    ))?;
    let rows = stmt
        .query_map(
            params![clock::unix(from), clock::unix(to), technician],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ),
                    (
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, i64>(10)?,
                    ),
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let pairings: Vec<PairingRecord> = rows
        .into_iter()
        .map(
            |(
                (job_id, device_id, device_label, bed_id, technician),
                (state, reason, created_at, first_ms, end_ms, retries),
            )| {
                let outcome = match JobState::parse(&state) {
                    Some(JobState::Provisioned) => PairingOutcome::Provisioned,
                    Some(JobState::Failed) => PairingOutcome::Failed,
                    _ => PairingOutcome::Running,
                };
                let started_ms = first_ms.unwrap_or(created_at * 1000);
                PairingRecord {
                    job_id,
                    device_id,
                    device_label,
                    bed_id,
                    technician,
                    started_at: clock::from_unix_ms(started_ms),
                    finished_at: end_ms.map(clock::from_unix_ms),
                    duration_ms: end_ms.map(|end| u64::try_from(end - started_ms).unwrap_or(0)),
                    failure: reason.filter(|_| outcome == PairingOutcome::Failed),
                    outcome,
                    attempts: u32::try_from(retries).unwrap_or(u32::MAX).saturating_add(1),
                }
            },
        )
        .collect();
    let count = |outcome| {
        let n = pairings.iter().filter(|p| p.outcome == outcome).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let mut durations: Vec<u64> = pairings
        .iter()
        .filter(|p| p.outcome == PairingOutcome::Provisioned)
        .filter_map(|p| p.duration_ms)
        .collect();
    Ok(PairingReport {
        from,
        to,
        provisioned: count(PairingOutcome::Provisioned),
        failed: count(PairingOutcome::Failed),
        median_duration_ms: median(&mut durations),
        pairings,
    })
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => {
            let sum = u128::from(values[n / 2 - 1]) + u128::from(values[n / 2]);
            u64::try_from(sum / 2).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7));
        assert_eq!(median(&mut [9, 1, 5]), Some(5));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut [u64::MAX, u64::MAX]), Some(u64::MAX));
    }

    #[test]
    fn periods_are_checked() {
        let query = |from: &str, to: &str| ReportQuery {
            from: from.into(),
            to: to.into(),
            technician: None,
        };
        assert!(period(&query("2024-11-01T00:00:00Z", "2024-12-02T00:00:00Z")).is_ok());
        assert_eq!(
            period(&query("2024-11-01T00:00:00Z", "2024-12-02T00:00:01Z")),
            Err(PeriodError::TooLong)
        );
        assert_eq!(
            period(&query("2024-11-02T00:00:00Z", "2024-11-01T00:00:00Z")),
            Err(PeriodError::Backwards)
        );
        assert_eq!(
            period(&query("yesterday", "2024-11-01T00:00:00Z")),
            Err(PeriodError::Time("from"))
        );
        assert!(
            period(&query(
                "2024-11-01T00:00:00+01:00",
                "2024-11-01T00:00:00+01:00"
            ))
            .is_ok()
        );
    }
}
