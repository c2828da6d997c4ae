//! Endpoints anyone may read: health, the CA certificate, the revocation
//! list, the station's provisioning key and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use zpair_proto::api::StationKey;

use crate::http::HttpError;
use crate::state::AppState;

const PEM: &str = "application/x-pem-file";

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    status: HealthStatus,
}

/// The one state a station that answers 200 is in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HealthStatus {
    Ok,
}

/// Liveness and readiness: while the station is stopping (it finishes its
/// running jobs and starts no new one) this answers 503 `station_busy`, so
/// a load balancer sends new work to another instance.
#[utoipa::path(get, path = "/healthz", operation_id = "health", tag = "station",
    responses((status = 200, description = "The station is up and takes pair requests.", body = Health)))]
pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<Health>, HttpError> {
    if state.jobs().draining() {
        return Err(HttpError::Stopping);
    }
    Ok(Json(Health {
        status: HealthStatus::Ok,
    }))
}

/// The hospital CA (also the device CA).
#[utoipa::path(get, path = "/api/ca/certificate", operation_id = "caCertificate", tag = "station",
    responses((status = 200, description = "The CA certificate, PEM.", body = String, content_type = "application/x-pem-file")))]
pub(crate) async fn ca_certificate(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PEM)], state.ca().pem().to_owned())
}

/// The device CA's current revocation list.
///
/// Re-signed whenever a certificate is revoked, and daily. The mTLS port
/// enforces it.
#[utoipa::path(get, path = "/api/ca/crl", operation_id = "certificateRevocationList", tag = "station",
    responses((status = 200, description = "The X.509 CRL, PEM.", body = String, content_type = "application/x-pem-file")))]
pub(crate) async fn crl(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PEM)], state.crl_pem())
}

/// The Ed25519 key monitors trust configurations and commands from.
#[utoipa::path(get, path = "/api/provisioning/station-key", operation_id = "stationKey", tag = "station",
    responses((status = 200, description = "The station's provisioning key.", body = StationKey)))]
pub(crate) async fn station_key(State(state): State<AppState>) -> Json<StationKey> {
    Json(StationKey {
        public_key: state.station_public_key(),
    })
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi", tag = "station",
    responses((status = 200, description = "OpenAPI 3.1, generated from the station's code.", body = Object)))]
pub(crate) async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
}
