//! The station's monitors: the registry, one monitor's connected status, and
//! re-provisioning.

use tauri::State;
use zpair_proto::api::StepUpAction;

use crate::ipc::{AppError, ConnectedStatus, DeviceSummary, HistoryAction, HistoryOutcome};
use crate::state::{AppState, StateError};

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
    if confirm_device_id.trim() != device_id.trim() {
        return Err(StateError::ConfirmationMismatch { device_id }.into());
    }
    let session = state.signed_in_session().await?;
    let client = session.client();
    let (device_id, password, reason) = (device_id.trim(), password.as_str(), reason.trim());
    let device = session
        .authorized(|token| async move {
            let confirmation = client
                .step_up(&token, password, device_id, StepUpAction::Reprovision)
                .await?;
            client
                .reprovision(&token, device_id, &confirmation.confirmation_token, reason)
                .await
        })
        .await
        .map_err(|e| state.reject(e))?;
    tracing::info!(device_id, "re-provisioning confirmed");
    state.history().record_or_warn(
        device_id,
        HistoryAction::Reprovisioned,
        HistoryOutcome::Started,
        None,
    );
    Ok(device.into())
}
