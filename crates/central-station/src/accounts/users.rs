//! `/api/users/{username}/*`: an administrator ends a user's sessions, or
//! disables and enables the account. Each is one function here, so the
//! audit can record it where it happens.

use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::api::Role;

use super::{Caller, store};
use crate::clock;
use crate::http::{ApiPath, HttpError};
use crate::state::AppState;

/// `POST /api/users/{username}/sessions/end`: every session of the account
/// stops working now (its streams close); the user signs in again.
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    caller.require(Role::Administrator)?;
    let name = username.clone();
    let ended = state
        .db()
        .call(move |c| store::end_sessions(c, &name, clock::now()))
        .await?
        .ok_or(HttpError::UnknownUser)?;
    state.revocations().announce();
    tracing::info!(by = %caller.username(), %username, ended, "sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/users/{username}/disable`: the account cannot sign in and its
/// sessions end. Administrators cannot disable themselves (someone must be
/// left to enable accounts).
pub(crate) async fn disable(
    state: State<AppState>,
    caller: Caller,
    username: ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    if username.0 == caller.username() {
        caller.require(Role::Administrator)?;
        return Err(HttpError::InvalidRequest(
            "You cannot disable your own account; ask another administrator.".into(),
        ));
    }
    set_disabled(state, caller, username, true).await
}

/// `POST /api/users/{username}/enable`: the account may sign in again.
pub(crate) async fn enable(
    state: State<AppState>,
    caller: Caller,
    username: ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    set_disabled(state, caller, username, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(username): ApiPath<String>,
    disabled: bool,
) -> Result<StatusCode, HttpError> {
    caller.require(Role::Administrator)?;
    let name = username.clone();
    let found = state
        .db()
        .call(move |c| store::set_disabled(c, &name, disabled, clock::now()))
        .await?;
    if !found {
        return Err(HttpError::UnknownUser);
    }
    if disabled {
        state.revocations().announce();
    }
    tracing::info!(by = %caller.username(), %username, disabled, "account changed");
    Ok(StatusCode::NO_CONTENT)
}
