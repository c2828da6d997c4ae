//! Schema migrations, numbered by `PRAGMA user_version`: migration `n` brings
//! the file from version `n` to `n + 1`. Never edit a shipped migration; add one.

use rusqlite::{Connection, TransactionBehavior};

use super::DbError;

const MIGRATIONS: &[&str] = &[
    include_str!("001_initial.sql"),
    include_str!("002_fail_safe.sql"),
    include_str!("003_audit_chain.sql"),
    include_str!("004_audit_append_only.sql"),
    include_str!("005_accounts_and_sessions.sql"),
    include_str!("006_pairing_gate.sql"),
    include_str!("007_certificate_renewal.sql"),
    include_str!("008_administrators.sql"),
    include_str!("009_administrators_queries.sql"),
    include_str!("010_pair_request_limits.sql"),
];

/// The version migration 003 brings the file to: the audit rows already
/// there are chained then, before 004 makes the table append-only.
const AUDIT_CHAINED: usize = 3;

/// The schema version this build writes.
pub(crate) fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the schema up to date. The immediate transaction makes two
/// processes opening a fresh file at once (the station and an admin command)
/// migrate it exactly once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = latest();
    if found > known {
        return Err(DbError::TooNew { found, known });
    }
    let done = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.execute_batch(sql)?;
        if index + 1 == AUDIT_CHAINED {
            crate::audit::seal_existing(&tx)?;
        }
    }
    if found != known {
        tx.pragma_update(None, "user_version", known)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("memory");
        migrate(&mut conn).expect("fresh");
        conn.pragma_update(None, "user_version", latest() + 1)
            .expect("bump");
        assert!(matches!(migrate(&mut conn), Err(DbError::TooNew { .. })));
    }

    #[test]
    fn the_audit_table_has_the_seeds_columns_in_order() {
        let mut conn = Connection::open_in_memory().expect("memory");
        migrate(&mut conn).expect("migrate");
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info('provisioning_events') ORDER BY cid")
            .expect("prepare");
        let columns: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            columns,
            [
                "id",
                "timestamp",
                "event_type",
                "device_id",
                "pairing_code",
                "success",
                "error_message",
                "configuration_hash",
                "actor",
                "job_id",
                "source_address",
                "subject",
                "prev_hash",
                "row_hash"
            ]
        );
    }

    #[test]
    fn rows_written_before_the_chain_are_sealed_once_and_then_frozen() {
        let mut conn = Connection::open_in_memory().expect("memory");
        for sql in &MIGRATIONS[..AUDIT_CHAINED - 1] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.pragma_update(None, "user_version", AUDIT_CHAINED as i64 - 1)
            .expect("version");
        for device in ["ZM-1", "ZM-2"] {
            conn.execute(
                "INSERT INTO provisioning_events (timestamp, event_type, device_id, success)
                 VALUES (1, 'device_registered', ?1, 1)",
                [device],
            )
            .expect("old row");
        }
        migrate(&mut conn).expect("migrate");
        let report = crate::audit::verify(&conn).expect("verify");
        assert!(report.intact, "{report:?}");
        assert_eq!(report.rows_checked, 2);
        assert!(
            conn.execute("UPDATE provisioning_events SET row_hash = NULL", [])
                .is_err()
        );
    }
}
