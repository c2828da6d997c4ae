//! `/api/auth/*`: sign in, refresh, sign out, who am I, step-up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;
use zpair_proto::api::{
    Account, LoginRequest, RefreshRequest, Role, Session, StepUpRequest, StepUpResponse,
};

use super::store::{self, NewSession};
use super::tokens::{NewToken, new_token};
use super::{CONFIRMATION_TTL, Caller, hash_token};
use crate::audit::{self, Entry, EventType, Source};
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

/// The longest username an audit row keeps of a refused sign-in: what was
/// typed is recorded (it may be a mistyped password), bounded.
const MAX_AUDITED_USERNAME: usize = 64;

/// Audits one refused sign-in or step-up, in its own transaction.
async fn audit_refusal(state: &AppState, entries: Vec<Entry>) -> Result<(), HttpError> {
    let now = clock::now();
    state
        .db()
        .call(move |c| audit::record(c, now, &entries))
        .await?;
    Ok(())
}

/// Checks a password for an account, counting failures towards the lockout.
/// A refusal is audited as `refused` (a failed sign-in or step-up), with an
/// `account_locked` row when this failure locked the account.
async fn check_password(
    state: &AppState,
    user: &store::UserRow,
    password: &str,
    refused: EventType,
    source: &Source,
) -> Result<(), HttpError> {
    let now = clock::now();
    let username = user.account.username.as_str();
    let refusal = |why: &str| {
        Entry::account(refused, username)
            .by(username)
            .from(source)
            .failing(why)
    };
    if user.is_locked(now) {
        audit_refusal(state, vec![refusal("account_locked")]).await?;
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
    let mut entries = vec![refusal("invalid_credentials")];
    let lock = Entry::account(EventType::AccountLocked, username)
        .by(username)
        .from(source);
    let locked = state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            let locked = store::record_failed_login(&tx, id, now)?;
            if locked {
                entries.push(lock);
            }
            audit::record(&tx, now, &entries)?;
            tx.commit()?;
            Ok(locked)
        })
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
    source: Source,
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
        let typed: String = request
            .username
            .chars()
            .take(MAX_AUDITED_USERNAME)
            .collect();
        let refusal = Entry::account(EventType::SignInFailed, &typed)
            .by(&typed)
            .from(&source)
            .failing("unknown_username");
        audit_refusal(&state, vec![refusal]).await?;
        return Err(HttpError::InvalidCredentials);
    };
    check_password(
        &state,
        &user,
        &request.password,
        EventType::SignInFailed,
        &source,
    )
    .await?;
    let now = clock::now();
    let (access, refresh, session) = new_session(&state, now)?;
    let family = fresh_token()?.text;
    let stored = session.clone();
    let id = user.id;
    let username = &user.account.username;
    let signed_in = Entry::account(EventType::SignIn, username)
        .by(username)
        .from(&source);
    state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            store::record_good_login(&tx, id)?;
            store::open_session(&tx, id, &family, &stored, now)?;
            audit::record(&tx, now, &[signed_in])?;
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
    source: Source,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, HttpError> {
    let now = clock::now();
    let presented = hash_token(&request.refresh_token);
    let who = caller.clone();
    let signed_out = Entry::account(EventType::SignOut, caller.username())
        .by(caller.username())
        .from(&source);
    state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            store::revoke(&tx, &who, &presented, now)?;
            audit::record(&tx, now, &[signed_out])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
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
    caller: Caller,
    source: Source,
    ApiJson(request): ApiJson<StepUpRequest>,
) -> Result<Json<StepUpResponse>, HttpError> {
    caller.require(Role::Technician)?;
    let id = caller.user_id;
    let user = state
        .db()
        .call(move |c| store::user_by_id(c, id))
        .await?
        .ok_or(HttpError::Unauthorized)?;
    check_password(&state, &user, &request.password, EventType::StepUp, &source).await?;
    let now = clock::now();
    let token = fresh_token()?;
    let expires_at = now + clock::span(CONFIRMATION_TTL);
    let hash = token.hash;
    let confirmed = Entry::account(EventType::StepUp, caller.username())
        .by(caller.username())
        .from(&source);
    state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            store::record_good_login(&tx, id)?;
            store::insert_confirmation(&tx, &hash, id, expires_at, now)?;
            audit::record(&tx, now, &[confirmed])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(username = %caller.username(), "step-up confirmed");
    Ok(Json(StepUpResponse {
        confirmation_token: token.text,
        expires_at,
    }))
}
