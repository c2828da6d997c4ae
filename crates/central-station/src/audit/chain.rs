//! The hash chain over `provisioning_events`: each row stores the SHA-256 of
//! its canonical content together with the previous row's hash, so editing,
//! deleting or reordering a row breaks the chain at that row, and
//! [`verify`] names the first broken link.
//!
//! The database's triggers already refuse UPDATE and DELETE; the chain is
//! what still tells when someone with the file in hand drops them. It cannot
//! tell a log rewritten from scratch from the real one: the head hash that
//! [`verify`] reports is what an operator copies elsewhere to pin it.

use crate::db::{Connection, Dialect, OptionalExtension as _, ToValue as _, Value, params};
use sha2::{Digest as _, Sha256};
use zpair_proto::api::{AuditVerification, BrokenLink, LinkProblem};

use crate::db::DbError;

/// The previous hash of the first row.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the hash's layout, so a later layout can never collide with this one.
const DOMAIN: &[u8] = b"zpair-audit-v1";

/// Every column of a row the hash covers (all of them but the two hashes).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) timestamp: i64,
    pub(crate) event_type: String,
    pub(crate) device_id: String,
    pub(crate) pairing_code: Option<String>,
    pub(crate) success: bool,
    pub(crate) error_message: Option<String>,
    pub(crate) configuration_hash: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) job_id: Option<String>,
    pub(crate) source_address: Option<String>,
    pub(crate) subject: Option<String>,
}

