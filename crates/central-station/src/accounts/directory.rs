//! The accounts as administrators manage them: the list, and each change an
//! administrator makes (create, reset a password, unlock, disable, enable,
//! end sessions) or an account makes to itself (change its password). Each
//! change is one transaction that applies its rules against what is in the
//! database at that moment (so two administrators disabling each other at
//! once cannot both succeed), writes its audit row (actor the
//! administrator, subject the account), and commits only if the
//! administrator still is one — enabled, signed in, with current
//! credentials.

use crate::db::{Connection, OptionalExtension as _, Transaction, params};
use time::OffsetDateTime;
use zpair_proto::admin::{AccountRecord, NewAccount};
use zpair_proto::api::Role;

use super::{Caller, store};
use crate::audit::{self, Entry, EventType, Source};
use crate::clock;
use crate::db::{DbError, parse_column};
use crate::http::HttpError;

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No account has this username.
    UnknownUser,
    /// The username (in any case) is an existing account's.
    UsernameTaken,
    /// It would leave no enabled administrator.
    LastAdministrator,
    /// The administrator asking is no longer one (disabled, signed out or
    /// reset while the request was on its way).
    ActorGone,
    /// The account's credentials changed since its password was checked.
    CredentialsChanged,
}

impl From<Refusal> for HttpError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::UnknownUser => HttpError::UnknownUser,
            Refusal::UsernameTaken => HttpError::UsernameTaken,
            Refusal::LastAdministrator => HttpError::LastAdministrator,
            Refusal::ActorGone => HttpError::Unauthorized,
            Refusal::CredentialsChanged => HttpError::InvalidCredentials,
        }
    }
}

/// What a change returns: its result, or why it was refused.
pub(crate) type Outcome<T> = Result<Result<T, Refusal>, DbError>;

/// Who asks for a change, and from where, for the checks and the audit row.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub(crate) caller: Caller,
    pub(crate) source: Source,
}

impl Actor {
    /// The audit row of `event` about `username`, by this actor.
    fn entry(&self, event: EventType, username: &str) -> Entry {
        Entry::account(event, username)
            .by(self.caller.username())
            .from(&self.source)
    }
}

const RECORD_COLUMNS: &str = "u.username, u.display_name, u.role, u.disabled_at,
    u.must_change_password, u.last_sign_in_at, u.created_at,
    (SELECT locked_until FROM sign_in_attempts
      WHERE subject = 'account:' || u.username AND locked_until > ?1),
    (SELECT COUNT(*) FROM sessions s
      WHERE s.user_id = u.id AND s.revoked_at IS NULL
        AND s.credential_version = u.credential_version
        AND s.refresh_expires_at > ?1 AND s.ends_at > ?1)";

type RecordColumns = (
    (String, String, String, Option<i64>),
    (bool, Option<i64>, i64, Option<i64>, i64),
);

fn read_record(r: &crate::db::Row) -> Result<RecordColumns, crate::db::DbError> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
        (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
    ))
}

fn to_record(columns: RecordColumns) -> Result<AccountRecord, DbError> {
    let (
        (username, display_name, role, disabled_at),
        (must_change_password, last_sign_in, created_at, locked_until, sessions),
    ) = columns;
    Ok(AccountRecord {
        username,
        display_name,
        role: parse_column(&role, Role::parse, "role")?,
        disabled: disabled_at.is_some(),
        locked_until: locked_until.map(clock::from_unix),
        must_change_password,
        active_sessions: u32::try_from(sessions).unwrap_or(u32::MAX),
        last_sign_in: last_sign_in.map(clock::from_unix),
        created_at: clock::from_unix(created_at),
    })
}

/// Every account, by username.
pub(crate) fn records(
    conn: &Connection,
    now: OffsetDateTime,
) -> Result<Vec<AccountRecord>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RECORD_COLUMNS} FROM users u ORDER BY u.username"
    ))?;
    let rows = stmt
        .query_map([clock::unix(now)], read_record)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(to_record).collect()
}

