//! `GET /api/reports/pairings` and its CSV export, for administrators.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use zpair_proto::admin::{PairingOutcome, PairingReport, ReportQuery};

use crate::accounts::AdministratorCaller;
use crate::csv;
use crate::http::{ApiQuery, HttpError};
use crate::state::AppState;

/// The report of `query`'s period.
async fn report(state: &AppState, query: ReportQuery) -> Result<PairingReport, HttpError> {
    let (from, to) = super::period(&query).map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
    let report = state
        .db()
        .call(move |c| super::pairing_report(c, from, to, query.technician.as_deref()))
        .await?;
    Ok(report)
}

/// The pairings of a period (administrators): who paired which monitor,
/// when, how long it took, how it ended, and how many times the monitor
/// had to be tried.
///
/// Pairings asked for from `from` up to `to` (at most 31 days), oldest
/// first; a duration runs from the pairing's first step to its last.
#[utoipa::path(get, path = "/api/reports/pairings", operation_id = "pairingReport", tag = "reports",
    params(ReportQuery), security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "The report.", body = PairingReport)))]
pub(crate) async fn pairings(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<PairingReport>, HttpError> {
    Ok(Json(report(&state, query).await?))
}

/// The CSV columns of a pairing.
const HEADER: [&str; 11] = [
    "jobId",
    "deviceId",
    "deviceLabel",
    "bedId",
    "technician",
    "startedAt",
    "finishedAt",
    "durationMs",
    "outcome",
    "failure",
    "attempts",
];

/// The report as CSV: a header row, then one row per pairing.
pub(crate) fn to_csv(report: &PairingReport) -> String {
    let mut text = csv::line(HEADER);
    for p in &report.pairings {
        let outcome = match p.outcome {
            PairingOutcome::Provisioned => "provisioned",
            PairingOutcome::Failed => "failed",
            PairingOutcome::Running => "running",
        };
        text.push_str(&csv::line([
            p.job_id.clone(),
            p.device_id.clone(),
            p.device_label.clone(),
            p.bed_id.clone(),
            p.technician.clone(),
            zpair_proto::timestamp::format(p.started_at),
            p.finished_at
                .map(zpair_proto::timestamp::format)
                .unwrap_or_default(),
            p.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
            outcome.to_owned(),
            p.failure.clone().unwrap_or_default(),
            p.attempts.to_string(),
        ]));
    }
    text
}

/// The pairings of a period as CSV (administrators): the rows of
/// `GET /api/reports/pairings`, under a header row.
#[utoipa::path(get, path = "/api/reports/pairings/export", operation_id = "pairingReportExport", tag = "reports",
    params(ReportQuery), security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "The report, CSV.", content_type = "text/csv", body = String)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, HttpError> {
    let report = report(&state, query).await?;
    Ok(csv::response("pairings.csv", Body::from(to_csv(&report))))
}