/// The stored hash of a row: SHA-256 over the domain, the previous hash and
/// each column, every text length-prefixed and every absent value tagged, so
/// no two different rows encode alike. Lowercase hex.
pub(crate) fn hash(prev_hash: &str, row: &Row) -> String {
    fn text(h: &mut Sha256, value: Option<&str>) {
        match value {
            None => h.update([0]),
            Some(v) => {
                h.update([1]);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(DOMAIN);
    text(&mut h, Some(prev_hash));
    h.update(row.id.to_be_bytes());
    h.update(row.timestamp.to_be_bytes());
    text(&mut h, Some(&row.event_type));
    text(&mut h, Some(&row.device_id));
    text(&mut h, row.pairing_code.as_deref());
    h.update([u8::from(row.success)]);
    text(&mut h, row.error_message.as_deref());
    text(&mut h, row.configuration_hash.as_deref());
    text(&mut h, row.actor.as_deref());
    text(&mut h, row.job_id.as_deref());
    text(&mut h, row.source_address.as_deref());
    text(&mut h, row.subject.as_deref());
    crate::pki::hex(&h.finalize())
}

/// Where the next row goes: its id and the hash it chains to. Ids are handed
/// out here rather than by the database so the id is known before the hash
/// (which covers it) is computed, and are never reused for a deleted tail
/// row (SQLite's `sqlite_sequence`, PostgreSQL's `audit_head` row). Runs in
/// the inserting transaction, whose write lock keeps the head from moving
/// under it, across processes and station instances.
pub(crate) fn head(conn: &Connection) -> Result<(i64, String), DbError> {
    if conn.dialect() == Dialect::Postgres {
        let (last_id, last_hash): (i64, String) = conn
            .prepare_cached("SELECT last_id, last_hash FROM audit_head FOR UPDATE")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        return Ok((last_id + 1, last_hash));
    }
    let last: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT id, row_hash FROM provisioning_events ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (last_id, prev) = match last {
        Some((id, hash)) => (id, hash.unwrap_or_default()),
        None => (0, GENESIS.to_owned()),
    };
    Ok((last_id.max(sequence(conn)?) + 1, prev))
}

/// The statement that writes the rows of `insert` and moves the head past
/// them: SQLite's head is the last row itself (and `sqlite_sequence`), so
/// that is `insert` alone; PostgreSQL's is a row of its own, moved in the
/// same statement (one round trip), its new values bound after `values`.
pub(crate) fn appending(
    conn: &Connection,
    insert: &str,
    values: &mut Vec<Value>,
    last_id: i64,
    last_hash: &str,
) -> String {
    match conn.dialect() {
        Dialect::Sqlite => insert.to_owned(),
        Dialect::Postgres => {
            values.extend([last_id.to_value(), last_hash.to_value()]);
            format!(
                "WITH appended AS ({insert}) UPDATE audit_head SET last_id = ?{}, last_hash = ?{}",
                values.len() - 1,
                values.len()
            )
        }
    }
}

/// The largest id the table ever handed out (0 for none).
fn sequence(conn: &Connection) -> Result<i64, DbError> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT seq FROM sqlite_sequence WHERE name = 'provisioning_events'",
        Dialect::Postgres => "SELECT last_id FROM audit_head",
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

const SELECT_ROWS: &str = "SELECT id, timestamp, event_type, device_id, pairing_code, success,
        error_message, configuration_hash, actor, job_id, source_address, subject,
        prev_hash, row_hash
     FROM provisioning_events ORDER BY id";

/// [`SELECT_ROWS`] a page at a time, after a given id.
const SELECT_PAGE: &str = "SELECT id, timestamp, event_type, device_id, pairing_code, success,
        error_message, configuration_hash, actor, job_id, source_address, subject,
        prev_hash, row_hash
     FROM provisioning_events WHERE id > ?1 ORDER BY id LIMIT ?2";

/// A row as stored: its content, then `prev_hash` and `row_hash`.
fn read_row(r: &crate::db::Row) -> Result<(Row, Option<String>, Option<String>), DbError> {
    Ok((
        Row {
            id: r.get(0)?,
            timestamp: r.get(1)?,
            event_type: r.get(2)?,
            device_id: r.get(3)?,
            pairing_code: r.get(4)?,
            success: r.get(5)?,
            error_message: r.get(6)?,
            configuration_hash: r.get(7)?,
            actor: r.get(8)?,
            job_id: r.get(9)?,
            source_address: r.get(10)?,
            subject: r.get(11)?,
        },
        r.get(12)?,
        r.get(13)?,
    ))
}

/// Chains the rows written before the chain existed, once, as migration 003
/// is applied (before migration 004 makes the table append-only).
pub(crate) fn seal_existing(conn: &Connection) -> Result<(), DbError> {
    let rows: Vec<Row> = conn
        .prepare(SELECT_ROWS)?
        .query_map([], |r| read_row(r).map(|(row, _, _)| row))?
        .collect::<Result<_, _>>()?;
    let mut update =
        conn.prepare("UPDATE provisioning_events SET prev_hash = ?1, row_hash = ?2 WHERE id = ?3")?;
    let mut prev = GENESIS.to_owned();
    for row in &rows {
        let sealed = hash(&prev, row);
        update.execute(params![prev, sealed, row.id])?;
        prev = sealed;
    }
    Ok(())
}

/// Walks the whole chain in id order and names the first broken link, in one
/// read transaction so rows written meanwhile are not half-seen.
pub(crate) fn verify(conn: &Connection) -> Result<AuditVerification, DbError> {
    let snapshot = conn.snapshot()?;
    walk(&snapshot)
}

/// Rows read at a time while walking: the walk's memory stays bounded
/// however long the log.
const WALK_PAGE: i64 = 5_000;

fn walk(conn: &Connection) -> Result<AuditVerification, DbError> {
    let mut expected_id = 1;
    let mut expected_prev = GENESIS.to_owned();
    let mut checked = 0;
    let mut after = i64::MIN;
    loop {
        let page = conn.query_all(SELECT_PAGE, params![after, WALK_PAGE])?;
        for r in &page {
            let (row, prev_hash, row_hash) = read_row(r)?;
            let (prev_hash, row_hash) = (prev_hash.as_deref(), row_hash.as_deref());
            if let Some(broken) =
                check(conn, &row, prev_hash, row_hash, expected_id, &expected_prev)?
            {
                return Ok(broken_at(checked, broken));
            }
            checked += 1;
            expected_id = row.id + 1;
            expected_prev = row_hash.unwrap_or_default().to_owned();
            after = row.id;
        }
        if i64::try_from(page.len()).unwrap_or(i64::MAX) < WALK_PAGE {
            break;
        }
    }
    let last_written = sequence(conn)?;
    if last_written >= expected_id {
        return Ok(broken_at(
            checked,
            BrokenLink {
                id: expected_id,
                problem: LinkProblem::Missing,
                message: format!(
                    "rows {expected_id} to {last_written} were deleted from the end of the log"
                ),
            },
        ));
    }
    Ok(AuditVerification {
        intact: true,
        rows_checked: checked,
        head_hash: (checked > 0).then_some(expected_prev),
        first_broken_link: None,
    })
}

fn broken_at(checked: u64, link: BrokenLink) -> AuditVerification {
    AuditVerification {
        intact: false,
        rows_checked: checked,
        head_hash: None,
        first_broken_link: Some(link),
    }
}

/// What is wrong with one row, given the rows before it (all sound). `None`
/// means the row is sound and `row_hash` is the next row's expected link.
fn check(
    conn: &Connection,
    row: &Row,
    prev_hash: Option<&str>,
    row_hash: Option<&str>,
    expected_id: i64,
    expected_prev: &str,
) -> Result<Option<BrokenLink>, DbError> {
    let id = row.id;
    let broken = |problem, message: String| {
        Ok(Some(BrokenLink {
            id,
            problem,
            message,
        }))
    };
    let (Some(prev_hash), Some(row_hash)) = (prev_hash, row_hash) else {
        return broken(LinkProblem::Edited, format!("row {id} has lost its hash"));
    };
    if prev_hash != expected_prev
        && let Some(other) = row_with_hash(conn, prev_hash)?
    {
        return broken(
            LinkProblem::Reordered,
            format!(
                "row {id} was written after row {other}, not after row {}",
                id - 1
            ),
        );
    }
    if hash(prev_hash, row) != row_hash {
        return broken(
            LinkProblem::Edited,
            format!(
                "row {id} was changed after it was written: its content does not match its hash"
            ),
        );
    }
    if id != expected_id {
        return Ok(Some(BrokenLink {
            id: expected_id,
            problem: LinkProblem::Missing,
            message: if id - 1 == expected_id {
                format!("row {expected_id} was deleted")
            } else {
                format!("rows {expected_id} to {} were deleted", id - 1)
            },
        }));
    }
    if prev_hash != expected_prev {
        return broken(
            LinkProblem::Edited,
            format!(
                "row {id} does not chain to row {}: one of them was rewritten",
                id - 1
            ),
        );
    }
    Ok(None)
}

/// The row a hash belongs to; a full scan, done only once a link is broken.
fn row_with_hash(conn: &Connection, hash: &str) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "SELECT id FROM provisioning_events WHERE row_hash = ?1",
        [hash],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Entry, EventType, record};
    use crate::clock;

    /// A fresh database holding rows 1 to 5.
    fn five_rows() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("temp");
        let conn = crate::db::testing::open(dir.path()).expect("db");
        for n in 1..=5 {
            let entry = Entry::ok(EventType::DeviceRegistered, &format!("ZM-{n}")).by("ana");
            record(&conn, clock::now(), &[entry]).expect("record");
        }
        (dir, conn)
    }

    /// What an attacker holding the file can do: drop the guards.
    fn drop_triggers(conn: &Connection) {
        let on = match conn.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " ON provisioning_events",
        };
        conn.execute_batch(&format!(
            "DROP TRIGGER provisioning_events_no_update{on};
             DROP TRIGGER provisioning_events_no_delete{on};"
        ))
        .expect("drop triggers");
    }

    fn first_break(conn: &Connection) -> BrokenLink {
        let report = verify(conn).expect("verify");
        assert!(!report.intact);
        report.first_broken_link.expect("a broken link")
    }

    #[test]
    fn the_database_refuses_to_update_or_delete_audit_rows() {
        let (_dir, conn) = five_rows();
        let update = conn.execute(
            "UPDATE provisioning_events SET success = FALSE WHERE id = 2",
            [],
        );
        assert!(format!("{update:?}").contains("append-only"), "{update:?}");
        let delete = conn.execute("DELETE FROM provisioning_events WHERE id = 5", []);
        assert!(format!("{delete:?}").contains("append-only"), "{delete:?}");
        assert!(verify(&conn).expect("verify").intact);
    }

    #[test]
    fn an_untouched_log_verifies_with_its_head() {
        let (_dir, conn) = five_rows();
        let report = verify(&conn).expect("verify");
        assert!(report.intact);
        assert_eq!(report.rows_checked, 5);
        let head: String = conn
            .query_row(
                "SELECT row_hash FROM provisioning_events WHERE id = 5",
                [],
                |r| r.get(0),
            )
            .expect("head");
        assert_eq!(report.head_hash, Some(head));
    }

    #[test]
    fn an_edited_row_is_named() {
        let (_dir, conn) = five_rows();
        drop_triggers(&conn);
        conn.execute(
            "UPDATE provisioning_events SET actor = 'mallory' WHERE id = 3",
            [],
        )
        .expect("edit");
        let link = first_break(&conn);
        assert_eq!((link.id, link.problem), (3, LinkProblem::Edited));
    }

    #[test]
    fn a_row_resealed_after_an_edit_breaks_the_next_link() {
        let (_dir, conn) = five_rows();
        drop_triggers(&conn);
        let (mut row, prev, _) = conn
            .query_row(&format!("{SELECT_ROWS} LIMIT 1 OFFSET 2"), [], read_row)
            .expect("row 3");
        row.actor = Some("mallory".into());
        let prev = prev.expect("prev");
        conn.execute(
            "UPDATE provisioning_events SET actor = 'mallory', row_hash = ?1 WHERE id = 3",
            [hash(&prev, &row)],
        )
        .expect("edit and reseal");
        let link = first_break(&conn);
        assert_eq!((link.id, link.problem), (4, LinkProblem::Edited));
    }

    #[test]
    fn deleted_rows_are_named_in_the_middle_and_at_the_end() {
        let (_dir, conn) = five_rows();
        drop_triggers(&conn);
        conn.execute("DELETE FROM provisioning_events WHERE id = 5", [])
            .expect("delete last");
        let link = first_break(&conn);
        assert_eq!((link.id, link.problem), (5, LinkProblem::Missing));
        conn.execute("DELETE FROM provisioning_events WHERE id IN (2, 3)", [])
            .expect("delete middle");
        let link = first_break(&conn);
        assert_eq!((link.id, link.problem), (2, LinkProblem::Missing));
        assert!(link.message.contains("rows 2 to 3"), "{}", link.message);
    }

    #[test]
    fn swapped_rows_are_reported_as_reordered() {
        let (_dir, conn) = five_rows();
        drop_triggers(&conn);
        conn.execute_batch(
            "UPDATE provisioning_events SET id = 100 WHERE id = 2;
             UPDATE provisioning_events SET id = 2 WHERE id = 3;
             UPDATE provisioning_events SET id = 3 WHERE id = 100;",
        )
        .expect("swap");
        let link = first_break(&conn);
        assert_eq!((link.id, link.problem), (2, LinkProblem::Reordered));
    }

    #[test]
    fn rows_keep_chaining_across_connections_and_after_a_restart() {
        let (dir, conn) = five_rows();
        drop(conn);
        let other = crate::db::testing::open(dir.path()).expect("reopen");
        record(
            &other,
            clock::now(),
            &[Entry::account(EventType::SignIn, "ana").by("ana")],
        )
        .expect("record");
        let report = verify(&other).expect("verify");
        assert!(report.intact, "{report:?}");
        assert_eq!(report.rows_checked, 6);
    }
}
