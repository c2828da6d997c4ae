//! The administrators' screens: accounts, the registry and its bulk import,
//! the audit log, pairing reports and certificates; and the signed-in
//! account's own password change. Each command converts and calls
//! `zpair_core::admin`; the station enforces the role.

use std::path::Path;

use tauri::State;
use time::OffsetDateTime;
use zpair_core::admin::exports::{self, Target};
use zpair_core::admin::registry::DeviceDecision;
use zpair_core::admin::{AdminError, accounts, registry};
use zpair_core::client::AccountChange;
use zpair_core::import_file;
use zpair_proto::admin::{
    AccountRecord, AuditPage, AuditQuery, CertificateOverview, DevicePage, DeviceQuery,
    ImportDryRun, NewAccount, PairingReport, ReportQuery, TemporaryPassword,
};
use zpair_proto::api::{AuditVerification, DeviceImport, ImportReport};

use crate::ipc::{AppError, DeviceSummary, ExportedFile, ReportFormat};
use crate::state::AppState;

/// Runs `op` with the signed-in session; its error as the command's rejection.
async fn with_session<T, F, Fut>(state: &AppState, op: F) -> Result<T, AppError>
where
    F: FnOnce(std::sync::Arc<zpair_core::session::TechnicianSession>) -> Fut,
    Fut: std::future::Future<Output = Result<T, AdminError>>,
{
    let session = state.signed_in_session().await?;
    op(session).await.map_err(|e| state.reject(e))
}

/// Every account.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<AccountRecord>, AppError> {
    with_session(&state, |s| async move { accounts::list(&s).await }).await
}

/// Creates an account; its temporary password is shown once.
#[tauri::command]
pub async fn create_account(
    state: State<'_, AppState>,
    account: NewAccount,
) -> Result<TemporaryPassword, AppError> {
    with_session(
        &state,
        |s| async move { accounts::create(&s, &account).await },
    )
    .await
}

/// A new temporary password for an account.
#[tauri::command]
pub async fn reset_password(
    state: State<'_, AppState>,
    username: String,
) -> Result<TemporaryPassword, AppError> {
    with_session(&state, |s| async move {
        accounts::reset_password(&s, &username).await
    })
    .await
}

async fn change(
    state: &AppState,
    username: String,
    change: AccountChange,
) -> Result<AccountRecord, AppError> {
    with_session(state, |s| async move {
        accounts::change(&s, &username, change).await
    })
    .await
}

/// Clears an account's lockout.
#[tauri::command]
pub async fn unlock_account(
    state: State<'_, AppState>,
    username: String,
) -> Result<AccountRecord, AppError> {
    change(&state, username, AccountChange::Unlock).await
}

/// Stops an account from signing in.
#[tauri::command]
pub async fn disable_account(
    state: State<'_, AppState>,
    username: String,
) -> Result<AccountRecord, AppError> {
    change(&state, username, AccountChange::Disable).await
}

/// Lets a disabled account sign in again.
#[tauri::command]
pub async fn enable_account(
    state: State<'_, AppState>,
    username: String,
) -> Result<AccountRecord, AppError> {
    change(&state, username, AccountChange::Enable).await
}

/// Signs an account out everywhere.
#[tauri::command]
pub async fn end_account_sessions(
    state: State<'_, AppState>,
    username: String,
) -> Result<AccountRecord, AppError> {
    change(&state, username, AccountChange::EndSessions).await
}

/// The signed-in account's own password (required after a temporary one).
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    with_session(&state, |s| async move {
        accounts::change_own_password(&s, &current_password, &new_password).await
    })
    .await
}

/// One page of the registry.
#[tauri::command]
pub async fn search_devices(
    state: State<'_, AppState>,
    query: DeviceQuery,
) -> Result<DevicePage, AppError> {
    with_session(
        &state,
        |s| async move { registry::search(&s, &query).await },
    )
    .await
}

/// Registers one monitor.
#[tauri::command]
pub async fn register_device(
    state: State<'_, AppState>,
    record: DeviceImport,
) -> Result<DeviceSummary, AppError> {
    with_session(
        &state,
        |s| async move { registry::register(&s, &record).await },
    )
    .await
    .map(DeviceSummary::from)
}

