//! A caller of one role, as an extractor. Handlers take these rather than
//! checking the role in their body: extractors of the request's parts run
//! before its body is read, so a caller of another role is refused (403)
//! before anything they sent is parsed or judged — the same answer whatever
//! the body holds (the endpoint × caller matrix test relies on it).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use zpair_proto::api::Role;

use super::Caller;
use crate::http::HttpError;
use crate::state::AppState;

/// A signed-in technician.
#[derive(Debug, Clone)]
pub(crate) struct TechnicianCaller(pub(crate) Caller);

/// A signed-in administrator.
#[derive(Debug, Clone)]
pub(crate) struct AdministratorCaller(pub(crate) Caller);

impl FromRequestParts<AppState> for TechnicianCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Role::Technician)?;
        Ok(Self(caller))
    }
}

impl FromRequestParts<AppState> for AdministratorCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Role::Administrator)?;
        Ok(Self(caller))
    }
}