/// One account.
pub(crate) fn record(
    conn: &Connection,
    username: &str,
    now: OffsetDateTime,
) -> Result<Option<AccountRecord>, DbError> {
    conn.query_row(
        &format!("SELECT {RECORD_COLUMNS} FROM users u WHERE u.username = ?2"),
        params![clock::unix(now), username],
        read_record,
    )
    .optional()?
    .map(to_record)
    .transpose()
}

/// Runs `change` in a transaction and answers the account's record after
/// it. The change is kept only if `actor` is, at its commit, still an
/// enabled administrator whose session works (a request that passed the
/// checks before another administrator disabled or reset the actor changes
/// nothing); a refusal is kept with the audit row it wrote.
fn administer(
    conn: &mut Connection,
    actor: &Actor,
    username: &str,
    now: OffsetDateTime,
    change: impl FnOnce(&Transaction<'_>) -> Outcome<()>,
) -> Outcome<AccountRecord> {
    let tx = conn.transaction()?;
    if let Err(refusal) = change(&tx)? {
        tx.commit()?;
        return Ok(Err(refusal));
    }
    let live: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1 AND u.id = ?2 AND s.revoked_at IS NULL
            AND s.credential_version = u.credential_version AND s.access_expires_at > ?3
            AND u.disabled_at IS NULL AND NOT u.must_change_password
            AND u.role = 'administrator')",
        params![
            actor.caller.session_id,
            actor.caller.user_id,
            clock::unix(now)
        ],
        |r| r.get(0),
    )?;
    if !live {
        return Ok(Err(Refusal::ActorGone));
    }
    tx.commit()?;
    Ok(record(conn, username, now)?.ok_or(Refusal::UnknownUser))
}

/// The account's id, role and whether it is enabled.
fn target(conn: &Connection, username: &str) -> Result<Option<(i64, Role, bool)>, DbError> {
    conn.query_row(
        "SELECT id, role, disabled_at IS NULL FROM users WHERE username = ?1",
        [username],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
    )
    .optional()?
    .map(|(id, role, enabled)| Ok((id, parse_column(&role, Role::parse, "role")?, enabled)))
    .transpose()
}

/// Ends every session of the account, and with `invalidate` any session
/// opened from credentials checked before now (its version moves on).
fn end_all(
    conn: &Connection,
    user_id: i64,
    invalidate: bool,
    now: OffsetDateTime,
) -> Result<usize, DbError> {
    if invalidate {
        conn.execute(
            "UPDATE users SET credential_version = credential_version + 1 WHERE id = ?1",
            [user_id],
        )?;
    }
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, clock::unix(now)],
    )
}

/// Clears the account's count of wrong passwords and its lock.
fn clear_lockout(conn: &Connection, username: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM sign_in_attempts WHERE subject = 'account:' || ?1",
        [username],
    )?;
    Ok(())
}

/// Creates an account whose password (`password_hash`) the station chose:
/// it must be changed at the first sign-in.
pub(crate) fn create(
    conn: &mut Connection,
    actor: &Actor,
    account: &NewAccount,
    password_hash: &str,
    now: OffsetDateTime,
) -> Outcome<AccountRecord> {
    let name = &account.username;
    administer(conn, actor, name, now, |tx| {
        let inserted = store::insert_user(
            tx,
            name,
            &account.display_name,
            account.role,
            password_hash,
            true,
        )?;
        if !inserted {
            let refused = actor
                .entry(EventType::AccountCreated, name)
                .failing(zpair_proto::ErrorCode::UsernameTaken.as_str());
            audit::record(tx, now, &[refused])?;
            return Ok(Err(Refusal::UsernameTaken));
        }
        audit::record(tx, now, &[actor.entry(EventType::AccountCreated, name)])?;
        Ok(Ok(()))
    })
}

