//! Technician and administrator accounts: Argon2id passwords, short-lived
//! access tokens with one-use rotating refresh tokens, lockout after repeated
//! failures counted before each check, sign-ins that end after a shift,
//! accounts administrators create, reset, unlock, disable and enable
//! (station-chosen temporary passwords, changed at the next sign-in), and
//! step-up confirmations for re-provisioning.
//!
//! Tokens are 32 random bytes, base64url; the station keeps only their SHA-256,
//! so a copy of the database signs nobody in.

mod caller;
mod directory;
pub(crate) mod handlers;
mod limits;
mod password;
mod roles;
mod session_end;
pub(crate) mod store;
mod temporary;
mod tokens;
pub(crate) mod users;

pub(crate) use caller::{Bearer, Caller};
pub(crate) use handlers::{change_password, login, logout, me, refresh, step_up};
pub(crate) use password::PasswordCheck;
pub(crate) use roles::{AdministratorCaller, TechnicianCaller};
pub(crate) use session_end::Revocations;
pub(crate) use tokens::hash_token;
pub(crate) use users::{
    create as create_account, disable, enable, end_sessions, list, reset_password, unlock,
};

use std::time::Duration;

use zpair_proto::api::Role;

use crate::audit;

/// The routes an account with a temporary password may use (they take a
/// [`Bearer`]; every other signed-in route a [`Caller`], which refuses it).
pub(crate) const OPEN_TO_TEMPORARY_PASSWORDS: &[&str] =
    &["/api/auth/me", "/api/auth/logout", "/api/auth/password"];

/// Password checks per account per [`LOCKOUT`] window without a right one;
/// the next attempt locks the account.
pub(crate) const MAX_FAILED_LOGINS: i64 = 5;
/// How long a locked account stays locked.
pub(crate) const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// How long a step-up confirmation is good for.
pub(crate) const CONFIRMATION_TTL: Duration = Duration::from_secs(5 * 60);
/// Shortest password the account command accepts.
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Usernames are 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
    #[error("a username is 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    InvalidUsername,
    /// Display names are 1–128 printable characters.
    #[error("a display name is 1 to 128 printable characters")]
    InvalidDisplayName,
    /// Too short a password.
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// The username is taken.
    #[error("an account named {0} already exists")]
    Exists(String),
    /// Argon2 failed.
    #[error("cannot hash the password")]
    Hash,
}

/// Checks the fields of a new account.
pub(crate) fn validate_new_account(
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<(), AccountError> {
    let username_ok = (1..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !username_ok {
        return Err(AccountError::InvalidUsername);
    }
    let display_ok = (1..=128).contains(&display_name.chars().count())
        && !display_name.chars().any(char::is_control);
    if !display_ok {
        return Err(AccountError::InvalidDisplayName);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

/// Creates an account (offline, on an open database) and audits it as done
/// by `actor`, in one transaction. The password is hashed before the
/// transaction opens, so the write lock is not held through Argon2.
pub(crate) fn create(
    conn: &crate::db::Connection,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    actor: &str,
) -> Result<(), crate::StationError> {
    validate_new_account(username, display_name, password)?;
    let hash = password::hash(password)?;
    let tx = conn.transaction()?;
    if !store::insert_user(&tx, username, display_name, role, &hash, false)? {
        return Err(AccountError::Exists(username.to_owned()).into());
    }
    audit::record(
        &tx,
        crate::clock::now(),
        &[audit::Entry::account(audit::EventType::AccountCreated, username).by(actor)],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_account_fields_are_checked() {
        assert!(validate_new_account("ana.lima", "Ana Lima", "long enough").is_ok());
        assert!(matches!(
            validate_new_account("", "Ana", "long enough"),
            Err(AccountError::InvalidUsername)
        ));
        assert!(matches!(
            validate_new_account("ana lima", "Ana", "long enough"),
            Err(AccountError::InvalidUsername)
        ));
        assert!(matches!(
            validate_new_account("ana", "Ana\n", "long enough"),
            Err(AccountError::InvalidDisplayName)
        ));
        assert!(matches!(
            validate_new_account("ana", "Ana", "short"),
            Err(AccountError::WeakPassword)
        ));
    }
}
