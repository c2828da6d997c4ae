//! The SQL of the state changes people order — re-provision, de-provision,
//! re-admit. Each checks and writes in one transaction with conditional
//! updates (`UPDATE … WHERE state …` and the rows changed counted), so a
//! pairing opened, a job finishing or another operator acting in between is
//! seen and refused, never overwritten.

use crate::db::{Connection, params};
use time::OffsetDateTime;
use zpair_proto::api::{DeviceState, DeviceSummary};
use zpair_proto::device::DeviceCommand;

use crate::accounts::store::{self as accounts, Binding};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::db::DbError;
use crate::http::HttpError;
use crate::pairing::store::active_job;
use crate::pki::certificates;
use crate::registry::{DeviceRow, store as devices};

/// Why a change was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not in the registry.
    UnknownDevice,
    /// A pairing job for the device is running.
    PairingInProgress,
    /// Re-provisioning a device that is not paired.
    NotProvisioned,
    /// Re-admitting a device that is not de-provisioned.
    NotDeprovisioned,
    /// The step-up confirmation is not usable for this.
    ConfirmationRequired,
}

impl From<Refused> for HttpError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::UnknownDevice => HttpError::UnknownDevice,
            Refused::PairingInProgress => HttpError::PairingInProgress,
            Refused::NotProvisioned => HttpError::DeviceNotProvisioned,
            Refused::NotDeprovisioned => HttpError::DeviceNotDeprovisioned,
            Refused::ConfirmationRequired => HttpError::ConfirmationRequired,
        }
    }
}

/// What a change produced.
#[derive(Debug, Clone)]
pub(crate) struct Changed {
    /// The device as it is now.
    pub(crate) summary: DeviceSummary,
    /// A certificate was revoked: the CRL must be re-signed.
    pub(crate) revoked: bool,
}

/// The device has no running job (SQL, on a `devices` row).
const NO_RUNNING_JOB: &str =
    "NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.device_id = devices.device_id
     AND jobs.state NOT IN ('PROVISIONED', 'FAILED'))";

/// Re-provisioning starts from a paired device, or renews the window of one
/// already re-provisioned (its pairing did not happen in time).
fn reprovisionable(state: DeviceState) -> bool {
    matches!(
        state,
        DeviceState::Provisioned | DeviceState::AwaitingReprovision
    )
}

/// Why a device could not take a change that expected it in another state.
fn refusal(
    conn: &Connection,
    device_id: &str,
    otherwise: Refused,
) -> Result<(Option<DeviceRow>, Refused), DbError> {
    let Some(device) = devices::get(conn, device_id)? else {
        return Ok((None, Refused::UnknownDevice));
    };
    if device.state == DeviceState::Pairing || active_job(conn, device_id)?.is_some() {
        return Ok((Some(device), Refused::PairingInProgress));
    }
    Ok((Some(device), otherwise))
}

/// Before the monitor is sent anything: whether a re-provisioning would be
/// accepted now. Spends nothing.
pub(crate) fn check_reprovision(
    conn: &Connection,
    confirmation: &[u8; 32],
    binding: &Binding,
    now: OffsetDateTime,
) -> Result<Result<DeviceRow, Refused>, DbError> {
    if devices::get(conn, &binding.device_id)?.is_none() {
        return Ok(Err(Refused::UnknownDevice));
    }
    if !accounts::confirmation_usable(conn, confirmation, binding, now)? {
        return Ok(Err(Refused::ConfirmationRequired));
    }
    match refusal(conn, &binding.device_id, Refused::NotProvisioned)? {
        (Some(device), Refused::NotProvisioned) if reprovisionable(device.state) => Ok(Ok(device)),
        (_, refused) => Ok(Err(refused)),
    }
}

/// A re-provisioning the monitor accepted, to record.
#[derive(Debug)]
pub(crate) struct Reprovision<'a> {
    pub(crate) command: &'a DeviceCommand,
    pub(crate) confirmation: [u8; 32],
    pub(crate) binding: &'a Binding,
    pub(crate) actor: &'a str,
    pub(crate) reason: &'a str,
    /// Where the request came from, for the audit log.
    pub(crate) source: &'a Source,
    /// The end of the one pairing it authorises.
    pub(crate) pairing_until: OffsetDateTime,
}

/// Records a re-provisioning: the confirmation spent, the device
/// AWAITING_REPROVISION with its one pairing allowed until
/// `pairing_until`. Its certificate stays valid until the pairing it allows
/// supersedes it, so a failed re-pairing leaves the monitor working on its
/// previous configuration. All or nothing: a refusal leaves the
/// confirmation unspent.
pub(crate) fn reprovision(
    conn: &mut Connection,
    order: &Reprovision<'_>,
    now: OffsetDateTime,
) -> Result<Result<Changed, Refused>, DbError> {
    let tx = conn.transaction()?;
    let device_id = order.binding.device_id.as_str();
    let moved = tx.execute(
        &format!(
            "UPDATE devices SET state = 'AWAITING_REPROVISION', pairing_allowed_until_ms = ?2, updated_at = ?3
             WHERE device_id = ?1 AND state IN ('PROVISIONED', 'AWAITING_REPROVISION') AND {NO_RUNNING_JOB}"
        ),
        params![device_id, clock::unix_ms(order.pairing_until), clock::unix(now)],
    )?;
    if moved != 1 {
        return Ok(Err(refusal(&tx, device_id, Refused::NotProvisioned)?.1));
    }
    if !accounts::spend_confirmation(&tx, &order.confirmation, order.binding, now)? {
        // Dropping `tx` rolls the state change back.
        return Ok(Err(Refused::ConfirmationRequired));
    }
    record_command(&tx, order.command, order.actor, order.reason, true)?;
    let started = Entry::ok(EventType::ReprovisioningStarted, device_id)
        .by(order.actor)
        .from(order.source);
    audit::record(&tx, now, &[started])?;
    let changed = changed(&tx, device_id, false)?;
    tx.commit()?;
    Ok(Ok(changed))
}

