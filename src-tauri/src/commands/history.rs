//! The technician's local history.

use tauri::State;

use crate::ipc::{AppError, HistoryEntry};
use crate::state::AppState;

/// What was paired and re-provisioned on this device, oldest first. Async
/// so the file is read off the main thread.
#[tauri::command]
pub async fn history(state: State<'_, AppState>) -> Result<Vec<HistoryEntry>, AppError> {
    let lines = state.history().entries()?;
    Ok(lines.into_iter().map(HistoryEntry::from).collect())
}
