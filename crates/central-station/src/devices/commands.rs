//! Re-provisioning (technicians, behind a step-up confirmation) and
//! de-provisioning (administrators): a command signed with the provisioning
//! key is sent to the monitor, and the monitor's certificate is revoked.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use zpair_proto::api::{DeprovisionRequest, DeviceState, DeviceSummary, ReprovisionRequest, Role};
use zpair_proto::device::{CommandKind, DeviceCommand};
use zpair_proto::{b64, canonical, crypto};

use crate::accounts::{Caller, hash_token, store as accounts};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::db::DbError;
use crate::http::{ApiJson, ApiPath, HttpError};
use crate::monitor::{MonitorClient, MonitorError, MonitorTarget};
use crate::pairing::store::active_job;
use crate::pki::certificates;
use crate::registry::{DeviceRow, store as devices};
use crate::state::AppState;

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 500;

fn check_reason(reason: &str) -> Result<String, HttpError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(HttpError::InvalidRequest(format!(
            "Give a reason of 1 to {MAX_REASON_CHARS} characters, for the audit log."
        )));
    }
    Ok(reason.to_owned())
}

/// A signed command for a monitor.
fn command(
    state: &AppState,
    device_id: &str,
    kind: CommandKind,
) -> Result<DeviceCommand, HttpError> {
    let nonce = crypto::random_bytes::<16>().map_err(|e| HttpError::Internal(e.to_string()))?;
    let mut command = DeviceCommand {
        device_id: device_id.to_owned(),
        command: kind,
        issued_at: clock::now(),
        nonce: b64::encode(nonce),
        signature: String::new(),
    };
    command.signature = crypto::sign(
        state.provisioning_key(),
        &canonical::device_command(&command),
    );
    Ok(command)
}

/// Sends a command to the monitor's provisioning API.
async fn deliver(
    state: &AppState,
    device: &DeviceRow,
    command: &DeviceCommand,
) -> Result<(), MonitorError> {
    let address = device
        .address()
        .ok_or_else(|| MonitorError::Unreachable("no address in the registry".into()))?;
    let identity = crypto::parse_public_key(&device.identity_public_key)
        .map_err(|_| MonitorError::IdentityMismatch)?;
    let target = MonitorTarget {
        device_id: &device.device_id,
        identity_key: identity.to_bytes(),
        address: SocketAddr::new(address, state.config().monitor_port),
    };
    let client = MonitorClient::new(target, state.provisioning_key())?;
    client
        .post::<_, serde_json::Value>("/provisioning/command", command)
        .await
        .map(|_| ())
}

