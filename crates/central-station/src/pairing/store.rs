//! The SQL of pairing jobs. Each state a job reaches is one transaction: the
//! job row, its event, the audit rows, and the device and certificate
//! changes that go with it, so the database never shows half a step.

use rusqlite::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;
use zpair_proto::api::{DeviceState, FailureReason, JobEvent, JobState, JobSummary};

use crate::audit::{self, Entry, EventType};
use crate::clock;
use crate::db::{DbError, parse_column};
use crate::pki::IssuedCertificate;
use crate::pki::certificates;
use crate::registry::{DeviceRow, store as devices};

/// The actor of the steps the station takes on its own.
pub(crate) const STATION: &str = "station";

/// What the technician reads for each state.
pub(crate) fn message(state: JobState, reason: Option<FailureReason>) -> String {
    match (state, reason) {
        (JobState::Failed, Some(reason)) => reason.message().to_owned(),
        (JobState::Failed, None) => "Pairing failed. Retry.".to_owned(),
        (JobState::Pairing, _) => {
            "The Central Station is contacting the monitor and checking its identity.".to_owned()
        }
        (JobState::Configuring, _) => {
            "The monitor proved its identity. Sending its signed, encrypted configuration.".to_owned()
        }
        (JobState::Validating, _) => {
            "The monitor accepted the pairing code and its configuration and is testing its new connection.".to_owned()
        }
        (JobState::Provisioned, _) => {
            "The monitor is paired and connected to the Central Station.".to_owned()
        }
    }
}

/// A pair request that passed the checks done in memory.
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub(crate) job_id: String,
    pub(crate) device_id: String,
    pub(crate) technician: String,
    pub(crate) token_hash: Option<[u8; 32]>,
    pub(crate) at: OffsetDateTime,
}

/// The outcome of [`open`].
#[derive(Debug)]
pub(crate) enum Opened {
    /// The job exists, in PAIRING.
    Job {
        device: Box<DeviceRow>,
        seq: i64,
        event: JobEvent,
    },
    /// Not in the registry.
    UnknownDevice,
    /// The QR token was used before.
    TokenReplayed,
    /// Another job for the device is running.
    InProgress,
}

/// Records a refused pair request in the audit log.
pub(crate) fn refuse(
    conn: &Connection,
    device_id: &str,
    technician: &str,
    code: &str,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    audit::record(
        conn,
        at,
        &[Entry::failed(EventType::PairingRequested, device_id, code).by(technician)],
    )
}

