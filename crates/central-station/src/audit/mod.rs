//! The `provisioning_events` audit table of the seeds: one row for every step
//! of every pairing, every certificate issued or revoked and every command
//! sent, written in the same transaction as the change it records.
//! `pairing_code` is always NULL: codes are never stored.

mod handlers;

pub(crate) use handlers::list;

use rusqlite::{Connection, params};
use time::OffsetDateTime;
use zpair_proto::api::AuditEvent;

use crate::clock;
use crate::db::DbError;

/// What happened: the seeds' event types, plus the station-side steps they lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    /// A technician asked to pair a monitor (refused requests too).
    PairingRequested,
    /// The monitor proved its identity key over the station's challenge.
    MonitorIdentityVerified,
    /// The device CA issued a client certificate from the monitor's CSR.
    CertificateIssued,
    /// The monitor accepted the proof of the pairing code.
    PairingCodeValidated,
    /// The monitor received and verified the signed configuration.
    ConfigurationReceived,
    /// The monitor staged the configuration.
    ConfigurationApplied,
    /// The monitor's mTLS connection test.
    ConnectionTested,
    /// The job reached PROVISIONED.
    ProvisioningCompleted,
    /// The job reached FAILED.
    ProvisioningFailed,
    /// A certificate went on the revocation list.
    CertificateRevoked,
    /// A technician re-provisioned a monitor.
    ReprovisioningStarted,
    /// An administrator de-provisioned a monitor.
    Deprovisioned,
    /// An administrator re-admitted a de-provisioned monitor.
    Readmitted,
    /// A signed command was (or could not be) delivered to a monitor.
    CommandDelivered,
    /// A registration record was imported.
    DeviceRegistered,
    /// The answer to the commit was lost and the monitor's proof of commit
    /// arrived within the fail-safe window: the job was recovered.
    CommitRecovered,
    /// A monitor presented a certificate the station refused (revoked,
    /// replaced or expired): it believes it is paired and is not.
    CertificateRefused,
}

impl EventType {
    /// The stored spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::PairingRequested => "pairing_requested",
            EventType::MonitorIdentityVerified => "monitor_identity_verified",
            EventType::CertificateIssued => "certificate_issued",
            EventType::PairingCodeValidated => "pairing_code_validated",
            EventType::ConfigurationReceived => "configuration_received",
            EventType::ConfigurationApplied => "configuration_applied",
            EventType::ConnectionTested => "connection_tested",
            EventType::ProvisioningCompleted => "provisioning_completed",
            EventType::ProvisioningFailed => "provisioning_failed",
            EventType::CertificateRevoked => "certificate_revoked",
            EventType::ReprovisioningStarted => "reprovisioning_started",
            EventType::Deprovisioned => "deprovisioned",
            EventType::Readmitted => "readmitted",
            EventType::CommandDelivered => "command_delivered",
            EventType::DeviceRegistered => "device_registered",
            EventType::CommitRecovered => "commit_recovered",
            EventType::CertificateRefused => "certificate_refused",
        }
    }
}

/// One row to write.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) event_type: EventType,
    pub(crate) device_id: String,
    pub(crate) success: bool,
    pub(crate) error_message: Option<String>,
    pub(crate) configuration_hash: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) job_id: Option<String>,
}

impl Entry {
    /// A successful step.
    pub(crate) fn ok(event_type: EventType, device_id: &str) -> Self {
        Self {
            event_type,
            device_id: device_id.to_owned(),
            success: true,
            error_message: None,
            configuration_hash: None,
            actor: None,
            job_id: None,
        }
    }

    /// A failed step, with what went wrong (never a secret).
    pub(crate) fn failed(event_type: EventType, device_id: &str, error: impl Into<String>) -> Self {
        Self {
            success: false,
            error_message: Some(error.into()),
            ..Self::ok(event_type, device_id)
        }
    }

    /// Who acted (a username, or `station` for its own steps).
    pub(crate) fn by(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_owned());
        self
    }

    /// The pairing job the step belongs to.
    pub(crate) fn job(mut self, job_id: &str) -> Self {
        self.job_id = Some(job_id.to_owned());
        self
    }

    /// The SHA-256 of the configuration concerned.
    pub(crate) fn configuration(mut self, hash: &str) -> Self {
        self.configuration_hash = Some(hash.to_owned());
        self
    }
}

/// Writes rows, inside the caller's transaction.
pub(crate) fn record(
    conn: &Connection,
    at: OffsetDateTime,
    entries: &[Entry],
) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO provisioning_events
             (timestamp, event_type, device_id, pairing_code, success, error_message,
              configuration_hash, actor, job_id)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for e in entries {
        stmt.execute(params![
            clock::unix(at),
            e.event_type.as_str(),
            e.device_id,
            e.success,
            e.error_message,
            e.configuration_hash,
            e.actor,
            e.job_id,
        ])?;
    }
    Ok(())
}

/// The newest `limit` rows (for one device, or all), oldest first.
pub(crate) fn recent(
    conn: &Connection,
    device_id: Option<&str>,
    limit: u32,
) -> Result<Vec<AuditEvent>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, timestamp, event_type, device_id, success, error_message, configuration_hash
         FROM (SELECT * FROM provisioning_events
               WHERE ?1 IS NULL OR device_id = ?1
               ORDER BY id DESC LIMIT ?2)
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![device_id, limit], |r| {
        Ok(AuditEvent {
            id: r.get(0)?,
            timestamp: clock::from_unix(r.get(1)?),
            event_type: r.get(2)?,
            device_id: r.get(3)?,
            success: r.get(4)?,
            error_message: r.get(5)?,
            configuration_hash: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_never_hold_a_code() {
        let dir = tempfile::tempdir().expect("temp");
        let conn = crate::db::open(dir.path()).expect("db");
        let now = clock::now();
        record(
            &conn,
            now,
            &[
                Entry::ok(EventType::PairingRequested, "ZM-1")
                    .by("ana")
                    .job("j1"),
                Entry::failed(EventType::ProvisioningFailed, "ZM-1", "code_mismatch")
                    .configuration("abc"),
                Entry::ok(EventType::DeviceRegistered, "ZM-2"),
            ],
        )
        .expect("record");
        let rows = recent(&conn, Some("ZM-1"), 10).expect("list");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].event_type, "pairing_requested");
        assert!(!rows[1].success);
        assert_eq!(rows[1].error_message.as_deref(), Some("code_mismatch"));
        assert_eq!(recent(&conn, None, 1).expect("all")[0].device_id, "ZM-2");
        let codes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM provisioning_events WHERE pairing_code IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(codes, 0);
    }
}
