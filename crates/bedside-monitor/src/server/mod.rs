//! The monitor's HTTPS API for the Central Station (`/provisioning/*`). The
//! handlers are thin: they parse, call the core, and turn its answer or its
//! [`ExchangeError`] into a response with a stable `{code, message}` body.

pub mod tls;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use zpair_proto::device::{ChallengeRequest, CommitRequest, ConfigureRequest, DeviceCommand};

use crate::exchange::ExchangeError;
use crate::monitor::core::Core;

/// The routes, on the shared core.
pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route("/provisioning/challenge", post(challenge))
        .route("/provisioning/configure", post(configure))
        .route("/provisioning/commit", post(commit))
        .route("/provisioning/command", post(command))
        .with_state(core)
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
    if let Err(e) = &result {
        tracing::info!(code = e.code(), "refused a configuration");
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
