//! Signing in and out of the trusted station.

use tauri::State;
use zpair_core::session::SessionError;

use crate::ipc::{Account, AppError};
use crate::state::AppState;

/// Who is signed in: this run's sign-in, or the session saved in the keyring.
#[tauri::command]
pub async fn get_account(state: State<'_, AppState>) -> Result<Option<Account>, AppError> {
    let Some(session) = state.current_session() else {
        return Ok(None);
    };
    if let Some(account) = session.account().await {
        return Ok(Some(account.into()));
    }
    let restored = session.restore().await.map_err(|e| state.reject(e))?;
    Ok(restored.map(Account::from))
}

/// Signs in at the trusted station and keeps the session in the keyring.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> Result<Account, AppError> {
    let session = state.session()?;
    let account = session
        .login(username.trim(), &password)
        .await
        .map_err(|e| state.reject(e))?;
    Ok(account.into())
}

/// Signs out: the saved session is deleted here in any case, and revoked at
/// the station when it can be reached.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), AppError> {
    let Some(session) = state.current_session() else {
        return Ok(());
    };
    match session.logout().await {
        Ok(()) => Ok(()),
        Err(SessionError::Client(e)) => {
            tracing::warn!(error = %e, "signed out here; the station could not be told");
            Ok(())
        }
        Err(e) => Err(state.reject(e)),
    }
}
