//! `GET /api/audit?deviceId=&limit=` and `GET /api/audit/verify`, for administrators.

use axum::Json;
use axum::extract::State;
use std::borrow::Cow;

use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use zpair_proto::api::{AuditEvent, AuditVerification};

use crate::accounts::AdministratorCaller;
use crate::http::{ApiQuery, HttpError};
use crate::state::AppState;

/// Rows returned when no limit is given.
const DEFAULT_LIMIT: u32 = 1_000;
/// The most rows one call returns.
const MAX_LIMIT: u32 = 10_000;

/// Query of `GET /api/audit`. Unknown parameters are refused, as unknown
/// body fields are: a misspelt filter would otherwise return every row.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only this monitor's rows (empty: the account events, which name no monitor).
    device_id: Option<String>,
    /// The newest this many rows, returned oldest first.
    #[param(value_type = Option<Limit>, inline)]
    limit: Option<u32>,
}

/// The schema of `limit`, from the bounds the handler applies.
#[derive(Debug)]
enum Limit {}

impl PartialSchema for Limit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(DEFAULT_LIMIT.into()))
            .into()
    }
}

impl ToSchema for Limit {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AuditLimit")
    }
}

/// The audit log (administrators): the newest rows, oldest first.
#[utoipa::path(get, path = "/api/audit", operation_id = "audit", tag = "audit",
    params(AuditQuery), security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "Audit rows.", body = Vec<AuditEvent>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, HttpError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(HttpError::InvalidRequest(format!(
            "limit must be 1 to {MAX_LIMIT} rows."
        )));
    }
    let rows = state
        .db()
        .call(move |c| super::recent(c, query.device_id.as_deref(), limit))
        .await?;
    Ok(Json(rows))
}

/// The audit log's hash chain, checked end to end (administrators).
///
/// 200 whether intact or not: the answer says which, and where it first
/// breaks.
#[utoipa::path(get, path = "/api/audit/verify", operation_id = "auditVerify", tag = "audit",
    security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "The chain checked.", body = AuditVerification)))]
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
