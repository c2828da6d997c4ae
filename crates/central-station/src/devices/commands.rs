//! Re-provisioning (technicians, behind a step-up confirmation),
//! de-provisioning and re-admission (administrators): a command signed with
//! the provisioning key is sent to the monitor, and the monitor's certificate
//! is revoked. The state changes themselves are in [`super::transitions`].

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use zpair_proto::api::{
    ApiError, DeprovisionRequest, DeviceSummary, ReadmitRequest, ReprovisionRequest, StepUpAction,
};
use zpair_proto::device::{CommandKind, DeviceCommand};
use zpair_proto::{b64, canonical, crypto};

use super::transitions;
use crate::accounts::store::Binding;
use crate::accounts::{AdministratorCaller, TechnicianCaller, hash_token};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::http::{ApiJson, ApiPath, HttpError};
use crate::monitor::{MonitorClient, MonitorError, MonitorTarget};
use crate::openapi::{DevicePath, UNKNOWN_DEVICE};
use crate::registry::DeviceRow;
use crate::state::AppState;

/// Why a re-provisioning answers 502; the codes are those of the pairing
/// job's failures.
const MONITOR_FAILED: &str = "The monitor could not be reached or refused the command; nothing was changed: \
    `monitor_unreachable`, `signature_invalid` (its TLS key is not its identity key), another failure code \
    the monitor answered with, or `monitor_refused`.";

fn check_reason(reason: &str) -> Result<String, HttpError> {
    zpair_proto::api::check_reason(reason)
        .map(str::to_owned)
        .map_err(|e| HttpError::InvalidRequest(e.to_string()))
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

/// Re-provision a paired monitor (technicians, after a step-up).
///
/// The monitor returns to provisioning mode (keeping its data and its
/// configuration in force), and it may be paired once within the
/// re-provisioning window. Its certificate stays valid until a new pairing
/// supersedes it: a re-pairing that fails leaves the monitor working on its
/// previous configuration (the fail-safe commit). Needs an unused
/// confirmation from this user's step-up in this sign-in, for this device
/// and this action. It is spent only when the change is recorded: an
/// unreachable monitor (502) or a refusal (409) leaves it usable.
#[utoipa::path(post, path = "/api/devices/{id}/reprovision", operation_id = "reprovision", tag = "devices",
    params(DevicePath), request_body = ReprovisionRequest, security(("bearerAuth" = ["technician"])),
    responses(
        (status = 200, description = "Re-provisioned: AWAITING_REPROVISION.", body = DeviceSummary),
        (status = 403, description = "`confirmation_required`: no unused confirmation of this user, sign-in, device and action.", body = ApiError),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
        (status = 409, description = "`device_not_provisioned`: the monitor is not paired; `pairing_in_progress`.", body = ApiError),
        (status = 502, description = MONITOR_FAILED, body = ApiError),
    ))]
pub(crate) async fn reprovision(
    State(state): State<AppState>,
    TechnicianCaller(caller): TechnicianCaller,
    source: Source,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(request): ApiJson<ReprovisionRequest>,
) -> Result<Json<DeviceSummary>, HttpError> {
    let reason = check_reason(&request.reason)?;
    let confirmation = hash_token(request.confirmation_token.expose());
    let binding = Binding::of(&caller, &device_id, StepUpAction::Reprovision);
    let checked = binding.clone();
    let device = state
        .db()
        .call(move |c| transitions::check_reprovision(c, &confirmation, &checked, clock::now()))
        .await?
        .inspect_err(|refused| {
            tracing::info!(username = %caller.username(), %device_id, ?refused, "re-provisioning refused");
        })?;
    let command = command(&state, &device.device_id, CommandKind::Reprovision)?;
    if let Err(e) = deliver(&state, &device, &command).await {
        return Err(not_delivered(&state, command, caller.username(), &reason, source, e).await);
    }
    let actor = caller.username().to_owned();
    let window = clock::span(state.config().reprovision_window);
    let changed = state
        .db()
        .call(move |c| {
            let now = clock::now();
            let order = transitions::Reprovision {
                command: &command,
                confirmation,
                binding: &binding,
                actor: &actor,
                reason: &reason,
                source: &source,
                pairing_until: now + window,
            };
            transitions::reprovision(c, &order, now)
        })
        .await??;
    if changed.revoked {
        state.revocations_changed().await;
    }
    tracing::info!(by = %caller.username(), "monitor re-provisioned");
    Ok(Json(changed.summary))
}

