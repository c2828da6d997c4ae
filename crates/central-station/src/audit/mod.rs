//! The `provisioning_events` audit table of the seeds: one row for every
//! security event — every step of every pairing and refusal, every
//! certificate issued or revoked, every command sent, every sign-in, step-up,
//! sign-out and account change — with who acted, from where, and how it
//! ended, written in the same transaction as the change it records.
//! `pairing_code` is always NULL: codes are never stored.
//!
//! The table is append-only (triggers refuse UPDATE and DELETE) and
//! hash-chained ([`chain`]), so a rewrite with the file in hand shows.

mod chain;
pub(crate) mod handlers;
mod query;
mod source;

pub(crate) use chain::{seal_existing, verify};
pub(crate) use handlers::{export, list, verify_chain};
pub(crate) use source::Source;

use crate::db::{Connection, ToValue as _, Value};
use time::OffsetDateTime;

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
    /// The device CA issued a renewal of a monitor's certificate (subject:
    /// the new serial); it is not the monitor's until it is used.
    CertificateRenewalIssued,
    /// A monitor used its renewed certificate: it is the device's now
    /// (subject: its serial), and the one it renews is revoked.
    CertificateSwitched,
    /// An attempt to reach a monitor failed in a way worth retrying
    /// (unreachable, reset, timed out): one row per attempt that is retried.
    MonitorContactRetried,
    /// A monitor presented a certificate the station refused (revoked,
    /// replaced or expired): it believes it is paired and is not.
    CertificateRefused,
    /// A sign-in with the right password.
    SignIn,
    /// A sign-in refused (wrong password, unknown username, locked account).
    SignInFailed,
    /// Too many wrong passwords locked the account.
    AccountLocked,
    /// A technician confirmed their password for a re-provisioning (or failed to).
    StepUp,
    /// A session was signed out.
    SignOut,
    /// An administrator ended an account's sessions.
    SessionsEnded,
    /// An account was created.
    AccountCreated,
    /// An administrator disabled an account.
    AccountDisabled,
    /// An administrator enabled an account again.
    AccountEnabled,
    /// An administrator reset an account's password to a temporary one.
    PasswordReset,
    /// An administrator unlocked an account locked by wrong passwords.
    AccountUnlocked,
    /// An account changed its own password (or failed to: wrong current password).
    PasswordChanged,
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
            EventType::CertificateRenewalIssued => "certificate_renewal_issued",
            EventType::CertificateSwitched => "certificate_switched",
            EventType::MonitorContactRetried => "monitor_contact_retried",
            EventType::CertificateRefused => "certificate_refused",
            EventType::SignIn => "sign_in",
            EventType::SignInFailed => "sign_in_failed",
            EventType::AccountLocked => "account_locked",
            EventType::StepUp => "step_up",
            EventType::SignOut => "sign_out",
            EventType::SessionsEnded => "sessions_ended",
            EventType::AccountCreated => "account_created",
            EventType::AccountDisabled => "account_disabled",
            EventType::AccountEnabled => "account_enabled",
            EventType::PasswordReset => "password_reset",
            EventType::AccountUnlocked => "account_unlocked",
            EventType::PasswordChanged => "password_changed",
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
    pub(crate) source_address: Option<String>,
    pub(crate) subject: Option<String>,
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
            source_address: None,
            subject: None,
        }
    }

    /// A successful event about an account (no monitor: `device_id` is empty).
    pub(crate) fn account(event_type: EventType, username: &str) -> Self {
        Self {
            subject: Some(username.to_owned()),
            ..Self::ok(event_type, "")
        }
    }

    /// Marks the event as refused or failed, with why (never a secret).
    pub(crate) fn failing(mut self, error: impl Into<String>) -> Self {
        self.success = false;
        self.error_message = Some(error.into());
        self
    }

    /// The client the request came from, when known.
    pub(crate) fn from(mut self, source: &Source) -> Self {
        self.source_address = source.address();
        self
    }

    /// A failed step, with what went wrong (never a secret).
    pub(crate) fn failed(event_type: EventType, device_id: &str, error: impl Into<String>) -> Self {
        Self::ok(event_type, device_id).failing(error)
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

    /// The certificate concerned (its serial), for certificate events.
    pub(crate) fn subject(mut self, serial: &str) -> Self {
        self.subject = Some(serial.to_owned());
        self
    }

    /// The SHA-256 of the configuration concerned.
    pub(crate) fn configuration(mut self, hash: &str) -> Self {
        self.configuration_hash = Some(hash.to_owned());
        self
    }
}

/// Writes rows, chained to the log's head, inside the caller's transaction
/// (or in one of their own when the caller has none). Cheap: a lookup by
/// primary key, one SHA-256 per row, then one statement for all of them.
pub(crate) fn record(
    conn: &Connection,
    at: OffsetDateTime,
    entries: &[Entry],
) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    if conn.in_transaction() {
        return append(conn, at, entries);
    }
    // The head read and the inserts hold one write lock, even against the
    // offline admin commands and other instances writing the same database.
    let tx = conn.transaction()?;
    append(&tx, at, entries)?;
    tx.commit()?;
    Ok(())
}

/// The columns of a row [`append`] writes, in its placeholders' order.
const APPENDED_COLUMNS: usize = 13;

