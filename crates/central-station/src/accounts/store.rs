//! The SQL of accounts, sessions and confirmations. Every function runs on
//! the database thread, inside the caller's connection or transaction.

use crate::db::Value;
use crate::db::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;
use zpair_proto::api::{Account, Role, StepUpAction};

use super::Caller;
use crate::clock;
use crate::db::{DbError, parse_column};

/// An account as stored.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) account: Account,
    pub(crate) password_hash: String,
    /// An administrator disabled the account.
    pub(crate) disabled: bool,
    /// The account's credential version: sessions carrying another one are dead.
    pub(crate) credential_version: i64,
}

/// Hashes of a new access/refresh pair, when each expires, and when the
/// sign-in they belong to ends.
#[derive(Debug, Clone)]
pub(crate) struct NewSession {
    pub(crate) access_hash: [u8; 32],
    pub(crate) access_expires_at: OffsetDateTime,
    pub(crate) refresh_hash: [u8; 32],
    pub(crate) refresh_expires_at: OffsetDateTime,
    pub(crate) ends_at: OffsetDateTime,
}

impl NewSession {
    /// The same tokens, for a sign-in that ends at `ends_at`: neither token
    /// outlives it.
    pub(crate) fn ending_at(self, ends_at: OffsetDateTime) -> Self {
        Self {
            access_expires_at: self.access_expires_at.min(ends_at),
            refresh_expires_at: self.refresh_expires_at.min(ends_at),
            ends_at,
            ..self
        }
    }
}

/// Adds an account; `must_change` when its password is a temporary one the
/// station chose. `false`, and nothing added, when the name is taken — also
/// by a name that differs only in case: two accounts must not pass for
/// each other.
pub(crate) fn insert_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    must_change: bool,
) -> Result<bool, DbError> {
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = ?1)",
        // Usernames are ASCII (validated); folding it here keeps the two
        // databases alike (PostgreSQL's `lower` of a parameter would fold by
        // the server's locale, SQLite's folds ASCII only).
        [username.to_ascii_lowercase()],
        |r| r.get(0),
    )?;
    if taken {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO users (username, display_name, role, password_hash, created_at,
                            must_change_password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            username,
            display_name,
            role.as_str(),
            password_hash,
            clock::unix(clock::now()),
            must_change,
        ],
    )?;
    Ok(true)
}

/// An account's columns, in the order [`user_from_row`] reads them.
const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.password_hash,
     u.disabled_at, u.must_change_password, u.credential_version";

/// An account from the row's [`USER_COLUMNS`], starting at column `first`.
fn user_from_row(r: &crate::db::Row, first: usize) -> Result<UserRow, DbError> {
    let role: String = r.get(first + 3)?;
    let disabled_at: Option<i64> = r.get(first + 5)?;
    Ok(UserRow {
        id: r.get(first)?,
        account: Account {
            username: r.get(first + 1)?,
            display_name: r.get(first + 2)?,
            role: parse_column(&role, Role::parse, "role")?,
            must_change_password: r.get(first + 6)?,
        },
        password_hash: r.get(first + 4)?,
        disabled: disabled_at.is_some(),
        credential_version: r.get(first + 7)?,
    })
}

/// Looks an account up by name.
pub(crate) fn user_by_name(conn: &Connection, username: &str) -> Result<Option<UserRow>, DbError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1"),
        [username],
        |r| user_from_row(r, 0),
    )
    .optional()
}

/// Looks an account up by id.
pub(crate) fn user_by_id(conn: &Connection, id: i64) -> Result<Option<UserRow>, DbError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        |r| user_from_row(r, 0),
    )
    .optional()
}

