//! The SQL of the `certificates` table: every client certificate the device
//! CA issued, and which are revoked.

use crate::db::{Connection, OptionalExtension as _, params};
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
    /// The certificate this one renews, for a renewal.
    pub(crate) renews: Option<String>,
}

/// Records an issued certificate.
pub(crate) fn insert(
    conn: &Connection,
    device_id: &str,
    job_id: Option<&str>,
    cert: &IssuedCertificate,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    insert_renewal(conn, device_id, job_id, cert, None, now)
}

/// Records an issued certificate that renews `renews` (none for a pairing's).
pub(crate) fn insert_renewal(
    conn: &Connection,
    device_id: &str,
    job_id: Option<&str>,
    cert: &IssuedCertificate,
    renews: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO certificates (serial, device_id, job_id, not_before, not_after, issued_at, pem, renews, key_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            cert.serial,
            device_id,
            job_id,
            clock::unix(cert.not_before),
            clock::unix(cert.not_after),
            clock::unix(now),
            cert.pem,
            renews,
            cert.key_sha256,
        ],
    )?;
    Ok(())
}

/// A renewal issued for `current` and not used yet (nor revoked): the
/// certificate the monitor may switch to. At most one exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingRenewal {
    pub(crate) serial: String,
    pub(crate) pem: String,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) key_sha256: Option<String>,
}

/// How many certificates were issued to renew `current`, used or not.
pub(crate) fn renewals_of(conn: &Connection, current: &str) -> Result<u32, DbError> {
    conn.query_row(
        "SELECT COUNT(*) FROM certificates WHERE renews = ?1",
        [current],
        |r| r.get(0),
    )
}

/// The unrevoked renewal of `current`, if any.
pub(crate) fn pending_renewal(
    conn: &Connection,
    current: &str,
) -> Result<Option<PendingRenewal>, DbError> {
    conn.query_row(
        "SELECT serial, pem, not_after, key_sha256 FROM certificates
             WHERE renews = ?1 AND revoked_at IS NULL ORDER BY issued_at DESC LIMIT 1",
        [current],
        |r| {
            Ok(PendingRenewal {
                serial: r.get(0)?,
                pem: r.get(1)?,
                not_after: clock::from_unix(r.get(2)?),
                key_sha256: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Revokes every renewal of `device_id` not yet in use, except `keep`:
/// returns how many it revoked. So a device never has more than its
/// current certificate and one to switch to.
pub(crate) fn revoke_pending_renewals(
    conn: &Connection,
    device_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: OffsetDateTime,
) -> Result<usize, DbError> {
    conn.execute(
        "UPDATE certificates SET revoked_at = ?3, revocation_reason = ?4
         WHERE device_id = ?1 AND renews IS NOT NULL AND revoked_at IS NULL
           AND serial <> COALESCE(?2, '')
           AND serial <> COALESCE((SELECT certificate_serial FROM devices WHERE device_id = ?1), '')",
        params![device_id, keep, clock::unix(now), reason],
    )
}

/// One certificate by serial.
pub(crate) fn get(conn: &Connection, serial: &str) -> Result<Option<CertificateRow>, DbError> {
    conn.query_row(
        "SELECT serial, device_id, job_id, not_before, not_after, revoked_at, renews
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
                renews: r.get(6)?,
            })
        },
    )
    .optional()
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
    rows.collect::<Result<_, _>>()
}

/// The next CRL number: strictly increasing across restarts.
pub(crate) fn next_crl_number(conn: &Connection) -> Result<u64, DbError> {
    let value: i64 = conn.query_row(
        "INSERT INTO station_meta (key, value) VALUES ('crl_number', 1)
         ON CONFLICT (key) DO UPDATE SET value = station_meta.value + 1
         RETURNING value",
        [],
        |r| r.get(0),
    )?;
    Ok(counter(value))
}
