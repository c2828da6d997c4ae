//! The SQL of the `certificates` table: every client certificate the device
//! CA issued, and which are revoked.

use rusqlite::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;

use super::IssuedCertificate;
use super::ca::Revoked;
use crate::clock;
use crate::db::{DbError, counter};

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateRow {
    pub(crate) serial: String,
    pub(crate) device_id: String,
    pub(crate) job_id: Option<String>,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) revoked_at: Option<OffsetDateTime>,
}

/// Records an issued certificate.
pub(crate) fn insert(
    conn: &Connection,
    device_id: &str,
    job_id: Option<&str>,
    cert: &IssuedCertificate,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO certificates (serial, device_id, job_id, not_before, not_after, issued_at, pem)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            cert.serial,
            device_id,
            job_id,
            clock::unix(cert.not_before),
            clock::unix(cert.not_after),
            clock::unix(now),
            cert.pem,
        ],
    )?;
    Ok(())
}

/// One certificate by serial.
pub(crate) fn get(conn: &Connection, serial: &str) -> Result<Option<CertificateRow>, DbError> {
    Ok(conn
        .query_row(
            "SELECT serial, device_id, job_id, not_before, not_after, revoked_at
             FROM certificates WHERE serial = ?1",
            [serial],
            |r| {
                Ok(CertificateRow {
                    serial: r.get(0)?,
                    device_id: r.get(1)?,
                    job_id: r.get(2)?,
                    not_before: clock::from_unix(r.get(3)?),
                    not_after: clock::from_unix(r.get(4)?),
                    revoked_at: r.get::<_, Option<i64>>(5)?.map(clock::from_unix),
                })
            },
        )
        .optional()?)
}

/// Revokes a certificate; returns whether it was not revoked before.
pub(crate) fn revoke(
    conn: &Connection,
    serial: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = conn.execute(
        "UPDATE certificates SET revoked_at = ?2, revocation_reason = ?3
         WHERE serial = ?1 AND revoked_at IS NULL",
        params![serial, clock::unix(now), reason],
    )?;
    Ok(changed == 1)
}

/// Every revoked certificate that has not expired yet (expired ones need no listing).
pub(crate) fn revoked(conn: &Connection, now: OffsetDateTime) -> Result<Vec<Revoked>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT serial, revoked_at FROM certificates
         WHERE revoked_at IS NOT NULL AND not_after > ?1 ORDER BY revoked_at, serial",
    )?;
    let rows = stmt.query_map([clock::unix(now)], |r| {
        Ok(Revoked {
            serial: r.get(0)?,
            revoked_at: clock::from_unix(r.get(1)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The next CRL number: strictly increasing across restarts.
pub(crate) fn next_crl_number(conn: &Connection) -> Result<u64, DbError> {
    let value: i64 = conn.query_row(
        "INSERT INTO station_meta (key, value) VALUES ('crl_number', 1)
         ON CONFLICT(key) DO UPDATE SET value = value + 1
         RETURNING value",
        [],
        |r| r.get(0),
    )?;
    Ok(counter(value))
}
