//! The SQL of pairing jobs. Each state a job reaches is one transaction: the
//! job row, its event, the audit rows, and the device and certificate
//! changes that go with it, so the database never shows half a step.

use crate::db::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::api::{DeviceAlert, DeviceState, FailureReason, JobEvent, JobState, JobSummary};

use super::gate::{self, Closed};
use super::{lease, rate_limit};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::config::RateLimits;
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
        (JobState::Confirming, _) => {
            "The monitor's answer was lost on the network. Confirming with the monitor: waiting for its proof of commit before deciding.".to_owned()
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
    /// The instance that runs it, holding its lease.
    pub(crate) owner: String,
    pub(crate) device_id: String,
    pub(crate) technician: String,
    /// Where the technician's request came from.
    pub(crate) source: Source,
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
    /// Too many requests for this monitor or by this technician: the wait
    /// before one would be admitted.
    RateLimited(std::time::Duration),
    /// Not in the registry.
    UnknownDevice,
    /// The QR token was used before.
    TokenReplayed,
    /// The pairing gate is closed for this device (a job is running, it is
    /// paired, or it was de-provisioned).
    Closed(Closed),
}

/// Records a refused pair request in the audit log.
pub(crate) fn refuse(
    conn: &Connection,
    device_id: &str,
    technician: &str,
    source: &Source,
    code: ErrorCode,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    audit::record(
        conn,
        at,
        &[
            Entry::failed(EventType::PairingRequested, device_id, code.as_str())
                .by(technician)
                .from(source),
        ],
    )
}

/// The running job of a device, if any.
pub(crate) fn active_job(conn: &Connection, device_id: &str) -> Result<Option<String>, DbError> {
    conn.query_row(
        "SELECT id FROM jobs WHERE device_id = ?1 AND state NOT IN ('PROVISIONED', 'FAILED')",
        [device_id],
        |r| r.get(0),
    )
    .optional()
}

