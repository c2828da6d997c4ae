//! Which station the app talks to, and how its certificate is trusted.

use tauri::State;

use crate::ipc::{AppError, SetupState, StationProbe};
use zpair_core::trust;

use crate::state::AppState;

/// The station and its trust, or nulls before setup. The UI's first call at
/// start: its first screen renders on the answer, so the debug line marks
/// "interactive" for the cold-start benchmark (`cargo xtask bench app`).
#[tauri::command]
pub fn get_setup(state: State<'_, AppState>) -> Result<SetupState, AppError> {
    tracing::debug!("the window asked for its setup");
    Ok(state.setup_state())
}

/// The certificate the station presents, for the technician to compare with
/// the fingerprint IT gave them. Trusts nothing.
#[tauri::command]
pub async fn probe_station(station_url: String) -> Result<StationProbe, AppError> {
    let info = zpair_core::client::probe_station(&station_url).await?;
    Ok(StationProbe::new(&station_url, info))
}

/// Pins the station's certificate, if it presents that fingerprint now.
#[tauri::command]
pub async fn trust_station_fingerprint(
    state: State<'_, AppState>,
    station_url: String,
    fingerprint: String,
) -> Result<SetupState, AppError> {
    let trusted = trust::by_fingerprint(&station_url, &fingerprint).await?;
    Ok(state.use_station(trusted)?)
}

/// Trusts the hospital CA (PEM text), if the station's certificate chains to it.
#[tauri::command]
pub async fn trust_station_ca(
    state: State<'_, AppState>,
    station_url: String,
    ca_pem: String,
) -> Result<SetupState, AppError> {
    let trusted = trust::by_ca(&station_url, &ca_pem).await?;
    Ok(state.use_station(trusted)?)
}
