//! `/api/devices`: register monitors (administrators) and look them up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::api::{DeviceImport, DeviceSummary, ImportReport};

use super::{Imported, store};
use crate::accounts::{AdministratorCaller, Caller};
use crate::audit::Source;
use crate::http::{ApiJson, ApiPath, HttpError};
use crate::state::AppState;

/// `POST /api/devices`: one record; 201 when added, 200 when updated.
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

/// `POST /api/devices/import`: many records, each accepted or refused on its own.
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

/// `GET /api/devices`.
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<DeviceSummary>>, HttpError> {
    let rows = state.db().call(|c| store::list(c)).await?;
    Ok(Json(rows.iter().map(store::DeviceRow::summary).collect()))
}

/// `GET /api/devices/{id}`.
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