/// Counts the request against the rate limits, checks registry, running
/// jobs, the pairing gate and token reuse, and opens the job — all in one
/// transaction, so two requests cannot both pass.
pub(crate) fn open(
    conn: &mut Connection,
    job: &NewJob,
    limits: RateLimits,
) -> Result<Opened, DbError> {
    let tx = conn.transaction()?;
    if let Err(wait) = rate_limit::admit(&tx, limits, &job.device_id, &job.technician, job.at)? {
        refuse(
            &tx,
            &job.device_id,
            &job.technician,
            &job.source,
            ErrorCode::RateLimited,
            job.at,
        )?;
        tx.commit()?;
        return Ok(Opened::RateLimited(wait));
    }
    let Some(device) = devices::get(&tx, &job.device_id)? else {
        refuse(
            &tx,
            &job.device_id,
            &job.technician,
            &job.source,
            ErrorCode::UnknownDevice,
            job.at,
        )?;
        tx.commit()?;
        return Ok(Opened::UnknownDevice);
    };
    let closed = if active_job(&tx, &job.device_id)?.is_some() {
        Err(Closed::InProgress)
    } else {
        let allowed_until = gate::allowed_until(&tx, &job.device_id)?;
        gate::check(device.state, allowed_until, job.at)
    };
    if let Err(closed) = closed {
        refuse(
            &tx,
            &job.device_id,
            &job.technician,
            &job.source,
            closed.code(),
            job.at,
        )?;
        tx.commit()?;
        return Ok(Opened::Closed(closed));
    }
    if let Some(hash) = &job.token_hash {
        let inserted = tx.execute(
            "INSERT INTO used_pairing_tokens (token_hash, device_id, used_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (token_hash) DO NOTHING",
            params![&hash[..], job.device_id, clock::unix(job.at)],
        )?;
        if inserted == 0 {
            refuse(
                &tx,
                &job.device_id,
                &job.technician,
                &job.source,
                ErrorCode::TokenReplayed,
                job.at,
            )?;
            tx.commit()?;
            return Ok(Opened::TokenReplayed);
        }
    }
    tx.execute(
        &format!(
            "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at,
                               owner, lease_until_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, {})",
            lease::until(tx.dialect())
        ),
        params![
            job.job_id,
            job.device_id,
            job.technician,
            JobState::Pairing.as_str(),
            clock::unix(job.at),
            job.owner
        ],
    )?;
    let moved = tx.execute(
        "UPDATE devices SET state_before_pairing = state, state = ?2, updated_at = ?3
         WHERE device_id = ?1 AND state = ?4",
        params![
            job.device_id,
            DeviceState::Pairing.as_str(),
            clock::unix(job.at),
            device.state.as_str()
        ],
    )?;
    if moved != 1 {
        return Err(DbError::Invalid("device state (changed during the check)"));
    }
    audit::record(
        &tx,
        job.at,
        &[Entry::ok(EventType::PairingRequested, &job.device_id)
            .by(&job.technician)
            .from(&job.source)
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
    let seq = conn.query_row(
        "INSERT INTO job_events (job_id, state, reason, message, at, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            event.job_id,
            event.state.as_str(),
            event.reason.map(|reason| reason.code().as_str()),
            event.message,
            clock::unix(event.at),
            clock::unix_ms(event.at)
        ],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE jobs SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
        params![
            event.job_id,
            event.state.as_str(),
            event.reason.map(|reason| reason.code().as_str()),
            clock::unix(event.at)
        ],
    )?;
    Ok(seq)
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

/// What the station needs to record the commit when the monitor's proof of
/// commit arrives as a heartbeat (possibly after a restart), and until when
/// it waits for it.
#[derive(Debug, Clone)]
pub(crate) struct Awaiting {
    pub(crate) confirm_by: OffsetDateTime,
    pub(crate) configuration_hash: String,
    pub(crate) monitor_address: Option<String>,
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
    pub(crate) awaiting: Option<Awaiting>,
    /// Said after the state's own message (how a job was recovered).
    pub(crate) note: Option<std::borrow::Cow<'static, str>>,
}

impl Step {
    /// A step of `job_id` with nothing but its state.
    pub(crate) fn new(job_id: &str, device_id: &str, state: JobState, at: OffsetDateTime) -> Self {
        Self {
            job_id: job_id.to_owned(),
            device_id: device_id.to_owned(),
            state,
            reason: None,
            at,
            audits: Vec::new(),
            certificate: None,
            finish: None,
            awaiting: None,
            note: None,
        }
    }
}

/// What a written step produced.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) seq: i64,
    pub(crate) event: JobEvent,
    /// A certificate was revoked: the CRL must be re-signed.
    pub(crate) revoked: bool,
}

/// Writes a step in one transaction; `None` when the job had already ended
/// (another path decided it first: nothing is written).
pub(crate) fn write(conn: &mut Connection, step: Step) -> Result<Option<Written>, DbError> {
    let tx = conn.transaction()?;
    let written = write_in(&tx, step)?;
    tx.commit()?;
    Ok(written)
}

/// A job's state now.
pub(crate) fn job_state(conn: &Connection, job_id: &str) -> Result<Option<JobState>, DbError> {
    let state: Option<String> = conn
        .query_row("SELECT state FROM jobs WHERE id = ?1", [job_id], |r| {
            r.get(0)
        })
        .optional()?;
    state
        .map(|s| parse_column(&s, JobState::parse, "job state"))
        .transpose()
}

