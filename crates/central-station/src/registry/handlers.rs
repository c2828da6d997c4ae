//! `/api/devices`: register monitors (administrators) and look them up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::api::{ApiError, DeviceImport, DeviceSummary, ImportReport};

use super::{Imported, store};
use crate::accounts::{AdministratorCaller, Caller};
use crate::audit::Source;
use crate::http::{ApiJson, ApiPath, HttpError};
use crate::openapi::{DevicePath, UNKNOWN_DEVICE};
use crate::state::AppState;

/// Register one monitor (administrators).
///
/// Its registration record (as `bedside-monitor init` prints it), plus the
/// registry's label and bed. A monitor already registered is updated, but a
/// paired monitor's identity key is never swapped.
#[utoipa::path(post, path = "/api/devices", operation_id = "registerDevice", tag = "devices",
    request_body = DeviceImport, security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 201, description = "Added.", body = DeviceSummary),
        (status = 200, description = "Updated.", body = DeviceSummary),
        (status = 400, description = "`invalid_request`: the record was refused: a field breaks its rule \
            (the identity key must be a point of the curve), or its identity key differs from the paired monitor's.", body = ApiError),
    ))]
pub(crate) async fn import_one(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiJson(record): ApiJson<DeviceImport>,
) -> Result<(StatusCode, Json<DeviceSummary>), HttpError> {
    let actor = caller.username().to_owned();
    let (report, outcomes, device) = state
        .db()
        .call(move |c| {
            let (report, outcomes) =
                super::import(c, std::slice::from_ref(&record), &actor, &source)?;
            let device = store::get(c, &record.record.device_id)?;
            Ok((report, outcomes, device))
        })
        .await?;
    if let Some(rejection) = report.rejected.into_iter().next() {
        return Err(HttpError::InvalidRequest(rejection.error.message));
    }
    let device = device.ok_or_else(|| HttpError::Internal("imported device not found".into()))?;
    tracing::info!(device_id = %device.device_id, by = %caller.username(), "device registered");
    let status = match outcomes.first() {
        Some(Imported::Updated) => StatusCode::OK,
        _ => StatusCode::CREATED,
    };
    Ok((status, Json(device.summary())))
}

/// Register many monitors (administrators).
///
/// Each record is accepted or refused on its own: one that breaks a rule of
/// `DeviceImport`'s fields is listed in `rejected` with its reason
/// (`invalid_record`, `duplicate_in_import`, `identity_conflict`) and does
/// not stop the others. A body that is not an array of such objects is
/// refused as a whole.
#[utoipa::path(post, path = "/api/devices/import", operation_id = "importDevices", tag = "devices",
    request_body = Vec<DeviceImport>, security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "What went in and what did not.", body = ImportReport)))]
pub(crate) async fn import_many(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiJson(records): ApiJson<Vec<DeviceImport>>,
) -> Result<Json<ImportReport>, HttpError> {
    let actor = caller.username().to_owned();
    let (report, _) = state
        .db()
        .call(move |c| super::import(c, &records, &actor, &source))
        .await?;
    tracing::info!(
        imported = report.imported.len(),
        rejected = report.rejected.len(),
        by = %caller.username(),
        "device import"
    );
    Ok(Json(report))
}

/// The registry.
#[utoipa::path(get, path = "/api/devices", operation_id = "listDevices", tag = "devices",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "Every registered monitor.", body = Vec<DeviceSummary>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<DeviceSummary>>, HttpError> {
    let rows = state.db().call(|c| store::list(c)).await?;
    Ok(Json(rows.iter().map(store::DeviceRow::summary).collect()))
}

/// One registered monitor.
#[utoipa::path(get, path = "/api/devices/{id}", operation_id = "getDevice", tag = "devices",
    params(DevicePath), security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The monitor.", body = DeviceSummary),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(device_id): ApiPath<String>,
) -> Result<Json<DeviceSummary>, HttpError> {
    let row = state
        .db()
        .call(move |c| store::get(c, &device_id))
        .await?
        .ok_or(HttpError::UnknownDevice)?;
    Ok(Json(row.summary()))
}
