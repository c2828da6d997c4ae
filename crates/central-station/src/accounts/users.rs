//! `/api/users/{username}/*`: an administrator ends a user's sessions, or
//! disables and enables the account. Each is one function here, audited
//! where it happens (who did it, from where, to which account).

use axum::extract::State;
use axum::http::StatusCode;

use super::{AdministratorCaller, store};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::http::{ApiPath, HttpError};
use crate::state::AppState;

/// `POST /api/users/{username}/sessions/end`: every session of the account
/// stops working now (its streams close); the user signs in again.
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    let name = username.clone();
    let entry = Entry::account(EventType::SessionsEnded, &username)
        .by(caller.username())
        .from(&source);
    let ended = state
        .db()
        .call(move |c| {
            let now = clock::now();
            let ended = store::end_sessions(c, &name, now)?;
            if ended.is_some() {
                audit::record(c, now, &[entry])?;
            }
            Ok(ended)
        })
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
    caller: AdministratorCaller,
    source: Source,
    username: ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    if username.0 == caller.0.username() {
        return Err(HttpError::InvalidRequest(
            "You cannot disable your own account; ask another administrator.".into(),
        ));
    }
    set_disabled(state, caller, source, username, true).await
}

/// `POST /api/users/{username}/enable`: the account may sign in again.
pub(crate) async fn enable(
    state: State<AppState>,
    caller: AdministratorCaller,
    source: Source,
    username: ApiPath<String>,
) -> Result<StatusCode, HttpError> {
    set_disabled(state, caller, source, username, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
    disabled: bool,
) -> Result<StatusCode, HttpError> {
    let name = username.clone();
    let event = if disabled {
        EventType::AccountDisabled
    } else {
        EventType::AccountEnabled
    };
    let entry = Entry::account(event, &username)
        .by(caller.username())
        .from(&source);
    let found = state
        .db()
        .call(move |c| {
            let now = clock::now();
            let found = store::set_disabled(c, &name, disabled, now)?;
            if found {
                audit::record(c, now, &[entry])?;
            }
            Ok(found)
        })
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
