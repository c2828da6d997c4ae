//! `/api/devices`: register monitors (administrators) and look them up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{DevicePage, DeviceQuery, ImportPreview};
use zpair_proto::api::{ApiError, DeviceImport, DeviceSummary, ImportReport};

use super::{Imported, search, store};
use crate::accounts::{AdministratorCaller, Caller};
use crate::audit::Source;
use crate::clock;
use crate::http::{ApiJson, ApiPath, ApiQuery, HttpError};
use crate::openapi::{DevicePath, UNKNOWN_DEVICE};
use crate::state::AppState;

/// Register one monitor (administrators).
///
/// Its registration record (as `bedside-monitor init` prints it), plus the
/// registry's label and bed. A monitor already registered is updated, but
/// never re-keyed: another identity key needs the entry de-provisioned first.
#[utoipa::path(post, path = "/api/devices", operation_id = "registerDevice", tag = "devices",
    request_body = DeviceImport, security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 201, description = "Added.", body = DeviceSummary),
        (status = 200, description = "Updated, or registered so already.", body = DeviceSummary),
        (status = 400, description = "`invalid_request`: a field breaks its rule (the identity key must be a point of the curve).", body = ApiError),
        (status = 409, description = "`identity_conflict`: the monitor is registered with another identity key, or another monitor has this one; \
            `serial_conflict`: another monitor has this serial.", body = ApiError),
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
        return Err(match rejection.error.code {
            ErrorCode::IdentityConflict | ErrorCode::SerialConflict => {
                HttpError::RecordConflict(rejection.error)
            }
            _ => HttpError::InvalidRequest(rejection.error.message),
        });
    }
    let device = device.ok_or_else(|| HttpError::Internal("imported device not found".into()))?;
    tracing::info!(device_id = %device.device_id, by = %caller.username(), "device registered");
    let status = match outcomes.first() {
        Some(Imported::Created) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(device.summary())))
}

/// Register many monitors (administrators).
///
/// Each record is accepted or refused on its own: one that breaks a rule of
/// `DeviceImport`'s fields is listed in `rejected` with its reason
/// (`invalid_record`, `duplicate_in_import`, `identity_conflict`,
/// `serial_conflict`) and does not stop the others. A body that is not an
/// array of such objects is refused as a whole. `POST
/// /api/devices/import/preview` says beforehand what this would do.
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

/// What importing monitors would do (administrators), with nothing written.
///
/// The same records `POST /api/devices/import` takes, judged by the same
/// rules in the same order: for each, whether it would be added, found
/// unchanged, update a registered monitor (and which fields), or be refused
/// (`problem`: the refusal the import would report).
#[utoipa::path(post, path = "/api/devices/import/preview", operation_id = "previewImport", tag = "devices",
    request_body = Vec<DeviceImport>, security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "What the import would do, record by record.", body = ImportPreview)))]
pub(crate) async fn import_preview(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    ApiJson(records): ApiJson<Vec<DeviceImport>>,
) -> Result<Json<ImportPreview>, HttpError> {
    let actor = caller.username().to_owned();
    let preview = state
        .db()
        .call(move |c| super::preview(c, &records, &actor))
        .await?;
    Ok(Json(preview))
}

/// The registry: a search, a filter and a page.
///
/// Any signed-in account. Monitors in device-ID order, `limit` at a time
/// after `after`; `total` counts every match.
#[utoipa::path(get, path = "/api/devices", operation_id = "listDevices", tag = "devices",
    params(DeviceQuery), security(("bearerAuth" = [])),
    responses((status = 200, description = "A page of monitors.", body = DevicePage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<DeviceQuery>,
) -> Result<Json<DevicePage>, HttpError> {
    let page = state
        .db()
        .call(move |c| search::page(c, &query, clock::now()))
        .await?
        .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
    Ok(Json(page))
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