/// Stores a new session of the account's credentials at `version`;
/// `family` continues a refresh chain. `false`, and nothing stored, when the
/// account's credentials changed since `version` was read (the password
/// that was checked is no longer the account's).
pub(crate) fn open_session(
    conn: &Connection,
    user_id: i64,
    version: i64,
    family: &str,
    session: &NewSession,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let inserted = conn.execute(
        "INSERT INTO sessions (family, user_id, access_hash, access_expires_at,
                               refresh_hash, refresh_expires_at, created_at, ends_at,
                               credential_version)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND credential_version = ?9)",
        params![
            family,
            user_id,
            &session.access_hash[..],
            clock::unix(session.access_expires_at),
            &session.refresh_hash[..],
            clock::unix(session.refresh_expires_at),
            clock::unix(now),
            clock::unix(session.ends_at),
            version,
        ],
    )?;
    Ok(inserted == 1)
}

/// Records a successful sign-in's time.
pub(crate) fn signed_in(
    conn: &Connection,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE users SET last_sign_in_at = ?2 WHERE id = ?1",
        params![user_id, clock::unix(now)],
    )?;
    Ok(())
}

/// Which sessions work: not revoked, and carrying their account's current
/// credential version (`s` is the session, `u` its account).
const CURRENT: &str = "s.revoked_at IS NULL AND s.credential_version = u.credential_version";

/// Who holds a live access token of an enabled account.
pub(crate) fn caller_by_access(
    conn: &Connection,
    access_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<Option<Caller>, DbError> {
    // One query: every authenticated request runs it.
    let row = conn
        .query_row(
            &format!(
                "SELECT s.id, s.access_expires_at, {USER_COLUMNS}
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.access_hash = ?1 AND {CURRENT} AND s.access_expires_at > ?2"
            ),
            params![&access_hash[..], clock::unix(now)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    user_from_row(r, 2)?,
                ))
            },
        )
        .optional()?;
    Ok(row
        .filter(|(_, _, user)| !user.disabled)
        .map(|(session_id, expires_at, user)| Caller {
            user_id: user.id,
            session_id,
            access_expires_at: clock::from_unix(expires_at),
            account: user.account,
        }))
}

/// Whether a session's access token still works: not revoked, not expired,
/// of the account's current credentials, its account not disabled.
pub(crate) fn access_live(
    conn: &Connection,
    session_id: i64,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id = ?1 AND {CURRENT}
                   AND s.access_expires_at > ?2 AND u.disabled_at IS NULL"
            ),
            params![session_id, clock::unix(now)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The session a refresh token belongs to.
struct RefreshRow {
    id: i64,
    family: String,
    user_id: i64,
    expires_at: i64,
    ends_at: i64,
    refreshed_at: Option<i64>,
    revoked_at: Option<i64>,
    credential_version: i64,
}

/// Exchanges a refresh token for a new session in the same family, ending
/// when the sign-in ends. A token already exchanged is a stolen copy or a
/// replay: the whole family ends.
pub(crate) fn rotate(
    conn: &mut Connection,
    refresh_hash: &[u8; 32],
    next: NewSession,
    now: OffsetDateTime,
) -> Result<Option<(Account, NewSession)>, DbError> {
    let tx = conn.transaction()?;
    let row = tx
        .query_row(
            "SELECT id, family, user_id, refresh_expires_at, ends_at, refreshed_at, revoked_at,
                    credential_version
             FROM sessions WHERE refresh_hash = ?1",
            [&refresh_hash[..]],
            |r| {
                Ok(RefreshRow {
                    id: r.get(0)?,
                    family: r.get(1)?,
                    user_id: r.get(2)?,
                    expires_at: r.get(3)?,
                    ends_at: r.get(4)?,
                    refreshed_at: r.get(5)?,
                    revoked_at: r.get(6)?,
                    credential_version: r.get(7)?,
                })
            },
        )
        .optional()?;
    let Some(RefreshRow {
        id,
        family,
        user_id,
        expires_at,
        ends_at,
        refreshed_at,
        revoked_at,
        credential_version,
    }) = row
    else {
        return Ok(None);
    };
    let stamp = clock::unix(now);
    if refreshed_at.is_some() {
        tx.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
            params![family, stamp],
        )?;
        tx.commit()?;
        tracing::warn!(
            user_id,
            "a refresh token was presented twice; its session family is revoked"
        );
        return Ok(None);
    }
    if revoked_at.is_some() || expires_at <= stamp || ends_at <= stamp {
        return Ok(None);
    }
    let Some(user) = user_by_id(&tx, user_id)?
        .filter(|u| !u.disabled && u.credential_version == credential_version)
    else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE sessions SET refreshed_at = ?2, revoked_at = ?2 WHERE id = ?1",
        params![id, stamp],
    )?;
    let next = next.ending_at(clock::from_unix(ends_at));
    if !open_session(&tx, user_id, credential_version, &family, &next, now)? {
        return Ok(None);
    }
    tx.commit()?;
    Ok(Some((user.account, next)))
}