fn write_in(tx: &Connection, step: Step) -> Result<Option<Written>, DbError> {
    // Check and write in one transaction: whichever path ends a job first
    // (its task, the proof of commit, the end of the window, a restart)
    // decides, and the others find it ended.
    if job_state(tx, &step.job_id)?.is_none_or(JobState::is_terminal) {
        return Ok(None);
    }
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
            // A renewal of the old certificate the monitor never used goes
            // with it: the pairing's certificate is the only live one.
            if certificates::revoke_pending_renewals(
                tx,
                &step.device_id,
                Some(serial),
                "superseded",
                step.at,
            )? > 0
            {
                revoked = true;
                audits.push(
                    Entry::ok(EventType::CertificateRevoked, &step.device_id)
                        .by(STATION)
                        .job(&step.job_id),
                );
            }
            // Only from PAIRING: nothing else may move a device while its job
            // runs, and if something did, this rolls back rather than
            // overwrite it (the monitor gets no proof and rolls back too).
            // The pairing a re-provisioning authorised is spent here.
            let paired = tx.execute(
                "UPDATE devices SET state = ?2, state_before_pairing = NULL, certificate_serial = ?3,
                        server_url = ?4, ip_address = COALESCE(?5, ip_address),
                        last_heartbeat_ms = NULL, uptime_seconds = 0, heartbeats = 0,
                        bytes_sent = 0, errors = 0, updated_at = ?6, alert = NULL, alert_ms = NULL,
                        pairing_allowed_until_ms = NULL
                 WHERE device_id = ?1 AND state = 'PAIRING'",
                params![
                    step.device_id,
                    DeviceState::Provisioned.as_str(),
                    serial,
                    server_url,
                    address,
                    clock::unix(step.at)
                ],
            )?;
            if paired != 1 {
                return Err(DbError::Invalid(
                    "device state (left PAIRING during its job)",
                ));
            }
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
    if let Some(awaiting) = &step.awaiting {
        tx.execute(
            "UPDATE jobs SET confirm_by_ms = ?2, configuration_hash = ?3, monitor_address = ?4 WHERE id = ?1",
            params![
                step.job_id,
                clock::unix_ms(awaiting.confirm_by),
                awaiting.configuration_hash,
                awaiting.monitor_address
            ],
        )?;
    }
    audit::record(tx, step.at, &audits)?;
    let mut text = message(step.state, step.reason);
    if let Some(note) = &step.note {
        text.push(' ');
        text.push_str(note);
    }
    let event = JobEvent {
        job_id: step.job_id,
        device_id: step.device_id,
        state: step.state,
        reason: step.reason,
        message: text,
        at: step.at,
    };
    let seq = insert_event(tx, &event)?;
    Ok(Some(Written {
        seq,
        event,
        revoked,
    }))
}

/// A job waiting for the monitor's proof of commit, as the database has it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) job_id: String,
    pub(crate) device_id: String,
    pub(crate) state: JobState,
    pub(crate) awaiting: Option<Awaiting>,
}

/// The job a certificate was issued for, while it runs.
pub(crate) fn pending_for_certificate(
    conn: &Connection,
    serial: &str,
) -> Result<Option<Pending>, DbError> {
    let read = |r: &crate::db::Row| -> Result<(Pending, String), crate::db::DbError> {
        let confirm_by: Option<i64> = r.get(3)?;
        let hash: Option<String> = r.get(4)?;
        let monitor_address: Option<String> = r.get(5)?;
        let pending = Pending {
            job_id: r.get(0)?,
            device_id: r.get(1)?,
            // Parsed below, where a bad value can be reported as such.
            state: JobState::Pairing,
            awaiting: confirm_by
                .zip(hash)
                .map(|(ms, configuration_hash)| Awaiting {
                    confirm_by: clock::from_unix_ms(ms),
                    configuration_hash,
                    monitor_address,
                }),
        };
        Ok((pending, r.get(2)?))
    };
    let row = conn
        .query_row(
            "SELECT j.id, j.device_id, j.state, j.confirm_by_ms, j.configuration_hash, j.monitor_address
             FROM certificates c JOIN jobs j ON j.id = c.job_id
             WHERE c.serial = ?1 AND j.state NOT IN ('PROVISIONED', 'FAILED')",
            [serial],
            read,
        )
        .optional()?;
    row.map(|(pending, state)| {
        Ok(Pending {
            state: parse_column(&state, JobState::parse, "job state")?,
            ..pending
        })
    })
    .transpose()
}

