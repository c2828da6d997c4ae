//! The station's monitors: the registry, one monitor's connected status, and
//! re-provisioning.

use tauri::State;
use zpair_core::reprovision::Reprovision;

use crate::ipc::{AppError, ConnectedStatus, DeviceSummary, HistoryAction, HistoryOutcome};
use crate::state::AppState;

/// Every monitor in the station's registry.
#[tauri::command]
pub async fn list_devices(state: State<'_, AppState>) -> Result<Vec<DeviceSummary>, AppError> {
    let session = state.signed_in_session().await?;
    let client = session.client();
    let devices = session
        .authorized(|token| async move { client.list_devices(&token).await })
        .await
        .map_err(|e| state.reject(e))?;
    Ok(devices.into_iter().map(DeviceSummary::from).collect())
}

/// One monitor's connection, certificate and counters.
#[tauri::command]
pub async fn device_status(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<ConnectedStatus, AppError> {
    let session = state.signed_in_session().await?;
    let client = session.client();
    let device_id = device_id.as_str();
    let status = session
        .authorized(|token| async move { client.device_status(&token, device_id).await })
        .await
        .map_err(|e| state.reject(e))?;
    Ok(status.into())
}

/// Re-provisions a monitor: the technician re-typed its device ID and their
/// password; the password buys a one-use confirmation (step-up) that goes
/// with the request.
#[tauri::command]
pub async fn reprovision(
    state: State<'_, AppState>,
    device_id: String,
    password: String,
    reason: String,
    confirm_device_id: String,
) -> Result<DeviceSummary, AppError> {
    let reprovision = Reprovision::new(&device_id, &reason)?;
    reprovision.confirm(&confirm_device_id)?;
    let session = state.signed_in_session().await?;
    let confirmation = reprovision
        .step_up(&session, &password)
        .await
        .map_err(|e| state.reject(e))?;
    let device = reprovision
        .apply(&session, &confirmation)
        .await
        .map_err(|e| state.reject(e))?;
    let device_id = reprovision.device_id();
    tracing::info!(device_id, "re-provisioning confirmed");
    state.history().record_or_warn(
        device_id,
        HistoryAction::Reprovisioned,
        HistoryOutcome::Started,
        None,
    );
    Ok(device.into())
}