/// Ends the caller's session, and the session of `refresh_hash` if it is the caller's.
pub(crate) fn revoke(
    conn: &Connection,
    caller: &Caller,
    refresh_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE revoked_at IS NULL AND user_id = ?1 AND (id = ?2 OR refresh_hash = ?4)",
        params![
            caller.user_id,
            caller.session_id,
            clock::unix(now),
            &refresh_hash[..]
        ],
    )?;
    Ok(())
}

/// What a step-up confirmation is bound to: the account and the sign-in
/// that asked for it, and the one action on the one device it authorises.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) user_id: i64,
    pub(crate) session_id: i64,
    pub(crate) device_id: String,
    pub(crate) action: StepUpAction,
}

impl Binding {
    /// The binding of `caller` acting on `device_id`.
    pub(crate) fn of(caller: &Caller, device_id: &str, action: StepUpAction) -> Self {
        Self {
            user_id: caller.user_id,
            session_id: caller.session_id,
            device_id: device_id.to_owned(),
            action,
        }
    }
}

/// Stores a step-up confirmation.
pub(crate) fn insert_confirmation(
    conn: &Connection,
    token_hash: &[u8; 32],
    binding: &Binding,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO confirmations (token_hash, user_id, session_id, device_id, action, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            &token_hash[..],
            binding.user_id,
            binding.session_id,
            binding.device_id,
            binding.action.as_str(),
            clock::unix(expires_at),
            clock::unix(now)
        ],
    )?;
    Ok(())
}

/// The confirmations `binding` may use: unused, unexpired, asked for this
/// device and action by this account in the same sign-in. A refresh keeps
/// the sign-in (its session family); signing in again starts another.
const USABLE: &str = "token_hash = ?1 AND user_id = ?2 AND device_id = ?3 AND action = ?4
     AND used_at IS NULL AND expires_at > ?5
     AND (SELECT family FROM sessions WHERE id = confirmations.session_id)
       = (SELECT family FROM sessions WHERE id = ?6)";

/// The values of [`USABLE`]'s parameters, in order.
fn usable_params(token_hash: &[u8; 32], binding: &Binding, now: OffsetDateTime) -> Vec<Value> {
    vec![
        Value::Blob(token_hash.to_vec()),
        Value::Integer(binding.user_id),
        Value::Text(binding.device_id.clone()),
        Value::Text(binding.action.as_str().to_owned()),
        Value::Integer(clock::unix(now)),
        Value::Integer(binding.session_id),
    ]
}

/// Whether a confirmation would be accepted now (nothing is spent).
pub(crate) fn confirmation_usable(
    conn: &Connection,
    token_hash: &[u8; 32],
    binding: &Binding,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    conn.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM confirmations WHERE {USABLE})"),
        usable_params(token_hash, binding, now),
        |r| r.get(0),
    )
}

/// Spends a confirmation: true only if it was usable. Call it in the
/// transaction of the change it authorises, so a refused change spends nothing.
pub(crate) fn spend_confirmation(
    conn: &Connection,
    token_hash: &[u8; 32],
    binding: &Binding,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = conn.execute(
        &format!("UPDATE confirmations SET used_at = ?5 WHERE {USABLE}"),
        usable_params(token_hash, binding, now),
    )?;
    Ok(changed == 1)
}