/// What became of a proof of commit.
#[derive(Debug)]
pub(crate) enum Proof {
    /// Recorded: the job is PROVISIONED with this certificate.
    Recorded(Written),
    /// It came after the window: the job failed, the certificate is revoked.
    TooLate(Written),
    /// Already recorded: this is the device's certificate (the answer to an
    /// earlier proof was lost, and the monitor asks again).
    AlreadyRecorded,
    /// The job is not waiting for one.
    NotAwaited,
}

/// The monitor's proof of commit (its connection test over the job's
/// certificate): PROVISIONED if it is inside the window, else the job fails
/// and the certificate is revoked. One transaction either way, read at the
/// moment it runs, so two proofs at once get the same answer.
pub(crate) fn proof_of_commit(
    conn: &mut Connection,
    serial: &str,
    server_url: &str,
) -> Result<Proof, DbError> {
    let tx = conn.transaction()?;
    let at = clock::now();
    let current: Option<String> = tx
        .query_row(
            "SELECT d.certificate_serial FROM devices d JOIN certificates c ON c.device_id = d.device_id
             WHERE c.serial = ?1 AND c.revoked_at IS NULL",
            [serial],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if current.as_deref() == Some(serial) {
        return Ok(Proof::AlreadyRecorded);
    }
    let pending = pending_for_certificate(&tx, serial)?;
    let Some(Pending {
        job_id,
        device_id,
        state,
        awaiting: Some(awaiting),
    }) = pending.filter(|p| matches!(p.state, JobState::Validating | JobState::Confirming))
    else {
        return Ok(Proof::NotAwaited);
    };
    let proof = if at <= awaiting.confirm_by {
        let recovered = state == JobState::Confirming;
        let mut audits = vec![
            Entry::ok(EventType::ConnectionTested, &device_id)
                .by(STATION)
                .job(&job_id),
        ];
        if recovered {
            audits.push(
                Entry::ok(EventType::CommitRecovered, &device_id)
                    .by(STATION)
                    .job(&job_id),
            );
        }
        audits.push(
            Entry::ok(EventType::ProvisioningCompleted, &device_id)
                .by(STATION)
                .job(&job_id)
                .configuration(&awaiting.configuration_hash),
        );
        let mut step = Step::new(&job_id, &device_id, JobState::Provisioned, at);
        step.audits = audits;
        step.finish = Some(Finish::Provisioned {
            serial: serial.to_owned(),
            server_url: server_url.to_owned(),
            address: awaiting.monitor_address,
        });
        step.note = recovered.then_some(
            "The answer to the commit was lost; the monitor's proof of commit confirmed it.".into(),
        );
        write_in(&tx, step)?.map(Proof::Recorded)
    } else {
        write_in(&tx, unconfirmed(&job_id, &device_id, Some(serial), at))?.map(Proof::TooLate)
    };
    tx.commit()?;
    Ok(proof.unwrap_or(Proof::NotAwaited))
}

/// FAILED `commit_unconfirmed`: no proof of commit came within the window,
/// so the monitor rolled back; the certificate is revoked.
fn unconfirmed(job_id: &str, device_id: &str, serial: Option<&str>, at: OffsetDateTime) -> Step {
    let reason = FailureReason::CommitUnconfirmed;
    let mut step = Step::new(job_id, device_id, JobState::Failed, at);
    step.reason = Some(reason);
    step.audits = vec![
        station_failure(EventType::ConnectionTested, device_id, job_id, reason),
        station_failure(EventType::ProvisioningFailed, device_id, job_id, reason),
    ];
    step.finish = Some(Finish::Failed {
        revoke: serial.map(str::to_owned),
    });
    step
}

/// The window of a job waiting for its proof of commit closed: it fails,
/// unless something decided it first (`None`).
pub(crate) fn window_closed(
    conn: &mut Connection,
    job_id: &str,
    at: OffsetDateTime,
) -> Result<Option<Written>, DbError> {
    let tx = conn.transaction()?;
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT j.device_id, c.serial FROM jobs j
             LEFT JOIN certificates c ON c.job_id = j.id AND c.revoked_at IS NULL
             WHERE j.id = ?1 AND j.state IN ('VALIDATING', 'CONFIRMING')",
            [job_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let written = match row {
        Some((device_id, serial)) => {
            write_in(&tx, unconfirmed(job_id, &device_id, serial.as_deref(), at))?
        }
        None => None,
    };
    tx.commit()?;
    Ok(written)
}

/// The alert raised on a device, if any.
pub(crate) fn device_alert(
    conn: &Connection,
    device_id: &str,
) -> Result<Option<DeviceAlert>, DbError> {
    let row: Option<(Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT alert, alert_ms FROM devices WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(message, at)| {
        Some(DeviceAlert {
            message: message?,
            at: clock::from_unix_ms(at?),
        })
    }))
}

/// Raises an alert on the device of a certificate the station refused:
/// the monitor presenting it believes it is paired. Audited once per alert.
pub(crate) fn certificate_refused(
    conn: &Connection,
    serial: &str,
    why: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let Some(cert) = certificates::get(conn, serial)? else {
        return Ok(false);
    };
    // Only a certificate that was once the device's own: a failed pairing's
    // certificate (a proof that came too late) is no sign of a confused monitor.
    let was_current: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND state = 'PROVISIONED')",
        [&cert.job_id],
        |r| r.get(0),
    )?;
    if !was_current {
        return Ok(false);
    }
    let text = format!(
        "The monitor presented a certificate the Central Station refused ({why}): it believes it is paired and is not. It has been told; pair it again."
    );
    raise_alert(conn, &cert.device_id, &text, why, at)
}

