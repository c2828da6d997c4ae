//! `GET /api/audit?deviceId=&limit=` and `GET /api/audit/verify`, for administrators.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use zpair_proto::api::{AuditEvent, AuditVerification};

use crate::accounts::AdministratorCaller;
use crate::http::{ApiQuery, HttpError};
use crate::state::AppState;

/// Rows returned when no limit is given, and the most one call returns.
const DEFAULT_LIMIT: u32 = 1_000;
const MAX_LIMIT: u32 = 10_000;

/// Query of `GET /api/audit`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditQuery {
    device_id: Option<String>,
    limit: Option<u32>,
}

/// The newest audit rows, oldest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, HttpError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let rows = state
        .db()
        .call(move |c| super::recent(c, query.device_id.as_deref(), limit))
        .await?;
    Ok(Json(rows))
}

/// The hash chain checked end to end: 200 whether intact or not, the answer
/// says which (and where it first breaks).
pub(crate) async fn verify_chain(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
) -> Result<Json<AuditVerification>, HttpError> {
    let path = state.db().path().to_owned();
    let report = tokio::task::spawn_blocking(move || super::chain::verify_file(&path))
        .await
        .map_err(|e| HttpError::Internal(e.to_string()))??;
    Ok(Json(report))
}