/// The running job of a device, if any.
pub(crate) fn active_job(conn: &Connection, device_id: &str) -> Result<Option<String>, DbError> {
    Ok(conn
        .query_row(
            "SELECT id FROM jobs WHERE device_id = ?1 AND state NOT IN ('PROVISIONED', 'FAILED')",
            [device_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Checks registry, running jobs and token reuse, and opens the job — all
/// in one transaction, so two requests cannot both pass.
pub(crate) fn open(conn: &mut Connection, job: &NewJob) -> Result<Opened, DbError> {
    let tx = conn.transaction()?;
    let Some(device) = devices::get(&tx, &job.device_id)? else {
        refuse(
            &tx,
            &job.device_id,
            &job.technician,
            "unknown_device",
            job.at,
        )?;
        tx.commit()?;
        return Ok(Opened::UnknownDevice);
    };
    if active_job(&tx, &job.device_id)?.is_some() {
        refuse(
            &tx,
            &job.device_id,
            &job.technician,
            "pairing_in_progress",
            job.at,
        )?;
        tx.commit()?;
        return Ok(Opened::InProgress);
    }
    if let Some(hash) = &job.token_hash {
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO used_pairing_tokens (token_hash, device_id, used_at) VALUES (?1, ?2, ?3)",
            params![&hash[..], job.device_id, clock::unix(job.at)],
        )?;
        if inserted == 0 {
            refuse(
                &tx,
                &job.device_id,
                &job.technician,
                "token_replayed",
                job.at,
            )?;
            tx.commit()?;
            return Ok(Opened::TokenReplayed);
        }
    }
    tx.execute(
        "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            job.job_id,
            job.device_id,
            job.technician,
            JobState::Pairing.as_str(),
            clock::unix(job.at)
        ],
    )?;
    tx.execute(
        "UPDATE devices SET state_before_pairing = state, state = ?2, updated_at = ?3 WHERE device_id = ?1",
        params![job.device_id, DeviceState::Pairing.as_str(), clock::unix(job.at)],
    )?;
    audit::record(
        &tx,
        job.at,
        &[Entry::ok(EventType::PairingRequested, &job.device_id)
            .by(&job.technician)
            .job(&job.job_id)],
    )?;
    let event = JobEvent {
        job_id: job.job_id.clone(),
        device_id: job.device_id.clone(),
        state: JobState::Pairing,
        reason: None,
        message: message(JobState::Pairing, None),
        at: job.at,
    };
    let seq = insert_event(&tx, &event)?;
    tx.commit()?;
    Ok(Opened::Job {
        device: Box::new(device),
        seq,
        event,
    })
}

fn insert_event(conn: &Connection, event: &JobEvent) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO job_events (job_id, state, reason, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            event.job_id,
            event.state.as_str(),
            event.reason.map(FailureReason::code),
            event.message,
            clock::unix(event.at)
        ],
    )?;
    conn.execute(
        "UPDATE jobs SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
        params![
            event.job_id,
            event.state.as_str(),
            event.reason.map(FailureReason::code),
            clock::unix(event.at)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// How a terminal step changes the device and its certificates.
#[derive(Debug, Clone)]
pub(crate) enum Finish {
    /// The monitor committed: its new certificate is current, the previous one revoked.
    Provisioned {
        serial: String,
        server_url: String,
        address: Option<String>,
    },
    /// The job failed: the certificate it issued (if any) is revoked and the
    /// device returns to the state it had before.
    Failed { revoke: Option<String> },
}

/// One step of a job.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) job_id: String,
    pub(crate) device_id: String,
    pub(crate) state: JobState,
    pub(crate) reason: Option<FailureReason>,
    pub(crate) at: OffsetDateTime,
    pub(crate) audits: Vec<Entry>,
    pub(crate) certificate: Option<IssuedCertificate>,
    pub(crate) finish: Option<Finish>,
}

/// What a written step produced.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) seq: i64,
    pub(crate) event: JobEvent,
    /// A certificate was revoked: the CRL must be re-signed.
    pub(crate) revoked: bool,
}

/// Writes a step in one transaction.
pub(crate) fn write(conn: &mut Connection, step: Step) -> Result<Written, DbError> {
    let tx = conn.transaction()?;
    let written = write_in(&tx, step)?;
    tx.commit()?;
    Ok(written)
}

fn write_in(tx: &Connection, step: Step) -> Result<Written, DbError> {
    let mut audits = step.audits;
    let mut revoked = false;
    if let Some(cert) = &step.certificate {
        certificates::insert(tx, &step.device_id, Some(&step.job_id), cert, step.at)?;
    }
    match &step.finish {
        Some(Finish::Provisioned {
            serial,
            server_url,
            address,
        }) => {
            let previous: Option<String> = tx
                .query_row(
                    "SELECT certificate_serial FROM devices WHERE device_id = ?1",
                    [&step.device_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            if let Some(previous) = previous.filter(|p| p != serial)
                && certificates::revoke(tx, &previous, "superseded", step.at)?
            {
                revoked = true;
                audits.push(
                    Entry::ok(EventType::CertificateRevoked, &step.device_id)
                        .by(STATION)
                        .job(&step.job_id),
                );
            }
            tx.execute(
                "UPDATE devices SET state = ?2, state_before_pairing = NULL, certificate_serial = ?3,
                        server_url = ?4, ip_address = COALESCE(?5, ip_address),
                        last_heartbeat_ms = NULL, uptime_seconds = 0, heartbeats = 0,
                        bytes_sent = 0, errors = 0, updated_at = ?6
                 WHERE device_id = ?1",
                params![
                    step.device_id,
                    DeviceState::Provisioned.as_str(),
                    serial,
                    server_url,
                    address,
                    clock::unix(step.at)
                ],
            )?;
        }
        Some(Finish::Failed { revoke }) => {
            if let Some(serial) = revoke
                && certificates::revoke(tx, serial, "pairing_failed", step.at)?
            {
                revoked = true;
                audits.push(
                    Entry::ok(EventType::CertificateRevoked, &step.device_id)
                        .by(STATION)
                        .job(&step.job_id),
                );
            }
            restore_device(tx, &step.device_id, step.at)?;
        }
        None => {}
    }
    audit::record(tx, step.at, &audits)?;
    let event = JobEvent {
        job_id: step.job_id,
        device_id: step.device_id,
        state: step.state,
        reason: step.reason,
        message: message(step.state, step.reason),
        at: step.at,
    };
    let seq = insert_event(tx, &event)?;
    Ok(Written {
        seq,
        event,
        revoked,
    })
}

/// A device left in PAIRING goes back to the state it had before.
fn restore_device(conn: &Connection, device_id: &str, at: OffsetDateTime) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET state = COALESCE(state_before_pairing, 'UNPROVISIONED'),
                state_before_pairing = NULL, updated_at = ?2
         WHERE device_id = ?1 AND state = 'PAIRING'",
        params![device_id, clock::unix(at)],
    )?;
    Ok(())
}

/// After a crash: every job not PROVISIONED or FAILED becomes FAILED
/// (`interrupted`), its certificate (if it issued one) is revoked and its
/// device returns to its previous state. Returns how many jobs, and whether
/// a certificate was revoked.
pub(crate) fn recover(conn: &mut Connection, at: OffsetDateTime) -> Result<(usize, bool), DbError> {
    let tx = conn.transaction()?;
    let stuck: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, device_id FROM jobs WHERE state NOT IN ('PROVISIONED', 'FAILED') ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut revoked = false;
    for (job_id, device_id) in &stuck {
        let issued: Option<String> = tx
            .query_row(
                "SELECT serial FROM certificates WHERE job_id = ?1 AND revoked_at IS NULL",
                [job_id],
                |r| r.get(0),
            )
            .optional()?;
        let reason = FailureReason::Interrupted;
        let written = write_in(
            &tx,
            Step {
                job_id: job_id.clone(),
                device_id: device_id.clone(),
                state: JobState::Failed,
                reason: Some(reason),
                at,
                audits: vec![
                    Entry::failed(EventType::ProvisioningFailed, device_id, reason.code())
                        .by(STATION)
                        .job(job_id),
                ],
                certificate: None,
                finish: Some(Finish::Failed { revoke: issued }),
            },
        )?;
        revoked |= written.revoked;
    }
    // Devices in PAIRING with no job left (nothing should leave one so, but
    // a device must never stay unpairable).
    let orphans: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT device_id FROM devices d WHERE state = 'PAIRING' AND NOT EXISTS
                 (SELECT 1 FROM jobs j WHERE j.device_id = d.device_id
                  AND j.state NOT IN ('PROVISIONED', 'FAILED'))",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for device_id in &orphans {
        restore_device(&tx, device_id, at)?;
    }
    tx.commit()?;
    Ok((stuck.len(), revoked))
}