/// Raises `text` on a device's status (audited once per alert; a repeat
/// only moves its time). Returns whether it was new.
pub(crate) fn raise_alert(
    conn: &Connection,
    device_id: &str,
    text: &str,
    why: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let raised = conn.execute(
        "UPDATE devices SET alert = ?2, alert_ms = ?3 WHERE device_id = ?1 AND alert IS NULL",
        params![device_id, text, clock::unix_ms(at)],
    )?;
    if raised > 0 {
        audit::record(
            conn,
            at,
            &[Entry::failed(EventType::CertificateRefused, device_id, why).by(STATION)],
        )?;
    } else {
        conn.execute(
            "UPDATE devices SET alert_ms = ?2 WHERE device_id = ?1",
            params![device_id, clock::unix_ms(at)],
        )?;
    }
    Ok(raised > 0)
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

/// What a restart found.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Jobs failed as `interrupted`.
    pub(crate) interrupted: usize,
    /// Jobs whose monitor may have committed: they wait for its proof of
    /// commit until their window closes.
    pub(crate) confirming: Vec<(String, OffsetDateTime)>,
    /// A certificate was revoked: the CRL must be re-signed.
    pub(crate) revoked: bool,
}

/// After a crash. A job that had asked for the commit (VALIDATING or
/// CONFIRMING) may have a monitor that committed: it moves to CONFIRMING and
/// waits for the proof of commit until its window closes, never revoked
/// blindly. Every other running job becomes FAILED (`interrupted`), its
/// certificate (if it issued one) revoked and its device back to its
/// previous state: its monitor never got the commit, and its fail-safe
/// rolls it back.
pub(crate) fn recover(
    conn: &mut Connection,
    at: OffsetDateTime,
    owner: &str,
    whose: Orphaned,
) -> Result<Recovered, DbError> {
    let tx = conn.transaction()?;
    let stuck: Vec<(String, String, String, Option<i64>)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT id, device_id, state, confirm_by_ms FROM jobs
             WHERE state NOT IN ('PROVISIONED', 'FAILED')
               AND (owner IS NULL OR lease_until_ms IS NULL OR lease_until_ms < {}
                    OR (owner = ?1 AND ?2))
             ORDER BY created_at",
            tx.dialect().now_ms()
        ))?;
        let rows = stmt.query_map(params![owner, whose == Orphaned::MineToo], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut recovered = Recovered::default();
    for (job_id, ..) in &stuck {
        // Taken over: this instance now holds the lease (for a job it waits
        // on, and so no other instance takes the same job again).
        tx.execute(
            &format!(
                "UPDATE jobs SET owner = ?2, lease_until_ms = {} WHERE id = ?1",
                lease::until(tx.dialect())
            ),
            params![job_id, owner],
        )?;
    }
    for (job_id, device_id, state, confirm_by) in &stuck {
        let asked_to_commit = matches!(state.as_str(), "VALIDATING" | "CONFIRMING");
        if let (true, Some(confirm_by)) = (asked_to_commit, confirm_by) {
            let confirm_by = clock::from_unix_ms(*confirm_by);
            if state == "VALIDATING" {
                let mut step = Step::new(job_id, device_id, JobState::Confirming, at);
                step.note =
                    Some("The Central Station restarted after asking for the commit.".into());
                write_in(&tx, step)?;
            }
            recovered.confirming.push((job_id.clone(), confirm_by));
            continue;
        }
        let issued: Option<String> = tx
            .query_row(
                "SELECT serial FROM certificates WHERE job_id = ?1 AND revoked_at IS NULL",
                [job_id],
                |r| r.get(0),
            )
            .optional()?;
        let reason = FailureReason::Interrupted;
        let mut step = Step::new(job_id, device_id, JobState::Failed, at);
        step.reason = Some(reason);
        step.audits = vec![station_failure(
            EventType::ProvisioningFailed,
            device_id,
            job_id,
            reason,
        )];
        step.finish = Some(Finish::Failed { revoke: issued });
        if let Some(written) = write_in(&tx, step)? {
            recovered.revoked |= written.revoked;
        }
        recovered.interrupted += 1;
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
    Ok(recovered)
}

/// Which running jobs [`recover`] takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orphaned {
    /// At start: the jobs this instance ran before it stopped, and those
    /// whose lease ran out (their instance died).
    MineToo,
    /// While running: only jobs whose lease ran out.
    Expired,
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
            .map(|r| parse_column(&r, FailureReason::parse, "failure reason"))
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
        Ok((r.get::<_, i64>(0)?, StoredEvent::read(r, 1)?))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (id, stored) = row?;
        events.push((id, stored.into_event(job_id, device_id)?));
    }
    Ok(events)
}