/// Records a re-provision command the monitor did not take, and the answer.
async fn not_delivered(
    state: &AppState,
    command: DeviceCommand,
    actor: &str,
    reason: &str,
    source: Source,
    error: MonitorError,
) -> HttpError {
    tracing::info!(device_id = %command.device_id, %error, "re-provision command not delivered");
    let (actor, reason, failure) = (actor.to_owned(), reason.to_owned(), error.to_string());
    let recorded = state
        .db()
        .call(move |c| {
            transitions::record_command(c, &command, &actor, &reason, false)?;
            audit::record(
                c,
                clock::now(),
                &[Entry::failed(
                    EventType::ReprovisioningStarted,
                    &command.device_id,
                    failure,
                )
                .by(&actor)
                .from(&source)],
            )
        })
        .await;
    if let Err(e) = recorded {
        return e.into();
    }
    match error {
        MonitorError::Refused { error, .. } => HttpError::MonitorRefused(error),
        other => HttpError::Monitor(other.reason()),
    }
}

/// De-provision a monitor (administrators).
///
/// Revokes the monitor's certificate and marks it DEPROVISIONED, then tells
/// the monitor to drop its configuration. The revocation does not wait for
/// the monitor: a lost or stolen one must be cut off all the same; whether
/// the command arrived is in the audit log (`command_delivered`). Refused
/// while a pairing job runs, checked in the same transaction as the change.
#[utoipa::path(post, path = "/api/devices/{id}/deprovision", operation_id = "deprovision", tag = "devices",
    params(DevicePath), request_body = DeprovisionRequest, security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "De-provisioned.", body = DeviceSummary),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
        (status = 409, description = "`pairing_in_progress`.", body = ApiError),
    ))]
pub(crate) async fn deprovision(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(request): ApiJson<DeprovisionRequest>,
) -> Result<Json<DeviceSummary>, HttpError> {
    let reason = check_reason(&request.reason)?;
    let actor = caller.username().to_owned();
    let (device, changed) = state
        .db()
        .call(move |c| transitions::deprovision(c, &device_id, &actor, &source, clock::now()))
        .await??;
    if changed.revoked {
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
            transitions::record_command(c, &command, &actor, &reason, delivered)?;
            let entry = match failure {
                None => Entry::ok(EventType::CommandDelivered, &command.device_id),
                Some(error) => {
                    Entry::failed(EventType::CommandDelivered, &command.device_id, error)
                }
            };
            audit::record(c, clock::now(), &[entry.by(&actor).from(&source)])
        })
        .await?;
    tracing::info!(by = %caller.username(), delivered, "monitor de-provisioned");
    Ok(Json(changed.summary))
}

/// Re-admit a de-provisioned monitor (administrators).
///
/// A DEPROVISIONED monitor (found again, repaired) becomes UNPROVISIONED
/// and may be paired again. Audited with the administrator and the reason.
#[utoipa::path(post, path = "/api/devices/{id}/readmit", operation_id = "readmit", tag = "devices",
    params(DevicePath), request_body = ReadmitRequest, security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "Re-admitted: UNPROVISIONED.", body = DeviceSummary),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
        (status = 409, description = "`device_not_deprovisioned`: nothing to re-admit; `pairing_in_progress`.", body = ApiError),
    ))]
pub(crate) async fn readmit(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(device_id): ApiPath<String>,
    ApiJson(request): ApiJson<ReadmitRequest>,
) -> Result<Json<DeviceSummary>, HttpError> {
    let reason = check_reason(&request.reason)?;
    let actor = caller.username().to_owned();
    let summary = state
        .db()
        .call(move |c| transitions::readmit(c, &device_id, &actor, &reason, &source, clock::now()))
        .await??;
    tracing::info!(by = %caller.username(), device_id = %summary.device_id, "monitor re-admitted");
    Ok(Json(summary))
}
