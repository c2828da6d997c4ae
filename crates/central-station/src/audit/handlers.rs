//! `GET /api/audit`, `GET /api/audit/export` and `GET /api/audit/verify`,
//! for administrators.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use zpair_proto::admin::{AuditPage, AuditQuery};
use zpair_proto::api::{AuditEvent, AuditVerification};

use super::query::{self, Filters};
use crate::accounts::AdministratorCaller;
use crate::csv;
use crate::http::{ApiQuery, HttpError};
use crate::state::AppState;

/// The audit log (administrators): a page of the rows matching every filter
/// given, newest first.
///
/// The next (older) page is the one `before` the previous page's
/// `nextBefore`; rows written meanwhile never shift it.
#[utoipa::path(get, path = "/api/audit", operation_id = "audit", tag = "audit",
    params(AuditQuery), security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "A page of audit rows.", body = AuditPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, HttpError> {
    let page = state
        .db()
        .call(move |c| query::page(c, &query))
        .await?
        .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
    Ok(Json(page))
}

/// Query of `GET /api/audit/export`: the filters of `GET /api/audit`,
/// without paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// Only this monitor's rows.
    device_id: Option<String>,
    /// Only rows this account (or `station`, `admin-cli`) caused.
    actor: Option<String>,
    /// Only rows of this event type.
    #[param(value_type = Option<zpair_proto::schema::AuditEventType>, inline)]
    event_type: Option<String>,
    /// Only rows at or after this time (RFC 3339).
    #[param(value_type = Option<zpair_proto::schema::Timestamp>, inline)]
    since: Option<String>,
    /// Only rows before this time (RFC 3339).
    #[param(value_type = Option<zpair_proto::schema::Timestamp>, inline)]
    until: Option<String>,
}

/// Rows read from the database per chunk of the export.
const EXPORT_CHUNK: u32 = 1_000;

/// The CSV columns of an audit row.
const EXPORT_HEADER: [&str; 11] = [
    "id",
    "timestamp",
    "eventType",
    "deviceId",
    "success",
    "errorMessage",
    "actor",
    "sourceAddress",
    "subject",
    "jobId",
    "configurationHash",
];

fn export_line(event: &AuditEvent) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    csv::line([
        event.id.to_string(),
        zpair_proto::timestamp::format(event.timestamp),
        event.event_type.clone(),
        event.device_id.clone(),
        event.success.to_string(),
        text(&event.error_message),
        text(&event.actor),
        text(&event.source_address),
        text(&event.subject),
        text(&event.job_id),
        text(&event.configuration_hash),
    ])
}

/// The audit log as CSV (administrators): every row matching the filters,
/// oldest first, under a header row.
///
/// Rows written after the export began are not in it. Cells a spreadsheet
/// would run as formulas start with `'`.
#[utoipa::path(get, path = "/api/audit/export", operation_id = "auditExport", tag = "audit",
    params(ExportQuery), security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "The matching rows, CSV.", content_type = "text/csv", body = String)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, HttpError> {
    let filters = Filters::of(&AuditQuery {
        device_id: query.device_id,
        actor: query.actor,
        event_type: query.event_type,
        since: query.since,
        until: query.until,
        ..AuditQuery::default()
    })
    .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
    let head = state.db().call(|c| query::head(c)).await?;
    let db = state.db().clone();
    // Each chunk is one call on the database thread: a long export never
    // holds it, and never holds more than a chunk in memory.
    let rows = futures_util::stream::unfold(Some(0_i64), move |after| {
        let db = db.clone();
        let filters = filters.clone();
        async move {
            let after = after?;
            let chunk = db
                .call(move |c| query::chunk(c, &filters, after, head, EXPORT_CHUNK))
                .await;
            match chunk {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|e| e.id);
                    let text: String = rows.iter().map(export_line).collect();
                    Some((Ok(Bytes::from(text)), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    let header = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(
        Bytes::from(csv::line(EXPORT_HEADER)),
    )));
    use futures_util::StreamExt as _;
    Ok(csv::response(
        "audit.csv",
        Body::from_stream(header.chain(rows)),
    ))
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
    let report = state.db().read_alone(super::chain::verify).await?;
    Ok(Json(report))
}
