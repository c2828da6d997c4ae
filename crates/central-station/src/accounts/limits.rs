//! How many passwords may be checked, per account and per client.
//!
//! An attempt is counted, in one transaction, *before* its password is
//! hashed, and counted as a failure until the hash says otherwise: however
//! many requests arrive at once, an account gets at most
//! [`MAX_FAILED_LOGINS`] checks per [`LOCKOUT`] window. Names are counted as
//! typed, known or not, so an unknown username is locked and answered
//! exactly like a known one. A client (source address) gets at most
//! [`CLIENT_MAX_FAILURES`] failed checks per window across all accounts, so
//! one client cannot lock every technician out; past that it is told to come
//! back later (429 with `Retry-After`) and no account is touched.

use std::net::IpAddr;
use std::time::Duration;

use crate::db::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;

use super::{LOCKOUT, MAX_FAILED_LOGINS};
use crate::clock;
use crate::db::DbError;

/// Failed checks one client may make in a window, across all accounts: two
/// accounts' worth, so a mistyped username does not shut a technician out,
/// and one client locks at most two accounts per window.
pub(crate) const CLIENT_MAX_FAILURES: i64 = 2 * MAX_FAILED_LOGINS;

/// Who is trying: the username as typed and the source address.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    account: String,
    client: String,
}

impl Attempt {
    /// An attempt on `username` from `client`.
    pub(crate) fn new(username: &str, client: IpAddr) -> Self {
        // Real usernames have at most 64 characters; longer ones count as their start.
        let name: String = username.chars().take(64).collect();
        Self {
            account: format!("account:{name}"),
            client: format!("client:{client}"),
        }
    }

    /// The username as typed (its first 64 characters).
    pub(crate) fn username(&self) -> &str {
        self.account
            .strip_prefix("account:")
            .unwrap_or(&self.account)
    }
}

/// Whether a password may be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Counted as a failure already; hash the password, then [`settle`].
    Check,
    /// The account is locked: answer without hashing.
    AccountLocked,
    /// This client failed too often; it may try again after this long.
    ClientBackoff(Duration),
}

/// The outcome of a checked password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Right password, account not locked: sign in.
    SignIn,
    /// Wrong password; the account is not (yet) locked.
    Refused,
    /// Wrong password that locked the account, or a right one that arrived
    /// while the account was locked by the rest of its burst.
    AccountLocked,
}

struct Row {
    failures: i64,
    window_ends: i64,
    locked_until: Option<i64>,
}

