//! `/api/users/{username}/*`: an administrator ends a user's sessions, or
//! disables and enables the account. Each is one function here, audited
//! where it happens (who did it, from where, to which account).

use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::api::ApiError;

use super::{AdministratorCaller, store};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::http::{ApiPath, HttpError};
use crate::state::AppState;

/// Why a user endpoint answers 404.
const UNKNOWN_USER: &str = "`unknown_user`: no account has this username.";

/// End every session of an account (administrators).
///
/// Its sessions stop working now (their streams close); the user signs in
/// again.
#[utoipa::path(post, path = "/api/users/{username}/sessions/end", operation_id = "endSessions", tag = "accounts",
    params(("username" = String, Path, description = "The account's username.")), security(("bearerAuth" = ["administrator"])),
    responses((status = 204, description = "Ended."), (status = 404, description = UNKNOWN_USER, body = ApiError)))]
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

/// Disable an account (administrators).
///
/// It cannot sign in and its sessions end. Administrators cannot disable
/// themselves (someone must be left to enable accounts).
#[utoipa::path(post, path = "/api/users/{username}/disable", operation_id = "disableAccount", tag = "accounts",
    params(("username" = String, Path, description = "The account's username.")), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 204, description = "Disabled."),
        (status = 400, description = "`invalid_request`: an administrator's own account.", body = ApiError),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
    ))]
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

/// Enable an account again (administrators).
#[utoipa::path(post, path = "/api/users/{username}/enable", operation_id = "enableAccount", tag = "accounts",
    params(("username" = String, Path, description = "The account's username.")), security(("bearerAuth" = ["administrator"])),
    responses((status = 204, description = "Enabled."), (status = 404, description = UNKNOWN_USER, body = ApiError)))]
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