/// An import file's dry run: read here, checked by the station, nothing written.
#[tauri::command]
pub async fn preview_import(
    state: State<'_, AppState>,
    file_name: String,
    text: String,
) -> Result<ImportDryRun, AppError> {
    let file = import_file::read(&file_name, &text)?;
    with_session(
        &state,
        |s| async move { registry::dry_run(&s, &file).await },
    )
    .await
}

/// Imports the records of the file that could be read.
#[tauri::command]
pub async fn commit_import(
    state: State<'_, AppState>,
    file_name: String,
    text: String,
) -> Result<ImportReport, AppError> {
    let file = import_file::read(&file_name, &text)?;
    with_session(&state, |s| async move { registry::commit(&s, &file).await }).await
}

/// De-provisions a monitor whose device ID the administrator typed again.
#[tauri::command]
pub async fn deprovision_device(
    state: State<'_, AppState>,
    device_id: String,
    reason: String,
    confirm_device_id: String,
) -> Result<DeviceSummary, AppError> {
    let decision = DeviceDecision::new(&device_id, &reason)?;
    decision.confirm(&confirm_device_id)?;
    with_session(&state, |s| async move { decision.deprovision(&s).await })
        .await
        .map(DeviceSummary::from)
}

/// Re-admits a de-provisioned monitor.
#[tauri::command]
pub async fn readmit_device(
    state: State<'_, AppState>,
    device_id: String,
    reason: String,
) -> Result<DeviceSummary, AppError> {
    let decision = DeviceDecision::new(&device_id, &reason)?;
    with_session(&state, |s| async move { decision.readmit(&s).await })
        .await
        .map(DeviceSummary::from)
}

/// One page of the audit log.
#[tauri::command]
pub async fn audit_page(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<AuditPage, AppError> {
    with_session(
        &state,
        |s| async move { exports::audit_page(&s, &query).await },
    )
    .await
}

/// The audit chain's verification.
#[tauri::command]
pub async fn verify_audit(state: State<'_, AppState>) -> Result<AuditVerification, AppError> {
    with_session(&state, |s| async move { exports::verify_audit(&s).await }).await
}

/// Every matching audit row as CSV, in the export folder.
#[tauri::command]
pub async fn export_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<ExportedFile, AppError> {
    let target = export_target(&state, exports::audit_file_name(OffsetDateTime::now_utc()))?;
    with_session(&state, |s| async move {
        exports::export_audit_csv(&s, &query, &target).await
    })
    .await
    .map(ExportedFile::from)
}

/// The pairing report of a period.
#[tauri::command]
pub async fn pairing_report(
    state: State<'_, AppState>,
    query: ReportQuery,
) -> Result<PairingReport, AppError> {
    with_session(&state, |s| async move {
        exports::pairing_report(&s, &query).await
    })
    .await
}

/// The pairing report as CSV or a printable PDF, in the export folder.
#[tauri::command]
pub async fn export_report(
    state: State<'_, AppState>,
    query: ReportQuery,
    format: ReportFormat,
) -> Result<ExportedFile, AppError> {
    let target = export_target(
        &state,
        exports::report_file_name(&query, format.extension()),
    )?;
    with_session(&state, |s| async move {
        match format {
            ReportFormat::Csv => exports::export_report_csv(&s, &query, &target).await,
            ReportFormat::Pdf => exports::export_report_pdf(&s, &query, &target).await,
        }
    })
    .await
    .map(ExportedFile::from)
}

/// Certificates expiring, renewed and revoked.
#[tauri::command]
pub async fn certificate_overview(
    state: State<'_, AppState>,
) -> Result<CertificateOverview, AppError> {
    with_session(&state, |s| async move {
        exports::certificate_overview(&s).await
    })
    .await
}

/// A new file named `name` in the export folder (created if missing).
fn export_target(state: &AppState, name: String) -> Result<Target, AppError> {
    let folder = state
        .export_dir()
        .map(Path::to_owned)
        .ok_or_else(|| AdminError::Write {
            path: name.clone().into(),
            reason: "no download folder is known on this system; set ZPAIR_EXPORT_DIR".into(),
        })?;
    std::fs::create_dir_all(&folder).map_err(|e| AdminError::Write {
        path: folder.clone(),
        reason: e.to_string(),
    })?;
    Ok(Target::NewIn { folder, name })
}