/// A job's device and every event so far, each with its row id.
#[derive(Debug)]
pub(crate) struct History {
    pub(crate) device_id: String,
    pub(crate) events: Vec<(i64, JobEvent)>,
}

/// The history of a job, if it exists.
pub(crate) fn history(conn: &Connection, job_id: &str) -> Result<Option<History>, DbError> {
    let device_id: Option<String> = conn
        .query_row("SELECT device_id FROM jobs WHERE id = ?1", [job_id], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(device_id) = device_id else {
        return Ok(None);
    };
    let events = events_after(conn, job_id, &device_id, 0)?;
    Ok(Some(History { device_id, events }))
}

/// A job with all its events.
pub(crate) fn summary(conn: &Connection, job_id: &str) -> Result<Option<JobSummary>, DbError> {
    let row: Option<(String, String, String, Option<String>)> = conn
        .query_row(
            "SELECT device_id, technician, state, reason FROM jobs WHERE id = ?1",
            [job_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((device_id, technician, state, reason)) = row else {
        return Ok(None);
    };
    let events = events_after(conn, job_id, &device_id, 0)?;
    Ok(Some(JobSummary {
        job_id: job_id.to_owned(),
        device_id,
        technician,
        state: parse_column(&state, JobState::parse, "job state")?,
        reason: reason
            .map(|r| parse_column(&r, FailureReason::from_code, "failure reason"))
            .transpose()?,
        events: events.into_iter().map(|(_, e)| e).collect(),
    }))
}

/// A job's events after row `seq`, oldest first.
pub(crate) fn events_after(
    conn: &Connection,
    job_id: &str,
    device_id: &str,
    seq: i64,
) -> Result<Vec<(i64, JobEvent)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, state, reason, message, at FROM job_events WHERE job_id = ?1 AND id > ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![job_id, seq], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (id, state, reason, message, at) = row?;
        events.push((
            id,
            JobEvent {
                job_id: job_id.to_owned(),
                device_id: device_id.to_owned(),
                state: parse_column(&state, JobState::parse, "job state")?,
                reason: reason
                    .map(|r| parse_column(&r, FailureReason::from_code, "failure reason"))
                    .transpose()?,
                message,
                at: clock::from_unix(at),
            },
        ));
    }
    Ok(events)
}
