//! `/api/users…`: administrators list accounts, create them, reset a
//! password, unlock, disable, enable, and end an account's sessions. The
//! rules and the audit rows are in [`directory`]; each handler checks what
//! it was sent, runs one change there and answers the account as it is
//! after it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zpair_proto::admin::{AccountRecord, NewAccount, TemporaryPassword};
use zpair_proto::api::ApiError;

use super::directory::{self, Actor, Outcome};
use super::{AdministratorCaller, temporary};
use crate::audit::Source;
use crate::clock;
use crate::http::{ApiJson, ApiPath, HttpError};
use crate::state::AppState;

/// Why a user endpoint answers 404.
const UNKNOWN_USER: &str = "`unknown_user`: no account has this username.";
/// The path parameter of the user endpoints.
const USERNAME: &str = "The account's username.";

/// Runs one change of [`directory`] on the database thread and answers its
/// account, or its refusal.
async fn administer<T: Send + 'static>(
    state: &AppState,
    change: impl FnOnce(&mut crate::db::Connection) -> Outcome<T> + Send + 'static,
) -> Result<T, HttpError> {
    Ok(state.db().call(change).await??)
}

/// The accounts (administrators), by username.
#[utoipa::path(get, path = "/api/users", operation_id = "listAccounts", tag = "accounts",
    security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "Every account.", body = Vec<AccountRecord>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
) -> Result<Json<Vec<AccountRecord>>, HttpError> {
    let records = state
        .db()
        .call(|c| directory::records(c, clock::now()))
        .await?;
    Ok(Json(records))
}

/// A station-chosen password, hashed: the password to show once, and its hash.
async fn temporary_password(
    state: &AppState,
) -> Result<(zeroize::Zeroizing<String>, String), HttpError> {
    let password = temporary::generate().map_err(|e| HttpError::Internal(e.to_string()))?;
    let hash = state
        .passwords()
        .hash(&password)
        .await
        .map_err(|e| HttpError::Internal(e.to_string()))?;
    Ok((password, hash))
}

/// Create an account (administrators).
///
/// The station chooses its first password, shown in this answer only; the
/// account must change it at its first sign-in.
#[utoipa::path(post, path = "/api/users", operation_id = "createAccount", tag = "accounts",
    request_body = NewAccount, security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 201, description = "Created, with its temporary password.", body = TemporaryPassword),
        (status = 409, description = "`username_taken`: an account has this username (in any case).", body = ApiError),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiJson(account): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<TemporaryPassword>), HttpError> {
    if !zpair_proto::admin::is_username(&account.username) {
        return Err(HttpError::InvalidRequest(
            "username must be 3 to 64 of a-z, 0-9, '.', '_' or '-', starting with a letter.".into(),
        ));
    }
    if !zpair_proto::admin::is_display_name(&account.display_name) {
        return Err(HttpError::InvalidRequest(
            "displayName must be 1 to 100 characters, without control characters.".into(),
        ));
    }
    let (password, hash) = temporary_password(&state).await?;
    let actor = Actor { caller, source };
    let username = account.username.clone();
    let by = actor.caller.username().to_owned();
    administer(&state, move |c| {
        directory::create(c, &actor, &account, &hash, clock::now())
    })
    .await?;
    tracing::info!(%by, %username, "account created");
    Ok((
        StatusCode::CREATED,
        Json(TemporaryPassword {
            username,
            password: password.to_string().into(),
        }),
    ))
}

/// Reset an account's password (administrators).
///
/// The station chooses a temporary password, shown in this answer only; the
/// account's sessions end, its lock is cleared, and it must change the
/// password at its next sign-in. Administrators change their own password
/// with `POST /api/auth/password`.
#[utoipa::path(post, path = "/api/users/{username}/password/reset", operation_id = "resetPassword", tag = "accounts",
    params(("username" = String, Path, description = USERNAME)), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "Reset, with the temporary password.", body = TemporaryPassword),
        (status = 400, description = "`invalid_request`: the administrator's own account.", body = ApiError),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
    ))]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<TemporaryPassword>, HttpError> {
    if username == caller.username() {
        return Err(HttpError::InvalidRequest(
            "To change your own password, use Change password (you need your current one).".into(),
        ));
    }
    let (password, hash) = temporary_password(&state).await?;
    let actor = Actor { caller, source };
    let name = username.clone();
    let by = actor.caller.username().to_owned();
    administer(&state, move |c| {
        directory::reset_password(c, &actor, &name, &hash, clock::now())
    })
    .await?;
    state.revocations().announce();
    tracing::info!(%by, %username, "password reset");
    Ok(Json(TemporaryPassword {
        username,
        password: password.to_string().into(),
    }))
}

