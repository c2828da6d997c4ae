//! `Json`, `Query` and `Path` whose rejections are [`HttpError`]s, so that a
//! malformed request gets the same `{code, message}` body as every other error.
//! The serde text is not echoed back: it can quote the offending value.
//!
//! Each also refuses text holding a NUL character, wherever it is: nothing
//! the station keeps can hold one (PostgreSQL's text cannot), and one bound
//! to a query makes PostgreSQL refuse the whole statement, which would be a
//! 500 deep in a handler instead of a 400 at the door.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::HttpError;

/// A JSON body.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let not_expected = |kind: &str| {
            HttpError::InvalidRequest(format!(
                "The request body is not what this endpoint expects ({kind}). See /api/openapi.json."
            ))
        };
        // Read as JSON first, so NUL is looked for in every string, keys
        // included, whatever `T` keeps of them.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => {
                return Err(not_expected(rejection_kind(rejection.status().as_u16())));
            }
        };
        if holds_nul(&value) {
            return Err(nul_refused());
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|_| not_expected(rejection_kind(422)))
    }
}

/// A JSON body read by hand (a handler that needs its bytes first), with
/// [`ApiJson`]'s checks; `Err(None)` when it is not a `T`.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Option<HttpError>> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| None)?;
    if holds_nul(&value) {
        return Err(Some(nul_refused()));
    }
    serde_json::from_value(value).map_err(|_| None)
}

/// Whether any string in `value`, or any key, holds a NUL character.
fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Whether a URI part, as sent (percent-encoded), decodes to text holding
/// NUL: `%00` is the only way to write one in a URI.
fn encodes_nul(part: &str) -> bool {
    part.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

fn nul_refused() -> HttpError {
    HttpError::InvalidRequest(
        "The request holds a NUL character (\\u0000 or %00), which no field accepts.".into(),
    )
}

/// Query parameters.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(encodes_nul) {
            return Err(nul_refused());
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|_| {
                HttpError::InvalidRequest(
                    "The query parameters are not valid for this endpoint. See /api/openapi.json."
                        .into(),
                )
            })
    }
}

/// Path parameters.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if encodes_nul(parts.uri.path()) {
            return Err(nul_refused());
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_| HttpError::InvalidRequest("The path is not valid.".into()))
    }
}

fn rejection_kind(status: u16) -> &'static str {
    match status {
        413 => "too large",
        415 => "it must be JSON, with Content-Type: application/json",
        422 => "a field is missing or has the wrong type",
        _ => "it is not valid JSON",
    }
}