fn row(conn: &Connection, subject: &str) -> Result<Option<Row>, DbError> {
    conn.query_row(
        "SELECT failures, window_ends, locked_until FROM sign_in_attempts WHERE subject = ?1",
        [subject],
        |r| {
            Ok(Row {
                failures: r.get(0)?,
                window_ends: r.get(1)?,
                locked_until: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The subject's row as it stands now: a window that has ended starts over.
fn current(conn: &Connection, subject: &str, now: i64) -> Result<Row, DbError> {
    let fresh = Row {
        failures: 0,
        window_ends: now + window_seconds(),
        locked_until: None,
    };
    Ok(match row(conn, subject)? {
        Some(r) if r.locked_until.is_some_and(|t| t > now) => r,
        Some(r) if r.window_ends > now && r.locked_until.is_none() => r,
        _ => fresh,
    })
}

fn store(conn: &Connection, subject: &str, r: &Row) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sign_in_attempts (subject, failures, window_ends, locked_until)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (subject) DO UPDATE SET
             failures = excluded.failures, window_ends = excluded.window_ends,
             locked_until = excluded.locked_until",
        params![subject, r.failures, r.window_ends, r.locked_until],
    )?;
    Ok(())
}

fn window_seconds() -> i64 {
    i64::try_from(LOCKOUT.as_secs()).unwrap_or(i64::MAX)
}

/// Records an attempt before its password is checked, or refuses it.
pub(crate) fn claim(
    conn: &mut Connection,
    attempt: &Attempt,
    at: OffsetDateTime,
) -> Result<Claim, DbError> {
    let now = clock::unix(at);
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM sign_in_attempts
         WHERE window_ends <= ?1 AND (locked_until IS NULL OR locked_until <= ?1)",
        [now],
    )?;
    let mut client = current(&tx, &attempt.client, now)?;
    if client.failures >= CLIENT_MAX_FAILURES {
        let wait = u64::try_from(client.window_ends - now).unwrap_or(1);
        return Ok(Claim::ClientBackoff(Duration::from_secs(wait.max(1))));
    }
    let mut account = current(&tx, &attempt.account, now)?;
    if account.locked_until.is_some() {
        return Ok(Claim::AccountLocked);
    }
    if account.failures >= MAX_FAILED_LOGINS {
        account.locked_until = Some(now + window_seconds());
        store(&tx, &attempt.account, &account)?;
        tx.commit()?;
        return Ok(Claim::AccountLocked);
    }
    account.failures += 1;
    client.failures += 1;
    store(&tx, &attempt.account, &account)?;
    store(&tx, &attempt.client, &client)?;
    tx.commit()?;
    Ok(Claim::Check)
}

/// Records what a claimed check found. A right password signs in only if the
/// account was not locked meanwhile; it then clears the account's count and
/// gives the client its attempt back. A wrong one that brings the account to
/// its limit locks it.
pub(crate) fn settle(
    conn: &mut Connection,
    attempt: &Attempt,
    matched: bool,
    at: OffsetDateTime,
) -> Result<Settled, DbError> {
    let now = clock::unix(at);
    let tx = conn.transaction()?;
    let mut account = current(&tx, &attempt.account, now)?;
    if account.locked_until.is_some() {
        return Ok(Settled::AccountLocked);
    }
    let settled = if matched {
        tx.execute(
            "DELETE FROM sign_in_attempts WHERE subject = ?1",
            [&attempt.account],
        )?;
        tx.execute(
            "UPDATE sign_in_attempts SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE subject = ?1",
            [&attempt.client],
        )?;
        Settled::SignIn
    } else if account.failures >= MAX_FAILED_LOGINS {
        account.locked_until = Some(now + window_seconds());
        store(&tx, &attempt.account, &account)?;
        Settled::AccountLocked
    } else {
        Settled::Refused
    };
    tx.commit()?;
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn db() -> Connection {
        crate::db::testing::memory()
    }

    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn claims_stop_at_the_limit_before_any_result_is_known() {
        let mut conn = db();
        let attempt = Attempt::new("ana", HERE);
        let now = clock::now();
        let claims: Vec<Claim> = (0..8)
            .map(|_| claim(&mut conn, &attempt, now).expect("claim"))
            .collect();
        assert_eq!(claims[..5], [Claim::Check; 5]);
        assert_eq!(claims[5..], [Claim::AccountLocked; 3]);
        // The right password, checked among the first five, still arrives to a lock.
        assert_eq!(
            settle(&mut conn, &attempt, true, now).expect("settle"),
            Settled::AccountLocked
        );
        // The lock passes with its window.
        let later = now + clock::span(LOCKOUT) + time::Duration::seconds(1);
        assert_eq!(
            claim(&mut conn, &attempt, later).expect("claim"),
            Claim::Check
        );
    }

    #[test]
    fn a_right_password_clears_the_count_and_a_fifth_wrong_one_locks() {
        let mut conn = db();
        let attempt = Attempt::new("ana", HERE);
        let now = clock::now();
        for _ in 0..4 {
            assert_eq!(
                claim(&mut conn, &attempt, now).expect("claim"),
                Claim::Check
            );
            assert_eq!(
                settle(&mut conn, &attempt, false, now).expect("s"),
                Settled::Refused
            );
        }
        assert_eq!(
            claim(&mut conn, &attempt, now).expect("claim"),
            Claim::Check
        );
        assert_eq!(
            settle(&mut conn, &attempt, true, now).expect("s"),
            Settled::SignIn
        );
        for _ in 0..4 {
            claim(&mut conn, &attempt, now).expect("claim");
            assert_eq!(
                settle(&mut conn, &attempt, false, now).expect("s"),
                Settled::Refused
            );
        }
        claim(&mut conn, &attempt, now).expect("claim");
        assert_eq!(
            settle(&mut conn, &attempt, false, now).expect("s"),
            Settled::AccountLocked
        );
    }

    #[test]
    fn one_client_backs_off_after_two_accounts_worth_of_failures() {
        let mut conn = db();
        let now = clock::now();
        for n in 0..CLIENT_MAX_FAILURES {
            let attempt = Attempt::new(&format!("user{n}"), HERE);
            assert_eq!(
                claim(&mut conn, &attempt, now).expect("claim"),
                Claim::Check
            );
        }
        let next = Attempt::new("someone-else", HERE);
        assert!(matches!(
            claim(&mut conn, &next, now).expect("claim"),
            Claim::ClientBackoff(_)
        ));
        // Another client still gets its checks, on the same account too.
        let elsewhere = Attempt::new("someone-else", IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)));
        assert_eq!(
            claim(&mut conn, &elsewhere, now).expect("claim"),
            Claim::Check
        );
    }
}
