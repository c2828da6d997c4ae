//! Endpoints anyone may read: health, the CA certificate, the revocation
//! list, the station's provisioning key and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use zpair_proto::api::StationKey;

use crate::state::AppState;

/// The API document, kept beside the code and checked against the routes.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

const PEM: &str = "application/x-pem-file";

/// `GET /healthz`.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /api/ca/certificate`: the hospital CA, PEM.
pub(crate) async fn ca_certificate(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PEM)], state.ca().pem().to_owned())
}

/// `GET /api/ca/crl`: the current revocation list, PEM.
pub(crate) async fn crl(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PEM)], state.crl_pem())
}

/// `GET /api/provisioning/station-key`: the key monitors trust configurations from.
pub(crate) async fn station_key(State(state): State<AppState>) -> Json<StationKey> {
    Json(StationKey {
        public_key: state.station_public_key(),
    })
}

/// `GET /api/openapi.json`.
pub(crate) async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
