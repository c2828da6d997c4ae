//! The monitor's HTTPS API for the Central Station (`/provisioning/*`). Every
//! request must carry the station's signature ([`station_only`]); the
//! handlers are thin: they parse, call the core, and turn its answer or its
//! [`ExchangeError`] into a response with a stable `{code, message}` body.

pub mod tls;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use zpair_proto::device::{
    ChallengeRequest, CommitRequest, ConfigureRequest, DeviceCommand, StationSignature,
};

use crate::exchange::ExchangeError;
use crate::monitor::core::Core;
use crate::monitor::station_auth::ReceivedRequest;

/// The routes, on the shared core.
pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route("/provisioning/challenge", post(challenge))
        .route("/provisioning/configure", post(configure))
        .route("/provisioning/commit", post(commit))
        .route("/provisioning/command", post(command))
        .route_layer(middleware::from_fn_with_state(core.clone(), station_only))
        .with_state(core)
}

/// Largest request body: a configuration with its certificates is a few KiB.
const BODY_LIMIT: usize = 256 * 1024;

/// Lets through only requests the trusted station signed (see
/// [`crate::monitor::station_auth`]); the body is read here, once, because
/// the signature covers it.
async fn station_only(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return reply::<()>(Err(ExchangeError::InvalidRequest(
            "The request body is too large or was cut off.",
        )));
    };
    let signed = StationSignature::from_headers(|name| {
        parts.headers.get(name).and_then(|v| v.to_str().ok())
    });
    let received = ReceivedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        body: &body,
    };
    if let Err(e) = core.authenticate_station(received, signed.as_ref(), OffsetDateTime::now_utc())
    {
        tracing::info!(path = received.path, error = %e, "refused a request not from the station");
        return reply::<()>(Err(e));
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

async fn challenge(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    reply(
        parse::<ChallengeRequest>(&body)
            .and_then(|r| core.challenge(&r, OffsetDateTime::now_utc())),
    )
}

async fn configure(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let result = parse::<ConfigureRequest>(&body)
        .and_then(|r| core.configure(&r, OffsetDateTime::now_utc()));
    match &result {
        Ok(_) => core.applying().await,
        Err(e) => tracing::info!(code = %e.code(), "refused a configuration"),
    }
    reply(result)
}

async fn commit(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    match parse::<CommitRequest>(&body) {
        Ok(request) => reply(core.commit(&request).await),
        Err(e) => reply::<()>(Err(e)),
    }
}

async fn command(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    reply(parse::<DeviceCommand>(&body).and_then(|c| core.command(&c, OffsetDateTime::now_utc())))
}

/// Reads a JSON body; anything malformed is a plain `invalid_request`.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ExchangeError> {
    serde_json::from_slice(body).map_err(|_| {
        ExchangeError::InvalidRequest("The request body is not what the monitor expects.")
    })
}

fn reply<T: Serialize>(result: Result<T, ExchangeError>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => (e.status(), axum::Json(e.body())).into_response(),
    }
}