/// Gives the account a temporary password (`password_hash`) to change at
/// its next sign-in: its sessions end, its credentials move on, its lock
/// is cleared.
pub(crate) fn reset_password(
    conn: &mut Connection,
    actor: &Actor,
    username: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> Outcome<AccountRecord> {
    administer(conn, actor, username, now, |tx| {
        let Some((id, _, _)) = target(tx, username)? else {
            return Ok(Err(Refusal::UnknownUser));
        };
        tx.execute(
            "UPDATE users SET password_hash = ?2, must_change_password = TRUE WHERE id = ?1",
            params![id, password_hash],
        )?;
        end_all(tx, id, true, now)?;
        clear_lockout(tx, username)?;
        audit::record(tx, now, &[actor.entry(EventType::PasswordReset, username)])?;
        Ok(Ok(()))
    })
}

/// Clears the account's lock and its count of wrong passwords.
pub(crate) fn unlock(
    conn: &mut Connection,
    actor: &Actor,
    username: &str,
    now: OffsetDateTime,
) -> Outcome<AccountRecord> {
    administer(conn, actor, username, now, |tx| {
        if target(tx, username)?.is_none() {
            return Ok(Err(Refusal::UnknownUser));
        }
        clear_lockout(tx, username)?;
        audit::record(
            tx,
            now,
            &[actor.entry(EventType::AccountUnlocked, username)],
        )?;
        Ok(Ok(()))
    })
}

/// Ends every session of the account.
pub(crate) fn end_sessions(
    conn: &mut Connection,
    actor: &Actor,
    username: &str,
    now: OffsetDateTime,
) -> Outcome<AccountRecord> {
    administer(conn, actor, username, now, |tx| {
        let Some((id, _, _)) = target(tx, username)? else {
            return Ok(Err(Refusal::UnknownUser));
        };
        end_all(tx, id, false, now)?;
        audit::record(tx, now, &[actor.entry(EventType::SessionsEnded, username)])?;
        Ok(Ok(()))
    })
}

/// Disables the account (its sessions end, its credentials move on) or
/// enables it. The last enabled administrator is never disabled: counted
/// in the transaction that would disable it, so of two administrators
/// disabling each other at once, the second finds itself the last.
pub(crate) fn set_disabled(
    conn: &mut Connection,
    actor: &Actor,
    username: &str,
    disabled: bool,
    now: OffsetDateTime,
) -> Outcome<AccountRecord> {
    let event = if disabled {
        EventType::AccountDisabled
    } else {
        EventType::AccountEnabled
    };
    administer(conn, actor, username, now, |tx| {
        let Some((id, role, enabled)) = target(tx, username)? else {
            return Ok(Err(Refusal::UnknownUser));
        };
        if disabled && enabled && role == Role::Administrator {
            let others: i64 = tx.query_row(
                "SELECT COUNT(*) FROM users
                 WHERE role = 'administrator' AND disabled_at IS NULL AND id <> ?1",
                [id],
                |r| r.get(0),
            )?;
            if others == 0 {
                let refused = actor
                    .entry(event, username)
                    .failing(zpair_proto::ErrorCode::LastAdministrator.as_str());
                audit::record(tx, now, &[refused])?;
                return Ok(Err(Refusal::LastAdministrator));
            }
        }
        // Disabling a disabled account keeps the time it was first disabled.
        tx.execute(
            "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3) END
             WHERE id = ?1",
            params![id, disabled, clock::unix(now)],
        )?;
        if disabled {
            end_all(tx, id, true, now)?;
        }
        audit::record(tx, now, &[actor.entry(event, username)])?;
        Ok(Ok(()))
    })
}

/// The account of `caller` takes a password of its own (`password_hash`),
/// if its credentials are still at `version` (those its current password
/// was checked against). Its other sessions end; the caller's own goes on,
/// moved to the new credentials.
pub(crate) fn change_password(
    conn: &mut Connection,
    caller: &Caller,
    version: i64,
    password_hash: &str,
    source: &Source,
    now: OffsetDateTime,
) -> Outcome<()> {
    let tx = conn.transaction()?;
    // The session asking must still work: ended sessions change nothing.
    let live: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions
          WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL
            AND credential_version = ?3 AND access_expires_at > ?4)",
        params![caller.session_id, caller.user_id, version, clock::unix(now)],
        |r| r.get(0),
    )?;
    if !live {
        return Ok(Err(Refusal::ActorGone));
    }
    let changed = tx.execute(
        "UPDATE users SET password_hash = ?3, must_change_password = FALSE,
                          credential_version = credential_version + 1
         WHERE id = ?1 AND credential_version = ?2 AND disabled_at IS NULL",
        params![caller.user_id, version, password_hash],
    )?;
    if changed != 1 {
        return Ok(Err(Refusal::CredentialsChanged));
    }
    tx.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
        params![caller.user_id, caller.session_id, clock::unix(now)],
    )?;
    tx.execute(
        "UPDATE sessions SET credential_version = CAST(?2 AS BIGINT) + 1 WHERE id = ?1",
        params![caller.session_id, version],
    )?;
    let entry = Entry::account(EventType::PasswordChanged, caller.username())
        .by(caller.username())
        .from(source);
    audit::record(&tx, now, &[entry])?;
    tx.commit()?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::api::Account;

    /// An enabled administrator `name`, signed in (session tokens from `seed`).
    fn administrator(conn: &Connection, name: &str, seed: u8) -> Actor {
        let now = clock::now();
        assert!(
            store::insert_user(conn, name, name, Role::Administrator, "x", false).expect("user")
        );
        let user = store::user_by_name(conn, name)
            .expect("read")
            .expect("user");
        let session = store::NewSession {
            access_hash: [seed; 32],
            access_expires_at: now + time::Duration::hours(1),
            refresh_hash: [seed.wrapping_add(100); 32],
            refresh_expires_at: now + time::Duration::hours(2),
            ends_at: now + time::Duration::hours(8),
        };
        assert!(store::open_session(conn, user.id, 0, name, &session, now).expect("session"));
        let caller = store::caller_by_access(conn, &[seed; 32], now)
            .expect("read")
            .expect("live");
        assert_eq!(
            caller.account,
            Account {
                username: name.into(),
                display_name: name.into(),
                role: Role::Administrator,
                must_change_password: false,
            }
        );
        Actor {
            caller,
            source: Source::default(),
        }
    }

    /// Two administrators disable each other; the second change, checked
    /// before the first committed, finds its target the last administrator.
    #[test]
    fn the_last_enabled_administrator_is_never_disabled() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = crate::db::testing::open(dir.path()).expect("db");
        let a = administrator(&conn, "ana", 1);
        let b = administrator(&conn, "bo", 2);
        let now = clock::now();
        let first = set_disabled(&mut conn, &a, "bo", true, now).expect("db");
        assert!(first.expect("bo disabled").disabled);
        let second = set_disabled(&mut conn, &b, "ana", true, now).expect("db");
        assert_eq!(second, Err(Refusal::LastAdministrator));
        let ana = record(&conn, "ana", now).expect("db").expect("ana");
        assert!(!ana.disabled);
        // The refusal is on record, by the one who tried.
        let refused: (String, bool, Option<String>) = conn
            .query_row(
                "SELECT actor, success, error_message FROM provisioning_events
                 WHERE event_type = 'account_disabled' AND subject = 'ana'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("audited");
        assert_eq!(
            refused,
            ("bo".into(), false, Some("last_administrator".into()))
        );
        // A change by an administrator disabled meanwhile is not kept.
        let enable = set_disabled(&mut conn, &b, "bo", false, now).expect("db");
        assert_eq!(enable, Err(Refusal::ActorGone));
        assert!(record(&conn, "bo", now).expect("db").expect("bo").disabled);
    }
}