/// A `job_events` row's own columns: state, reason, message, at.
struct StoredEvent {
    state: String,
    reason: Option<String>,
    message: String,
    at: i64,
}

impl StoredEvent {
    /// The four columns from `first` on.
    fn read(row: &crate::db::Row, first: usize) -> Result<Self, DbError> {
        Ok(Self {
            state: row.get(first)?,
            reason: row.get(first + 1)?,
            message: row.get(first + 2)?,
            at: row.get(first + 3)?,
        })
    }

    fn into_event(self, job_id: &str, device_id: &str) -> Result<JobEvent, DbError> {
        Ok(JobEvent {
            job_id: job_id.to_owned(),
            device_id: device_id.to_owned(),
            state: parse_column(&self.state, JobState::parse, "job state")?,
            reason: self
                .reason
                .map(|r| parse_column(&r, FailureReason::parse, "failure reason"))
                .transpose()?,
            message: self.message,
            at: clock::from_unix(self.at),
        })
    }
}

/// One committed step, by its row id, with its job's device: what the
/// listener reads for each step another commit announced, in one query.
pub(crate) fn event(conn: &Connection, seq: i64) -> Result<Option<(i64, JobEvent)>, DbError> {
    let found = conn
        .query_row(
            "SELECT e.job_id, j.device_id, e.state, e.reason, e.message, e.at
             FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE e.id = ?1",
            [seq],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    StoredEvent::read(r, 2)?,
                ))
            },
        )
        .optional()?;
    found
        .map(|(job_id, device_id, stored)| Ok((seq, stored.into_event(&job_id, &device_id)?)))
        .transpose()
}

/// The station's audit row for a job step that failed for `reason`.
fn station_failure(
    event: EventType,
    device_id: &str,
    job_id: &str,
    reason: FailureReason,
) -> Entry {
    Entry::failed(event, device_id, reason.code().as_str())
        .by(STATION)
        .job(job_id)
}
