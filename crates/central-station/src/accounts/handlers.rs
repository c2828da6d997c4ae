//! `/api/auth/*`: sign in, refresh, sign out, who am I, step-up, change
//! one's password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{MIN_PASSWORD_CHARS, PasswordChange};
use zpair_proto::api::{
    Account, ApiError, LoginRequest, RefreshRequest, Session, StepUpRequest, StepUpResponse,
};

use super::limits::{self, Attempt, Claim, Settled};
use super::store::{self, Binding, NewSession};
use super::tokens::{NewToken, new_token};
use super::{Bearer, CONFIRMATION_TTL, TechnicianCaller, directory, hash_token};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::http::{ApiJson, HttpError, checked_device_id};
use crate::state::AppState;

/// Why a sign-in or step-up is refused with 423.
const LOCKED: &str =
    "`account_locked`: too many failed password checks; the account is locked for 15 minutes.";
/// Why a sign-in or step-up is refused with 429.
const BACKOFF: &str = "`rate_limited`: too many failed password checks from this client address.";

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

/// The signed-in caller's password typed again (a step-up, a password
/// change): checked as a sign-in's is, so wrong ones count towards the
/// lockout. Answers the caller's account row.
async fn recheck_password(
    state: &AppState,
    caller: &super::Caller,
    password: &str,
    refused: EventType,
    source: &Source,
) -> Result<store::UserRow, HttpError> {
    let id = caller.user_id;
    let user = state
        .db()
        .call(move |c| store::user_by_id(c, id))
        .await?
        .ok_or(HttpError::Unauthorized)?;
    let attempt = Attempt::new(&user.account.username, source.ip());
    check_password(state, &attempt, Some(&user), password, refused, source).await?;
    Ok(user)
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
            audit_refusal(state, vec![refusal(ErrorCode::AccountLocked.as_str())]).await?;
            return Err(HttpError::AccountLocked);
        }
        Claim::ClientBackoff(wait) => {
            audit_refusal(state, vec![refusal(ErrorCode::RateLimited.as_str())]).await?;
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
    // The answer is `invalid_credentials` either way, so a stranger cannot
    // tell accounts apart; only the audit log says which it was.
    let why = if user.is_some() {
        ErrorCode::InvalidCredentials.as_str()
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

/// Sign in.
///
/// Known and unknown usernames take the same path (an unknown one is hashed
/// against a decoy and locked alike).
#[utoipa::path(post, path = "/api/auth/login", operation_id = "login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = Session),
        (status = 401, description = "`invalid_credentials`: wrong username or password.", body = ApiError),
        (status = 403, description = "`account_disabled`: an administrator disabled the account.", body = ApiError),
        (status = 423, description = LOCKED, body = ApiError),
        (status = 429, description = BACKOFF, body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
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
            .failing(ErrorCode::AccountDisabled.as_str());
        audit_refusal(&state, vec![refusal]).await?;
        return Err(HttpError::AccountDisabled);
    }
    let now = clock::now();
    let (access, refresh, session) = new_session(&state, now)?;
    let family = fresh_token()?.text;
    let stored = session.clone();
    let id = user.id;
    let username = &user.account.username;
    let version = user.credential_version;
    let signed_in = Entry::account(EventType::SignIn, username)
        .by(username)
        .from(&source);
    let opened = state
        .db()
        .call(move |c| {
            let tx = c.transaction()?;
            // The password checked is no longer the account's (reset or
            // changed meanwhile): no session comes of it.
            if !store::open_session(&tx, id, version, &family, &stored, now)? {
                return Ok(false);
            }
            store::signed_in(&tx, id, now)?;
            audit::record(&tx, now, &[signed_in])?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    if !opened {
        return Err(HttpError::InvalidCredentials);
    }
    tracing::info!(username = %user.account.username, "signed in");
    Ok(Json(session_body(access, refresh, &session, user.account)))
}

/// A new token pair for a refresh token.
///
/// One use: the old pair stops working. The new pair ends when the sign-in
/// does, however often it is refreshed.
#[utoipa::path(post, path = "/api/auth/refresh", operation_id = "refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The new pair.", body = Session),
        (status = 401, description = "`session_expired`: the refresh token is unknown, used or expired.", body = ApiError),
    ))]
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

/// Sign out: revokes the bearer's session and the refresh token's.
#[utoipa::path(post, path = "/api/auth/logout", operation_id = "logout", tag = "auth",
    request_body = RefreshRequest, security(("bearerAuth" = [])),
    responses((status = 204, description = "Signed out.")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Bearer(caller): Bearer,
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

/// Who is signed in.
///
/// Answers also an account that must change its password
/// (`mustChangePassword`), as sign-out and the password change do.
#[utoipa::path(get, path = "/api/auth/me", operation_id = "me", tag = "auth",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The bearer's account.", body = Account)))]
pub(crate) async fn me(Bearer(caller): Bearer) -> Json<Account> {
    Json(caller.account)
}

/// Change one's own password (any signed-in account).
///
/// The one request, besides who am I, sign-out and refresh, that an account
/// with a temporary password may make. The current password is checked as
/// a sign-in's is (wrong ones count towards the account's lockout); the new
/// one has at least 12 characters and differs from it. The account's other
/// sessions end; this one goes on.
#[utoipa::path(post, path = "/api/auth/password", operation_id = "changePassword", tag = "auth",
    request_body = PasswordChange, security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "`invalid_request`: the new password is the current one.", body = ApiError),
        (status = 401, description = "`invalid_credentials`: wrong current password.", body = ApiError),
        (status = 423, description = LOCKED, body = ApiError),
        (status = 429, description = BACKOFF, body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    Bearer(caller): Bearer,
    source: Source,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<StatusCode, HttpError> {
    let current = request.current_password.expose();
    let new = request.new_password.expose();
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(HttpError::InvalidRequest(format!(
            "The new password must have at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if new == current {
        return Err(HttpError::InvalidRequest(
            "The new password must differ from the current one.".into(),
        ));
    }
    let user = recheck_password(
        &state,
        &caller,
        current,
        EventType::PasswordChanged,
        &source,
    )
    .await?;
    let hash = state
        .passwords()
        .hash(new)
        .await
        .map_err(|e| HttpError::Internal(e.to_string()))?;
    let version = user.credential_version;
    let who = caller.clone();
    state
        .db()
        .call(move |c| directory::change_password(c, &who, version, &hash, &source, clock::now()))
        .await??;
    state.revocations().announce();
    tracing::info!(username = %caller.username(), "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// The technician's password again, for a confirmation.
///
/// The confirmation token is good for one action on one device, in this
/// sign-in, within five minutes. Wrong passwords count towards the
/// account's lockout as sign-ins do.
#[utoipa::path(post, path = "/api/auth/step-up", operation_id = "stepUp", tag = "auth",
    request_body = StepUpRequest, security(("bearerAuth" = ["technician"])),
    responses(
        (status = 200, description = "Confirmed.", body = StepUpResponse),
        (status = 401, description = "`invalid_credentials`: wrong password.", body = ApiError),
        (status = 423, description = LOCKED, body = ApiError),
        (status = 429, description = BACKOFF, body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
pub(crate) async fn step_up(
    State(state): State<AppState>,
    TechnicianCaller(caller): TechnicianCaller,
    source: Source,
    ApiJson(request): ApiJson<StepUpRequest>,
) -> Result<Json<StepUpResponse>, HttpError> {
    let device_id = checked_device_id(&request.device_id)?;
    let binding = Binding::of(&caller, device_id, request.action);
    recheck_password(
        &state,
        &caller,
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