/// De-provisions a device: DEPROVISIONED, its certificate revoked, any
/// pairing a re-provisioning allowed withdrawn. Refused while a job runs.
/// Returns the row as it was, for the command to the monitor.
pub(crate) fn deprovision(
    conn: &mut Connection,
    device_id: &str,
    actor: &str,
    source: &Source,
    now: OffsetDateTime,
) -> Result<Result<(DeviceRow, Changed), Refused>, DbError> {
    let tx = conn.transaction()?;
    let Some(before) = devices::get(&tx, device_id)? else {
        return Ok(Err(Refused::UnknownDevice));
    };
    let moved = tx.execute(
        &format!(
            "UPDATE devices SET state = 'DEPROVISIONED', pairing_allowed_until_ms = NULL, updated_at = ?2
             WHERE device_id = ?1 AND state <> 'PAIRING' AND {NO_RUNNING_JOB}"
        ),
        params![device_id, clock::unix(now)],
    )?;
    if moved != 1 {
        return Ok(Err(Refused::PairingInProgress));
    }
    let revoked = revoke_current(&tx, device_id, "deprovisioned", now)?;
    let mut entries = vec![
        Entry::ok(EventType::Deprovisioned, device_id)
            .by(actor)
            .from(source),
    ];
    if revoked {
        entries.push(
            Entry::ok(EventType::CertificateRevoked, device_id)
                .by(actor)
                .from(source),
        );
    }
    audit::record(&tx, now, &entries)?;
    let changed = changed(&tx, device_id, revoked)?;
    tx.commit()?;
    Ok(Ok((before, changed)))
}

/// Re-admits a de-provisioned device: UNPROVISIONED, so it may be paired
/// again (by anyone standing at it), its alert cleared; the reason is kept.
pub(crate) fn readmit(
    conn: &mut Connection,
    device_id: &str,
    actor: &str,
    reason: &str,
    source: &Source,
    now: OffsetDateTime,
) -> Result<Result<DeviceSummary, Refused>, DbError> {
    let tx = conn.transaction()?;
    let moved = tx.execute(
        "UPDATE devices SET state = 'UNPROVISIONED', state_before_pairing = NULL,
                pairing_allowed_until_ms = NULL, alert = NULL, alert_ms = NULL, updated_at = ?2
         WHERE device_id = ?1 AND state = 'DEPROVISIONED'",
        params![device_id, clock::unix(now)],
    )?;
    if moved != 1 {
        return Ok(Err(refusal(&tx, device_id, Refused::NotDeprovisioned)?.1));
    }
    tx.execute(
        "INSERT INTO device_readmissions (device_id, actor, reason, at) VALUES (?1, ?2, ?3, ?4)",
        params![device_id, actor, reason, clock::unix(now)],
    )?;
    audit::record(
        &tx,
        now,
        &[Entry::ok(EventType::Readmitted, device_id)
            .by(actor)
            .from(source)],
    )?;
    let summary = changed(&tx, device_id, false)?.summary;
    tx.commit()?;
    Ok(Ok(summary))
}

fn changed(conn: &Connection, device_id: &str, revoked: bool) -> Result<Changed, DbError> {
    let device = devices::get(conn, device_id)?.ok_or(DbError::Invalid("device (vanished)"))?;
    Ok(Changed {
        summary: device.summary(),
        revoked,
    })
}

/// Keeps a command sent (or not) to a monitor, with its reason.
pub(crate) fn record_command(
    conn: &Connection,
    command: &DeviceCommand,
    actor: &str,
    reason: &str,
    delivered: bool,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO device_commands (device_id, command, nonce, issued_at, actor, reason, delivered)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            command.device_id,
            command.command.as_str(),
            command.nonce,
            clock::unix(command.issued_at),
            actor,
            reason,
            delivered
        ],
    )?;
    Ok(())
}

/// Revokes the device's current certificate, as the transaction sees it,
/// if it is live.
fn revoke_current(
    conn: &Connection,
    device_id: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    // An unused renewal of the current certificate goes with it.
    let renewals = certificates::revoke_pending_renewals(conn, device_id, None, reason, now)?;
    let current = match devices::get(conn, device_id)?.and_then(|d| d.certificate_serial) {
        Some(serial) => certificates::revoke(conn, &serial, reason, now)?,
        None => false,
    };
    Ok(current || renewals > 0)
}
