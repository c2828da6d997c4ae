//! `Json`, `Query` and `Path` whose rejections are [`HttpError`]s, so that a
//! malformed request gets the same `{code, message}` body as every other error.
//! The serde text is not echoed back: it can quote the offending value.

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
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(HttpError::InvalidRequest(format!(
                "The request body is not what this endpoint expects ({}). See /api/openapi.json.",
                rejection_kind(rejection.status().as_u16())
            ))),
        }
    }
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
