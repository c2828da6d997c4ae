//! The technician's session with one Central Station: sign-in, tokens kept
//! in a [`SecretStore`] between runs, refresh before expiry and after a
//! refused token, sign-out.
//!
//! Refresh tokens are one-use and rotated by the station, so two refreshes
//! racing would make the second fail and end the session: the token state
//! sits behind one async lock, held across the refresh call.

use std::future::Future;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::sync::{Mutex, MutexGuard};
use zpair_proto::api::{Account, Session};

use crate::client::{ClientError, StationClient};
use crate::error::{ErrorCode, UserFacing};
use crate::secret::Secret;
use crate::secret_store::{SecretStore, SecretStoreError};

/// An access token this close to expiry is refreshed before use, so a call
/// never starts with a token that dies on the way.
pub const REFRESH_MARGIN: Duration = Duration::seconds(60);

/// Why the session cannot give a token.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Nobody signed in (or signed out).
    #[error("You are not signed in. Sign in, then try again.")]
    NotSignedIn,
    /// The refresh token expired or was refused; the stored session is gone.
    #[error("Your session ended. Sign in again.")]
    Expired,
    /// The station refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The secret store failed.
    #[error(transparent)]
    Store(#[from] SecretStoreError),
}

impl UserFacing for SessionError {
    fn code(&self) -> ErrorCode {
        match self {
            SessionError::NotSignedIn => ErrorCode::NotSignedIn,
            SessionError::Expired => ErrorCode::SessionExpired,
            SessionError::Client(e) => e.code(),
            SessionError::Store(e) => e.code(),
        }
    }
}

/// The tokens of a signed-in session, each in a [`Secret`].
struct Tokens {
    access: Secret<String>,
    access_expires_at: OffsetDateTime,
    refresh: Secret<String>,
    refresh_expires_at: OffsetDateTime,
    account: Account,
}

impl From<Session> for Tokens {
    fn from(session: Session) -> Self {
        Self {
            access: session.access_token.into(),
            access_expires_at: session.access_expires_at,
            refresh: session.refresh_token.into(),
            refresh_expires_at: session.refresh_expires_at,
            account: session.account,
        }
    }
}

impl Tokens {
    /// The stored form: the station's `Session` JSON, all of it secret. The
    /// copies of the tokens it is built from are wiped when it is dropped.
    fn to_stored(&self) -> Result<Secret<String>, serde_json::Error> {
        let session = Session {
            access_token: self.access.expose().clone().into(),
            access_expires_at: self.access_expires_at,
            refresh_token: self.refresh.expose().clone().into(),
            refresh_expires_at: self.refresh_expires_at,
            account: self.account.clone(),
        };
        serde_json::to_string(&session).map(Secret::new)
    }

    fn from_stored(stored: &Secret<String>) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<Session>(stored.expose()).map(Tokens::from)
    }
}

/// A technician signed in (or not yet) at one Central Station.
pub struct TechnicianSession {
    client: StationClient,
    store: Arc<dyn SecretStore>,
    tokens: Mutex<Option<Tokens>>,
}

impl std::fmt::Debug for TechnicianSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TechnicianSession")
            .field("station", &self.client.station_url())
            .finish_non_exhaustive()
    }
}

impl TechnicianSession {
    /// A signed-out session; call [`Self::restore`] or [`Self::login`].
    pub fn new(client: StationClient, store: Arc<dyn SecretStore>) -> Self {
        Self {
            client,
            store,
            tokens: Mutex::new(None),
        }
    }

    /// The station client, for calls made with [`Self::access_token`] or
    /// [`Self::authorized`].
    pub fn client(&self) -> &StationClient {
        &self.client
    }

    /// One secret-store entry per station.
    fn key(&self) -> &str {
        self.client.station_url()
    }

    /// Signs in and stores the session.
    pub async fn login(&self, username: &str, password: &str) -> Result<Account, SessionError> {
        let session = self.client.login(username, password).await?;
        let tokens = Tokens::from(session);
        let account = tokens.account.clone();
        let mut guard = self.tokens.lock().await;
        self.save(&tokens)?;
        *guard = Some(tokens);
        tracing::info!(username = %account.username, "signed in");
        Ok(account)
    }

    /// Loads the stored session, if any and not past its refresh expiry.
    /// An unreadable or ended one is deleted.
    pub async fn restore(&self) -> Result<Option<Account>, SessionError> {
        let mut guard = self.tokens.lock().await;
        let Some(stored) = self.store.get(self.key())? else {
            *guard = None;
            return Ok(None);
        };
        let tokens = match Tokens::from_stored(&stored) {
            Ok(tokens) => tokens,
            Err(e) => {
                tracing::warn!(error = %e, "stored session unreadable; deleting it");
                self.store.delete(self.key())?;
                *guard = None;
                return Ok(None);
            }
        };
        if tokens.refresh_expires_at <= OffsetDateTime::now_utc() {
            self.store.delete(self.key())?;
            *guard = None;
            return Ok(None);
        }
        let account = tokens.account.clone();
        *guard = Some(tokens);
        Ok(Some(account))
    }

    /// Who is signed in, as of the last sign-in or refresh (no network).
    pub async fn account(&self) -> Option<Account> {
        self.tokens.lock().await.as_ref().map(|t| t.account.clone())
    }

