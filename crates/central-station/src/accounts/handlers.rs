//! `/api/auth/*`: sign in, refresh, sign out, who am I, step-up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;
use zpair_proto::api::{
    Account, LoginRequest, RefreshRequest, Role, Session, StepUpRequest, StepUpResponse,
};

use super::store::{self, Binding, NewSession};
use super::tokens::{NewToken, new_token};
use super::{CONFIRMATION_TTL, Caller, hash_token};
use crate::clock;
use crate::http::{ApiJson, HttpError};
use crate::state::AppState;

fn fresh_token() -> Result<NewToken, HttpError> {
    new_token().map_err(|e| HttpError::Internal(e.to_string()))
}

/// A new access/refresh pair for the state's lifetimes.
fn new_session(
    state: &AppState,
    now: OffsetDateTime,
) -> Result<(NewToken, NewToken, NewSession), HttpError> {
    let access = fresh_token()?;
    let refresh = fresh_token()?;
    let session = NewSession {
        access_hash: access.hash,
        access_expires_at: now + clock::span(state.config().access_token_ttl),
        refresh_hash: refresh.hash,
        refresh_expires_at: now + clock::span(state.config().refresh_token_ttl),
    };
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

/// Checks a password for an account, counting failures towards the lockout.
async fn check_password(
    state: &AppState,
    user: &store::UserRow,
    password: &str,
) -> Result<(), HttpError> {
    let now = clock::now();
    if user.is_locked(now) {
        return Err(HttpError::AccountLocked);
    }
    if state
        .passwords()
        .verify(password, Some(user.password_hash.clone()))
        .await
    {
        return Ok(());
    }
    let id = user.id;
    let locked = state
        .db()
        .call(move |c| store::record_failed_login(c, id, now))
        .await?;
    tracing::info!(username = %user.account.username, locked, "wrong password");
    Err(if locked {
        HttpError::AccountLocked
    } else {
        HttpError::InvalidCredentials
    })
}

/// `POST /api/auth/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<Session>, HttpError> {
    let username = request.username.clone();
    let user = state
        .db()
        .call(move |c| store::user_by_name(c, &username))
        .await?;
    let Some(user) = user else {
        // Same work as a wrong password, so unknown names cannot be told apart.
        state.passwords().verify(&request.password, None).await;
        tracing::info!("sign-in refused: unknown username");
        return Err(HttpError::InvalidCredentials);
    };
    check_password(&state, &user, &request.password).await?;
    let now = clock::now();
    let (access, refresh, session) = new_session(&state, now)?;
    let family = fresh_token()?.text;
    let stored = session.clone();
    let id = user.id;
    state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            store::record_good_login(&tx, id)?;
            store::open_session(&tx, id, &family, &stored, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(username = %user.account.username, "signed in");
    Ok(Json(session_body(access, refresh, &session, user.account)))
}

/// `POST /api/auth/refresh`: one use; the old pair stops working.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, HttpError> {
    let now = clock::now();
    let presented = hash_token(&request.refresh_token);
    let (access, refresh, session) = new_session(&state, now)?;
    let stored = session.clone();
    let account = state
        .db()
        .call(move |c| store::rotate(c, &presented, &stored, now))
        .await?
        .ok_or(HttpError::SessionExpired)?;
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
    tracing::info!(username = %caller.username(), "signed out");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`.
pub(crate) async fn me(caller: Caller) -> Json<Account> {
    Json(caller.account)
}

/// `POST /api/auth/step-up`: the technician's password again, for a
/// confirmation token good for one action on one device, in this sign-in,
/// within five minutes.
pub(crate) async fn step_up(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<StepUpRequest>,
) -> Result<Json<StepUpResponse>, HttpError> {
    caller.require(Role::Technician)?;
    let device_id = request.device_id.trim();
    if device_id.is_empty() || device_id.len() > 64 {
        return Err(HttpError::InvalidRequest(
            "deviceId is required: the monitor the confirmation is for.".into(),
        ));
    }
    let binding = Binding::of(&caller, device_id, request.action);
    let id = caller.user_id;
    let user = state
        .db()
        .call(move |c| store::user_by_id(c, id))
        .await?
        .ok_or(HttpError::Unauthorized)?;
    check_password(&state, &user, &request.password).await?;
    let now = clock::now();
    let token = fresh_token()?;
    let expires_at = now + clock::span(CONFIRMATION_TTL);
    let hash = token.hash;
    state
        .db()
        .call(move |c| {
            store::record_good_login(c, id)?;
            store::insert_confirmation(c, &hash, &binding, expires_at, now)
        })
        .await?;
    tracing::info!(username = %caller.username(), device_id, action = request.action.as_str(), "step-up confirmed");
    Ok(Json(StepUpResponse {
        confirmation_token: token.text,
        expires_at,
    }))
}