fn record_command(
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

/// Revokes the device's current certificate, if it has a live one.
fn revoke_current(
    conn: &Connection,
    device: &DeviceRow,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    match &device.certificate_serial {
        Some(serial) => certificates::revoke(conn, serial, reason, now),
        None => Ok(false),
    }
}

async fn load_device(state: &AppState, device_id: String) -> Result<DeviceRow, HttpError> {
    state
        .db()
        .call(move |c| devices::get(c, &device_id))
        .await?
        .ok_or(HttpError::UnknownDevice)
}

async fn ensure_no_job(state: &AppState, device_id: &str) -> Result<(), HttpError> {
    let id = device_id.to_owned();
    if state
        .db()
        .call(move |c| active_job(c, &id))
        .await?
        .is_some()
    {
        return Err(HttpError::PairingInProgress);
    }
    Ok(())
}

/// `POST /api/devices/{id}/reprovision`: the monitor returns to provisioning
/// mode (keeping its data) and its certificate is revoked. Needs the
/// Technician role and an unused confirmation from this user's step-up. If the
/// monitor cannot be reached, nothing is revoked (502).
pub(crate) async fn reprovision(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(request): ApiJson<ReprovisionRequest>,
) -> Result<Json<DeviceSummary>, HttpError> {
    caller.require(Role::Technician)?;
    let reason = check_reason(&request.reason)?;
    let device = load_device(&state, device_id).await?;
    let hash = hash_token(&request.confirmation_token);
    let user = caller.user_id;
    let now = clock::now();
    let confirmed = state
        .db()
        .call(move |c| accounts::consume_confirmation(c, &hash, user, now))
        .await?;
    if !confirmed {
        tracing::info!(username = %caller.username(), device_id = %device.device_id, "re-provisioning without a valid confirmation");
        return Err(HttpError::ConfirmationRequired);
    }
    ensure_no_job(&state, &device.device_id).await?;
    if device.state != DeviceState::Provisioned {
        return Err(HttpError::DeviceNotProvisioned);
    }
    let command = command(&state, &device.device_id, CommandKind::Reprovision)?;
    if let Err(e) = deliver(&state, &device, &command).await {
        tracing::info!(device_id = %device.device_id, error = %e, "re-provision command not delivered");
        let (cmd, actor, why) = (
            command.clone(),
            caller.username().to_owned(),
            reason.clone(),
        );
        let failure = e.to_string();
        state
            .db()
            .call(move |c| {
                record_command(c, &cmd, &actor, &why, false)?;
                audit::record(
                    c,
                    clock::now(),
                    &[
                        Entry::failed(EventType::ReprovisioningStarted, &cmd.device_id, failure)
                            .by(&actor)
                            .from(&source),
                    ],
                )
            })
            .await?;
        return Err(match e {
            MonitorError::Refused { error, .. } => HttpError::MonitorRefused(error),
            other => HttpError::Monitor(other.reason()),
        });
    }
    let actor = caller.username().to_owned();
    let (summary, revoked) = state
        .db()
        .call(move |c| {
            let now = clock::now();
            let tx = c.transaction()?;
            record_command(&tx, &command, &actor, &reason, true)?;
            let revoked = revoke_current(&tx, &device, "reprovisioned", now)?;
            devices::set_state(
                &tx,
                &device.device_id,
                DeviceState::AwaitingReprovision,
                now,
            )?;
            let mut entries = vec![
                Entry::ok(EventType::ReprovisioningStarted, &device.device_id)
                    .by(&actor)
                    .from(&source),
            ];
            if revoked {
                entries.push(
                    Entry::ok(EventType::CertificateRevoked, &device.device_id)
                        .by(&actor)
                        .from(&source),
                );
            }
            audit::record(&tx, now, &entries)?;
            let summary = devices::get(&tx, &device.device_id)?.map(|d| d.summary());
            tx.commit()?;
            Ok((summary, revoked))
        })
        .await?;
    if revoked {
        state.revocations_changed().await;
    }
    tracing::info!(by = %caller.username(), "monitor re-provisioned");
    summary
        .map(Json)
        .ok_or_else(|| HttpError::Internal("device vanished".into()))
}

/// `POST /api/devices/{id}/deprovision` (administrators): revokes the
/// monitor's certificate and marks it DEPROVISIONED, then tells the monitor
/// to drop its configuration. The revocation does not wait for the monitor:
/// a lost or stolen one must be cut off all the same; whether the command
/// arrived is in the audit log (`command_delivered`).
pub(crate) async fn deprovision(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(request): ApiJson<DeprovisionRequest>,
) -> Result<Json<DeviceSummary>, HttpError> {
    caller.require(Role::Administrator)?;
    let reason = check_reason(&request.reason)?;
    let device = load_device(&state, device_id).await?;
    ensure_no_job(&state, &device.device_id).await?;
    let actor = caller.username().to_owned();
    let row = device.clone();
    let (summary, revoked) = state
        .db()
        .call(move |c| {
            let now = clock::now();
            let tx = c.transaction()?;
            let revoked = revoke_current(&tx, &row, "deprovisioned", now)?;
            devices::set_state(&tx, &row.device_id, DeviceState::Deprovisioned, now)?;
            let mut entries = vec![
                Entry::ok(EventType::Deprovisioned, &row.device_id)
                    .by(&actor)
                    .from(&source),
            ];
            if revoked {
                entries.push(
                    Entry::ok(EventType::CertificateRevoked, &row.device_id)
                        .by(&actor)
                        .from(&source),
                );
            }
            audit::record(&tx, now, &entries)?;
            let summary = devices::get(&tx, &row.device_id)?.map(|d| d.summary());
            tx.commit()?;
            Ok((summary, revoked))
        })
        .await?;
    if revoked {
        state.revocations_changed().await;
    }
    let command = command(&state, &device.device_id, CommandKind::Deprovision)?;
    let delivery = deliver(&state, &device, &command).await;
    let (actor, delivered) = (caller.username().to_owned(), delivery.is_ok());
    let failure = delivery.err().map(|e| e.to_string());
    if let Some(error) = &failure {
        tracing::info!(device_id = %device.device_id, %error, "de-provision command not delivered");
    }
    state
        .db()
        .call(move |c| {
            record_command(c, &command, &actor, &reason, delivered)?;
            let entry = match failure {
                None => Entry::ok(EventType::CommandDelivered, &command.device_id),
                Some(error) => {
                    Entry::failed(EventType::CommandDelivered, &command.device_id, error)
                }
            };
            audit::record(c, clock::now(), &[entry.by(&actor)])
        })
        .await?;
    tracing::info!(by = %caller.username(), delivered, "monitor de-provisioned");
    summary
        .map(Json)
        .ok_or_else(|| HttpError::Internal("device vanished".into()))
}
