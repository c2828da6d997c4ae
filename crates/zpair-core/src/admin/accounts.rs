//! Accounts: list, create (the station chooses a temporary password), reset
//! a password, unlock, disable, enable, end sessions; and the signed-in
//! account's own password change.

use zpair_proto::admin::{AccountRecord, NewAccount, TemporaryPassword};

use super::{AdminError, MIN_PASSWORD_CHARS};
use crate::client::{AccountChange, ClientError};
use crate::error::ErrorCode;
use crate::session::{SessionError, TechnicianSession};

/// Every account, in username order.
pub async fn list(session: &TechnicianSession) -> Result<Vec<AccountRecord>, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.accounts(&token).await })
        .await?)
}

/// Creates an account; its temporary password is shown once.
pub async fn create(
    session: &TechnicianSession,
    account: &NewAccount,
) -> Result<TemporaryPassword, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.create_account(&token, account).await })
        .await?)
}

/// A new temporary password for `username`, who must change it at the next
/// sign-in; their sessions end.
pub async fn reset_password(
    session: &TechnicianSession,
    username: &str,
) -> Result<TemporaryPassword, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.reset_password(&token, username).await })
        .await?)
}

/// Unlocks, disables, enables or ends the sessions of `username`; the
/// account as it is afterwards. A station that answers such a change with
/// no body is asked for the account list, so callers always get the account.
pub async fn change(
    session: &TechnicianSession,
    username: &str,
    change: AccountChange,
) -> Result<AccountRecord, AdminError> {
    let client = session.client();
    let changed = session
        .authorized(|token| async move { client.change_account(&token, username, change).await })
        .await?;
    if let Some(account) = changed {
        return Ok(account);
    }
    list(session)
        .await?
        .into_iter()
        .find(|a| a.username == username)
        .ok_or_else(|| {
            // Changed, then gone before the list was read: as the station
            // would say of an unknown account.
            SessionError::Client(ClientError::Station {
                status: 404,
                error: zpair_proto::api::ApiError::from_code(ErrorCode::UnknownUser),
            })
            .into()
        })
}

/// Checks a new password as the station will (at least
/// [`MIN_PASSWORD_CHARS`] characters, not the current one), before it is sent.
pub fn check_new_password(current: &str, new: &str) -> Result<(), AdminError> {
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::PasswordTooShort);
    }
    if new == current {
        return Err(AdminError::PasswordUnchanged);
    }
    Ok(())
}

/// Changes the signed-in account's own password (required after a
/// temporary one), then reads the account again so the session knows it no
/// longer must change it. The session stays signed in.
pub async fn change_own_password(
    session: &TechnicianSession,
    current: &str,
    new: &str,
) -> Result<(), AdminError> {
    check_new_password(current, new)?;
    let client = session.client();
    session
        .authorized(|token| async move { client.change_password(&token, current, new).await })
        .await?;
    tracing::info!("password changed");
    if let Err(e) = session.reload_account().await {
        // Changed all the same; the next call finds out where the session stands.
        tracing::warn!(error = %e, "account not read again after the password change");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UserFacing;

    #[test]
    fn a_new_password_is_long_enough_and_new() {
        assert!(check_new_password("old password 1", "a fresh long one").is_ok());
        let short = check_new_password("old", "elevenchars").expect_err("short");
        assert_eq!(short.code(), ErrorCode::InvalidInput);
        assert!(short.to_string().contains("at least 12 characters"));
        // Twelve characters, counted as characters rather than bytes.
        assert!(check_new_password("old", "ééééééééééé").is_err());
        assert!(check_new_password("old", "éééééééééééé").is_ok());
        let same = check_new_password("same password", "same password").expect_err("same");
        assert!(matches!(same, AdminError::PasswordUnchanged));
    }
}
