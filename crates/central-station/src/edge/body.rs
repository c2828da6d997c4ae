//! Body limits per route and a deadline on reading a body. A body larger
//! than its route allows is refused with 413 from its `Content-Length`
//! alone, before any of it is read; one sent without a length stops being
//! read at the limit (axum's [`DefaultBodyLimit`]). A body that trickles in
//! is cut at the deadline.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::MethodRouter;
use futures_util::StreamExt as _;

use crate::http::HttpError;
use crate::state::AppState;

/// Sign-in, refresh, step-up and pair requests: a few short fields.
pub(crate) const SMALL: usize = 4 * 1024;
/// Every other request with a body: one record, a reason.
pub(crate) const DEFAULT: usize = 16 * 1024;
/// A bulk import of many thousands of records.
pub(crate) const BULK: usize = 8 * 1024 * 1024;

/// `handler` with its body limited to `limit` bytes.
pub(crate) fn limited(handler: MethodRouter<AppState>, limit: usize) -> MethodRouter<AppState> {
    handler
        .layer::<_, Infallible>(middleware::from_fn(move |request: Request, next: Next| {
            refuse_declared_oversize(request, next, limit)
        }))
        .layer::<_, Infallible>(DefaultBodyLimit::max(limit))
}

async fn refuse_declared_oversize(request: Request, next: Next, limit: usize) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return HttpError::PayloadTooLarge(limit).into_response();
    }
    next.run(request).await
}

/// Gives every request body `timeout` to arrive whole; past it, reading the
/// body fails and the handler answers as for a broken body.
pub(crate) async fn deadline(request: Request, next: Next, timeout: Duration) -> Response {
    let (parts, body) = request.into_parts();
    next.run(Request::from_parts(parts, with_deadline(body, timeout)))
        .await
}

/// The error a body reader sees past the deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

fn with_deadline(body: Body, timeout: Duration) -> Body {
    let until = tokio::time::Instant::now() + timeout;
    let frames = body.into_data_stream();
    Body::from_stream(futures_util::stream::unfold(
        Some(frames),
        move |frames| async move {
            let mut frames = frames?;
            match tokio::time::timeout_at(until, frames.next()).await {
                Ok(Some(frame)) => Some((frame, Some(frames))),
                Ok(None) => None,
                Err(_) => Some((Err(axum::Error::new(BodyTimedOut)), None)),
            }
        },
    ))
}