    /// A valid access token, refreshed first when it expires within
    /// [`REFRESH_MARGIN`]. A refused refresh ends the session:
    /// [`SessionError::Expired`], and the stored entry is deleted.
    pub async fn access_token(&self) -> Result<Secret<String>, SessionError> {
        let mut guard = self.tokens.lock().await;
        let tokens = guard.as_ref().ok_or(SessionError::NotSignedIn)?;
        if tokens.access_expires_at - REFRESH_MARGIN > OffsetDateTime::now_utc() {
            return Ok(tokens.access.clone());
        }
        self.refresh_locked(&mut guard).await
    }

    /// Runs `op` with an access token; if the station refuses that token
    /// (`401 unauthorized`, e.g. revoked or the clocks disagree), refreshes
    /// once and runs `op` again.
    pub async fn authorized<T, F, Fut>(&self, op: F) -> Result<T, SessionError>
    where
        F: Fn(Secret<String>) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let token = self.access_token().await?;
        match op(token.clone()).await {
            Err(e) if e.is_unauthorized() => {
                let fresh = self.refresh_after_refusal(&token).await?;
                match op(fresh).await {
                    Err(e) if e.is_unauthorized() => {
                        // A brand-new token refused too: the account cannot go on.
                        self.forget(&mut self.tokens.lock().await)?;
                        Err(SessionError::Expired)
                    }
                    other => other.map_err(SessionError::from),
                }
            }
            other => other.map_err(SessionError::from),
        }
    }

    /// `GET /api/auth/me` with the session's token: checks that the session
    /// still works and returns the account.
    pub async fn me(&self) -> Result<Account, SessionError> {
        self.authorized(|token| async move { self.client.me(&token).await })
            .await
    }

    /// `GET /api/auth/me`, kept as the session's account: after the station
    /// changed it (a temporary password replaced), [`Self::account`] says so.
    pub async fn reload_account(&self) -> Result<Account, SessionError> {
        let account = self.me().await?;
        let mut guard = self.tokens.lock().await;
        if let Some(tokens) = guard.as_mut() {
            tokens.account = account.clone();
            if let Err(e) = self.save(tokens) {
                tracing::warn!(error = %e, "the session's account could not be stored");
            }
        }
        Ok(account)
    }

    /// Revokes the tokens at the station and deletes the stored entry. The
    /// entry is deleted even when the station cannot be told; a station that
    /// already considers the tokens dead is not an error.
    pub async fn logout(&self) -> Result<(), SessionError> {
        let mut guard = self.tokens.lock().await;
        let tokens = match guard.take() {
            Some(tokens) => Some(tokens),
            None => match self.store.get(self.key())? {
                Some(stored) => Tokens::from_stored(&stored).ok(),
                None => None,
            },
        };
        self.store.delete(self.key())?;
        let Some(tokens) = tokens else {
            return Ok(());
        };
        match self.client.logout(&tokens.access, &tokens.refresh).await {
            Ok(()) => Ok(()),
            Err(e) if is_refused(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Refreshes unless another caller already replaced the refused token.
    async fn refresh_after_refusal(
        &self,
        refused: &Secret<String>,
    ) -> Result<Secret<String>, SessionError> {
        let mut guard = self.tokens.lock().await;
        let tokens = guard.as_ref().ok_or(SessionError::NotSignedIn)?;
        if tokens.access != *refused {
            return Ok(tokens.access.clone());
        }
        self.refresh_locked(&mut guard).await
    }

    async fn refresh_locked(
        &self,
        guard: &mut MutexGuard<'_, Option<Tokens>>,
    ) -> Result<Secret<String>, SessionError> {
        let tokens = guard.as_ref().ok_or(SessionError::NotSignedIn)?;
        if tokens.refresh_expires_at <= OffsetDateTime::now_utc() {
            self.forget(guard)?;
            return Err(SessionError::Expired);
        }
        match self.client.refresh(&tokens.refresh).await {
            Ok(session) => {
                let fresh = Tokens::from(session);
                let access = fresh.access.clone();
                if let Err(e) = self.save(&fresh) {
                    // The old refresh token is spent: keep going in memory
                    // rather than fail a call that has valid tokens.
                    tracing::warn!(error = %e, "refreshed session could not be stored");
                }
                **guard = Some(fresh);
                tracing::debug!("session refreshed");
                Ok(access)
            }
            Err(e) if is_refused(&e) => {
                self.forget(guard)?;
                Err(SessionError::Expired)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn forget(&self, guard: &mut MutexGuard<'_, Option<Tokens>>) -> Result<(), SessionError> {
        **guard = None;
        self.store.delete(self.key())?;
        tracing::info!("session ended");
        Ok(())
    }

    fn save(&self, tokens: &Tokens) -> Result<(), SessionError> {
        let stored = tokens.to_stored().map_err(|e| SecretStoreError::Failed {
            operation: "save",
            reason: e.to_string(),
        })?;
        self.store.set(self.key(), &stored)?;
        Ok(())
    }
}

/// The station refused the tokens themselves (as opposed to failing).
fn is_refused(error: &ClientError) -> bool {
    matches!(error, ClientError::Station { status: 401, .. })
        || matches!(
            error.station_code(),
            Some(ErrorCode::Unauthorized | ErrorCode::SessionExpired)
        )
}
