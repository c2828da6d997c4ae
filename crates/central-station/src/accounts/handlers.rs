//! `/api/auth/*`: sign in, refresh, sign out, who am I, step-up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;
use zpair_proto::api::{
    Account, LoginRequest, RefreshRequest, Role, Session, StepUpRequest, StepUpResponse,
};

use super::caller::ClientAddress;
use super::limits::{self, Attempt, Claim, Settled};
use super::store::{self, NewSession};
use super::tokens::{NewToken, new_token};
use super::{CONFIRMATION_TTL, Caller, hash_token};
use crate::clock;
use crate::http::{ApiJson, HttpError};
use crate::state::AppState;

fn fresh_token() -> Result<NewToken, HttpError> {
    new_token().map_err(|e| HttpError::Internal(e.to_string()))
}

/// A new access/refresh pair for the state's lifetimes, in a sign-in that
/// lasts the configured shift from `now` (a refresh clamps it to the
/// sign-in's end).
fn new_session(
    state: &AppState,
    now: OffsetDateTime,
) -> Result<(NewToken, NewToken, NewSession), HttpError> {
    let config = state.config();
    let access = fresh_token()?;
    let refresh = fresh_token()?;
    let ends_at = now + clock::span(config.session_lifetime);
    let session = NewSession {
        access_hash: access.hash,
        access_expires_at: now + clock::span(config.access_token_ttl),
        refresh_hash: refresh.hash,
        refresh_expires_at: now + clock::span(config.refresh_token_ttl),
        ends_at,
    }
    .ending_at(ends_at);
    Ok((access, refresh, session))
}

fn session_body(
    access: NewToken,
    refresh: NewToken,
    session: &NewSession,
    account: Account,
) -> Session {
    Session {
        access_token: access.text,
        access_expires_at: session.access_expires_at,
        refresh_token: refresh.text,
        refresh_expires_at: session.refresh_expires_at,
        account,
    }
}

/// Checks `password` for `username` (`user` if the name is known) within
/// the limits of [`limits`]: the attempt is counted before the hash is
/// computed, and a refused attempt computes none.
async fn check_password(
    state: &AppState,
    attempt: &Attempt,
    user: Option<&store::UserRow>,
    password: &str,
) -> Result<(), HttpError> {
    let claimed = attempt.clone();
    let claim = state
        .db()
        .call(move |c| limits::claim(c, &claimed, clock::now()))
        .await?;
    match claim {
        Claim::Check => {}
        Claim::AccountLocked => return Err(HttpError::AccountLocked),
        Claim::ClientBackoff(wait) => return Err(HttpError::SignInBackoff(wait)),
    }
    let phc = user.map(|u| u.password_hash.clone());
    let matched = state.passwords().verify(password, phc).await;
    let settled = attempt.clone();
    let outcome = state
        .db()
        .call(move |c| limits::settle(c, &settled, matched, clock::now()))
        .await?;
    match outcome {
        Settled::SignIn => Ok(()),
        Settled::Refused => Err(HttpError::InvalidCredentials),
        Settled::AccountLocked => Err(HttpError::AccountLocked),
    }
}

/// `POST /api/auth/login`. Known and unknown usernames take the same path
/// (an unknown one is hashed against a decoy and locked alike).
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<Session>, HttpError> {
    let username = request.username.clone();
    let user = state
        .db()
        .call(move |c| store::user_by_name(c, &username))
        .await?;
    let attempt = Attempt::new(&request.username, client);
    let checked = check_password(&state, &attempt, user.as_ref(), &request.password).await;
    if let Err(error) = &checked {
        tracing::info!(reason = %error, "sign-in refused");
    }
    checked?;
    let user = user.ok_or(HttpError::InvalidCredentials)?;
    if user.disabled {
        tracing::info!(username = %user.account.username, "sign-in refused: account disabled");
        return Err(HttpError::AccountDisabled);
    }
    let now = clock::now();
    let (access, refresh, session) = new_session(&state, now)?;
    let family = fresh_token()?.text;
    let stored = session.clone();
    let id = user.id;
    state
        .db()
        .call(move |c| store::open_session(c, id, &family, &stored, now))
        .await?;
    tracing::info!(username = %user.account.username, "signed in");
    Ok(Json(session_body(access, refresh, &session, user.account)))
}

/// `POST /api/auth/refresh`: one use; the old pair stops working. The new
/// pair ends when the sign-in does, however often it is refreshed.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, HttpError> {
    let now = clock::now();
    let presented = hash_token(&request.refresh_token);
    let (access, refresh, session) = new_session(&state, now)?;
    let rotated = state
        .db()
        .call(move |c| store::rotate(c, &presented, session, now))
        .await;
    // The old access token was revoked (or, on a replay, the whole family).
    state.revocations().announce();
    let (account, session) = rotated?.ok_or(HttpError::SessionExpired)?;
    Ok(Json(session_body(access, refresh, &session, account)))
}

/// `POST /api/auth/logout`: revokes the bearer's session and the refresh token's.
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, HttpError> {
    let now = clock::now();
    let presented = hash_token(&request.refresh_token);
    let who = caller.clone();
    state
        .db()
        .call(move |c| store::revoke(c, &who, &presented, now))
        .await?;
    state.revocations().announce();
    tracing::info!(username = %caller.username(), "signed out");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`.
pub(crate) async fn me(caller: Caller) -> Json<Account> {
    Json(caller.account)
}

/// `POST /api/auth/step-up`: the technician's password again, for a
/// confirmation token good for one re-provisioning within five minutes.
pub(crate) async fn step_up(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    caller: Caller,
    ApiJson(request): ApiJson<StepUpRequest>,
) -> Result<Json<StepUpResponse>, HttpError> {
    caller.require(Role::Technician)?;
    let id = caller.user_id;
    let user = state
        .db()
        .call(move |c| store::user_by_id(c, id))
        .await?
        .ok_or(HttpError::Unauthorized)?;
    let attempt = Attempt::new(&user.account.username, client);
    check_password(&state, &attempt, Some(&user), &request.password).await?;
    let now = clock::now();
    let token = fresh_token()?;
    let expires_at = now + clock::span(CONFIRMATION_TTL);
    let hash = token.hash;
    state
        .db()
        .call(move |c| store::insert_confirmation(c, &hash, id, expires_at, now))
        .await?;
    tracing::info!(username = %caller.username(), "step-up confirmed");
    Ok(Json(StepUpResponse {
        confirmation_token: token.text,
        expires_at,
    }))
}