/// Chains `entries` to the head and writes them in one statement: one round
/// trip however many a step records (PostgreSQL also moves its head row in
/// the same statement).
fn append(conn: &Connection, at: OffsetDateTime, entries: &[Entry]) -> Result<(), DbError> {
    let (first_id, mut prev) = chain::head(conn)?;
    let mut values: Vec<Value> = Vec::with_capacity(entries.len() * APPENDED_COLUMNS);
    let mut rows = Vec::with_capacity(entries.len());
    for (id, e) in (first_id..).zip(entries) {
        let row = chain::Row {
            id,
            timestamp: clock::unix(at),
            event_type: e.event_type.as_str().to_owned(),
            device_id: e.device_id.clone(),
            pairing_code: None,
            success: e.success,
            error_message: e.error_message.clone(),
            configuration_hash: e.configuration_hash.clone(),
            actor: e.actor.clone(),
            job_id: e.job_id.clone(),
            source_address: e.source_address.clone(),
            subject: e.subject.clone(),
        };
        let hash = chain::hash(&prev, &row);
        let placeholders: Vec<String> = (1..=APPENDED_COLUMNS)
            .map(|i| format!("?{}", values.len() + i))
            .collect();
        // pairing_code is always NULL: codes are never stored.
        rows.push(format!(
            "({}, {}, {}, {}, NULL, {})",
            placeholders[0],
            placeholders[1],
            placeholders[2],
            placeholders[3],
            placeholders[4..].join(", ")
        ));
        values.extend([
            row.id.to_value(),
            row.timestamp.to_value(),
            row.event_type.to_value(),
            row.device_id.to_value(),
            row.success.to_value(),
            row.error_message.to_value(),
            row.configuration_hash.to_value(),
            row.actor.to_value(),
            row.job_id.to_value(),
            row.source_address.to_value(),
            row.subject.to_value(),
            prev.to_value(),
            hash.to_value(),
        ]);
        prev = hash;
    }
    let insert = format!(
        "INSERT INTO provisioning_events
             (id, timestamp, event_type, device_id, pairing_code, success, error_message,
              configuration_hash, actor, job_id, source_address, subject, prev_hash, row_hash)
         VALUES {}",
        rows.join(", ")
    );
    let last_id = first_id + i64::try_from(entries.len()).unwrap_or(i64::MAX) - 1;
    let sql = chain::appending(conn, &insert, &mut values, last_id, &prev);
    conn.prepare_cached(&sql)?
        .execute(crate::db::params_from_iter(values))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list the API document and the query's check use names every
    /// event type the station writes, in the order they are declared.
    #[test]
    fn the_published_event_types_are_the_written_ones() {
        use EventType::*;
        let all = [
            PairingRequested,
            MonitorIdentityVerified,
            CertificateIssued,
            PairingCodeValidated,
            ConfigurationReceived,
            ConfigurationApplied,
            ConnectionTested,
            ProvisioningCompleted,
            ProvisioningFailed,
            CertificateRevoked,
            ReprovisioningStarted,
            Deprovisioned,
            Readmitted,
            CommandDelivered,
            DeviceRegistered,
            CommitRecovered,
            CertificateRenewalIssued,
            CertificateSwitched,
            MonitorContactRetried,
            CertificateRefused,
            SignIn,
            SignInFailed,
            AccountLocked,
            StepUp,
            SignOut,
            SessionsEnded,
            AccountCreated,
            AccountDisabled,
            AccountEnabled,
            PasswordReset,
            AccountUnlocked,
            PasswordChanged,
        ];
        // A variant added to the enum and not to `all` fails to compile here.
        for event in all {
            match event {
                PairingRequested
                | MonitorIdentityVerified
                | CertificateIssued
                | PairingCodeValidated
                | ConfigurationReceived
                | ConfigurationApplied
                | ConnectionTested
                | ProvisioningCompleted
                | ProvisioningFailed
                | CertificateRevoked
                | ReprovisioningStarted
                | Deprovisioned
                | Readmitted
                | CommandDelivered
                | DeviceRegistered
                | CommitRecovered
                | CertificateRenewalIssued
                | CertificateSwitched
                | MonitorContactRetried
                | CertificateRefused
                | SignIn
                | SignInFailed
                | AccountLocked
                | StepUp
                | SignOut
                | SessionsEnded
                | AccountCreated
                | AccountDisabled
                | AccountEnabled
                | PasswordReset
                | AccountUnlocked
                | PasswordChanged => {}
            }
        }
        let spelled: Vec<&str> = all.iter().map(|e| e.as_str()).collect();
        assert_eq!(spelled, zpair_proto::admin::AUDIT_EVENT_TYPES);
    }

    #[test]
    fn rows_round_trip_and_never_hold_a_code() {
        let dir = tempfile::tempdir().expect("temp");
        let conn = crate::db::testing::open(dir.path()).expect("db");
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
        let page = |device_id: Option<&str>, limit| {
            let query = zpair_proto::admin::AuditQuery {
                device_id: device_id.map(str::to_owned),
                limit: Some(limit),
                ..Default::default()
            };
            query::page(&conn, &query)
                .expect("db")
                .expect("valid")
                .events
        };
        let rows = page(Some("ZM-1"), 10);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].event_type, "pairing_requested");
        assert!(!rows[0].success);
        assert_eq!(rows[0].error_message.as_deref(), Some("code_mismatch"));
        assert_eq!(page(None, 1)[0].device_id, "ZM-2");
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
