//! Pairing a monitor from its device ID and code, and following it.

use tauri::State;

use crate::ipc::{AppError, CodeCheck, Pairing};
use crate::state::AppState;
use zpair_core::pairings::typed_target;

/// The code field as the technician types it: re-formatted, complete or not,
/// and what is already wrong with it.
#[tauri::command]
pub fn check_code(input: String) -> Result<CodeCheck, AppError> {
    Ok(zpair_core::code::check_typed(&input).into())
}

/// Checks the input, then pairs in the background; returns the pairing in
/// SUBMITTING at once, and every later step as `pairing://status`.
#[tauri::command]
pub async fn start_pairing(
    state: State<'_, AppState>,
    device_id: String,
    code: String,
) -> Result<Pairing, AppError> {
    let target = typed_target(&device_id, &code)?;
    let session = state.signed_in_session().await?;
    Ok(state.pairings().start(session, target)?.into())
}

/// Runs a failed pairing again with the same device ID and code.
#[tauri::command]
pub async fn retry_pairing(
    state: State<'_, AppState>,
    pairing_id: String,
) -> Result<Pairing, AppError> {
    let session = state.signed_in_session().await?;
    Ok(state.pairings().retry(session, &pairing_id)?.into())
}

/// Removes a finished pairing from the list.
#[tauri::command]
pub fn dismiss_pairing(state: State<'_, AppState>, pairing_id: String) -> Result<(), AppError> {
    Ok(state.pairings().book().dismiss(&pairing_id)?)
}

/// The pairings of this run, newest first.
#[tauri::command]
pub fn list_pairings(state: State<'_, AppState>) -> Result<Vec<Pairing>, AppError> {
    Ok(state
        .pairings()
        .book()
        .list()
        .into_iter()
        .map(Pairing::from)
        .collect())
}
