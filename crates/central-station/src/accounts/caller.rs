//! The signed-in account behind a request's bearer token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use time::OffsetDateTime;
use zpair_proto::api::{Account, Role};

use crate::clock;
use crate::http::HttpError;
use crate::state::AppState;

/// Who made the request, whatever their password's standing: what the few
/// routes an account with a temporary password may use take (who am I,
/// sign out, change the password). Extracting it answers 401
/// `unauthorized` when the bearer token is missing, unknown, expired or
/// revoked, or its account is disabled.
#[derive(Debug, Clone)]
pub(crate) struct Bearer(pub(crate) Caller);

/// Who made the request, with a password of their own: every other route
/// takes this (or a role's caller built on it), so none can forget that an
/// account whose password an administrator set must change it first (403
/// `password_change_required`), after the 401s of [`Bearer`].
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user_id: i64,
    pub(crate) session_id: i64,
    /// When the bearer token stops working, whatever else happens.
    pub(crate) access_expires_at: OffsetDateTime,
    pub(crate) account: Account,
}

impl Caller {
    /// The account name, for audit rows and job records.
    pub(crate) fn username(&self) -> &str {
        &self.account.username
    }

    /// Refuses with 403 `forbidden_role` unless the account has `role`.
    pub(crate) fn require(&self, role: Role) -> Result<(), HttpError> {
        if self.account.role == role {
            return Ok(());
        }
        Err(HttpError::ForbiddenRole(match role {
            Role::Technician => "only technicians may do this",
            Role::Administrator => "only administrators may do this",
        }))
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(HttpError::Unauthorized)?;
        let hash = super::hash_token(token);
        let now = clock::now();
        state
            .db()
            .call(move |c| super::store::caller_by_access(c, &hash, now))
            .await?
            .map(Bearer)
            .ok_or(HttpError::Unauthorized)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let Bearer(caller) = Bearer::from_request_parts(parts, state).await?;
        if caller.account.must_change_password {
            return Err(HttpError::PasswordChangeRequired);
        }
        Ok(caller)
    }
}