/// Unlock an account locked by wrong passwords (administrators).
///
/// Its count of wrong passwords starts again.
#[utoipa::path(post, path = "/api/users/{username}/unlock", operation_id = "unlockAccount", tag = "accounts",
    params(("username" = String, Path, description = USERNAME)), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "The account, unlocked.", body = AccountRecord),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
    ))]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AccountRecord>, HttpError> {
    let actor = Actor { caller, source };
    let by = actor.caller.username().to_owned();
    let record = administer(&state, move |c| {
        directory::unlock(c, &actor, &username, clock::now())
    })
    .await?;
    tracing::info!(%by, username = %record.username, "account unlocked");
    Ok(Json(record))
}

/// End every session of an account (administrators).
///
/// Its sessions stop working now (their streams close); the user signs in
/// again.
#[utoipa::path(post, path = "/api/users/{username}/sessions/end", operation_id = "endSessions", tag = "accounts",
    params(("username" = String, Path, description = USERNAME)), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "The account, without sessions.", body = AccountRecord),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
    ))]
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AccountRecord>, HttpError> {
    let actor = Actor { caller, source };
    let by = actor.caller.username().to_owned();
    let record = administer(&state, move |c| {
        directory::end_sessions(c, &actor, &username, clock::now())
    })
    .await?;
    state.revocations().announce();
    tracing::info!(%by, username = %record.username, "sessions ended");
    Ok(Json(record))
}

/// Disable an account (administrators).
///
/// It cannot sign in and its sessions end. Administrators cannot disable
/// themselves, nor the last enabled administrator (someone must be left to
/// enable accounts).
#[utoipa::path(post, path = "/api/users/{username}/disable", operation_id = "disableAccount", tag = "accounts",
    params(("username" = String, Path, description = USERNAME)), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "The account, disabled.", body = AccountRecord),
        (status = 400, description = "`invalid_request`: an administrator's own account.", body = ApiError),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
        (status = 409, description = "`last_administrator`: the last enabled administrator.", body = ApiError),
    ))]
pub(crate) async fn disable(
    state: State<AppState>,
    caller: AdministratorCaller,
    source: Source,
    username: ApiPath<String>,
) -> Result<Json<AccountRecord>, HttpError> {
    if username.0 == caller.0.username() {
        return Err(HttpError::InvalidRequest(
            "You cannot disable your own account; ask another administrator.".into(),
        ));
    }
    set_disabled(state, caller, source, username, true).await
}

/// Enable an account again (administrators).
#[utoipa::path(post, path = "/api/users/{username}/enable", operation_id = "enableAccount", tag = "accounts",
    params(("username" = String, Path, description = USERNAME)), security(("bearerAuth" = ["administrator"])),
    responses(
        (status = 200, description = "The account, enabled.", body = AccountRecord),
        (status = 404, description = UNKNOWN_USER, body = ApiError),
    ))]
pub(crate) async fn enable(
    state: State<AppState>,
    caller: AdministratorCaller,
    source: Source,
    username: ApiPath<String>,
) -> Result<Json<AccountRecord>, HttpError> {
    set_disabled(state, caller, source, username, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    AdministratorCaller(caller): AdministratorCaller,
    source: Source,
    ApiPath(username): ApiPath<String>,
    disabled: bool,
) -> Result<Json<AccountRecord>, HttpError> {
    let actor = Actor { caller, source };
    let by = actor.caller.username().to_owned();
    let record = administer(&state, move |c| {
        directory::set_disabled(c, &actor, &username, disabled, clock::now())
    })
    .await?;
    if disabled {
        state.revocations().announce();
    }
    tracing::info!(%by, username = %record.username, disabled, "account changed");
    Ok(Json(record))
}
