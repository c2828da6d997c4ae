//! `/api/auth/*`: sign in, refresh, sign out, who am I, step-up.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;
use zpair_proto::api::{
    Account, LoginRequest, RefreshRequest, Session, StepUpRequest, StepUpResponse,
};

use super::limits::{self, Attempt, Claim, Settled};
use super::store::{self, Binding, NewSession};
use super::tokens::{NewToken, new_token};
use super::{CONFIRMATION_TTL, Caller, TechnicianCaller, hash_token};
use crate::audit::{self, Entry, EventType, Source};
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
        access_token: access.text.into(),
        access_expires_at: session.access_expires_at,
        refresh_token: refresh.text.into(),
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

/// Checks `password` for `username` (`user` if the name is known) within
/// the limits of [`limits`]: the attempt is counted before the hash is
/// computed, and a refused attempt computes none. Each refusal is audited as
/// `refused` (a failed sign-in or step-up) with its reason, and with an
/// `account_locked` row when this attempt locked the account.
async fn check_password(
    state: &AppState,
    attempt: &Attempt,
    user: Option<&store::UserRow>,
    password: &str,
    refused: EventType,
    source: &Source,
) -> Result<(), HttpError> {
    let typed: String = attempt
        .username()
        .chars()
        .take(MAX_AUDITED_USERNAME)
        .collect();
    let refusal = |why: &str| {
        Entry::account(refused, &typed)
            .by(&typed)
            .from(source)
            .failing(why)
    };
    let claimed = attempt.clone();
    let claim = state
        .db()
        .call(move |c| limits::claim(c, &claimed, clock::now()))
        .await?;
    match claim {
        Claim::Check => {}
        Claim::AccountLocked => {
            audit_refusal(state, vec![refusal("account_locked")]).await?;
            return Err(HttpError::AccountLocked);
        }
        Claim::ClientBackoff(wait) => {
            audit_refusal(state, vec![refusal("rate_limited")]).await?;
            return Err(HttpError::SignInBackoff(wait));
        }
    }
    let phc = user.map(|u| u.password_hash.clone());
    let matched = state.passwords().verify(password, phc).await;
    let settled = attempt.clone();
    let outcome = state
        .db()
        .call(move |c| limits::settle(c, &settled, matched, clock::now()))
        .await?;
    let why = if user.is_some() {
        "invalid_credentials"
    } else {
        "unknown_username"
    };
    match outcome {
        Settled::SignIn => Ok(()),
        Settled::Refused => {
            audit_refusal(state, vec![refusal(why)]).await?;
            Err(HttpError::InvalidCredentials)
        }
        Settled::AccountLocked => {
            let locked = Entry::account(EventType::AccountLocked, &typed)
                .by(&typed)
                .from(source);
            audit_refusal(state, vec![refusal(why), locked]).await?;
            Err(HttpError::AccountLocked)
        }
    }
}

/// `POST /api/auth/login`. Known and unknown usernames take the same path
/// (an unknown one is hashed against a decoy and locked alike).
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
    let attempt = Attempt::new(&request.username, source.ip());
    let checked = check_password(
        &state,
        &attempt,
        user.as_ref(),
        request.password.expose(),
        EventType::SignInFailed,
        &source,
    )
    .await;
    if let Err(error) = &checked {
        tracing::info!(reason = %error, "sign-in refused");
    }
    checked?;
    let user = user.ok_or(HttpError::InvalidCredentials)?;
    if user.disabled {
        tracing::info!(username = %user.account.username, "sign-in refused: account disabled");
        let username = &user.account.username;
        let refusal = Entry::account(EventType::SignInFailed, username)
            .by(username)
            .from(&source)
            .failing("account_disabled");
        audit_refusal(&state, vec![refusal]).await?;
        return Err(HttpError::AccountDisabled);
    }
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
            store::open_session(&tx, id, &family, &stored, now)?;
            audit::record(&tx, now, &[signed_in])?;
            tx.commit()?;
            Ok(())
        })
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
    let presented = hash_token(request.refresh_token.expose());
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
    source: Source,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, HttpError> {
    let now = clock::now();
    let presented = hash_token(request.refresh_token.expose());
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
    state.revocations().announce();
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
    TechnicianCaller(caller): TechnicianCaller,
    source: Source,
    ApiJson(request): ApiJson<StepUpRequest>,
) -> Result<Json<StepUpResponse>, HttpError> {
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
    let attempt = Attempt::new(&user.account.username, source.ip());
    check_password(
        &state,
        &attempt,
        Some(&user),
        request.password.expose(),
        EventType::StepUp,
        &source,
    )
    .await?;
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
            store::insert_confirmation(&tx, &hash, &binding, expires_at, now)?;
            audit::record(&tx, now, &[confirmed])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(username = %caller.username(), device_id, action = request.action.as_str(), "step-up confirmed");
    Ok(Json(StepUpResponse {
        confirmation_token: token.text.into(),
        expires_at,
    }))
}
