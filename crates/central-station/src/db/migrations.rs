//! Schema migrations, numbered by the schema version they bring the
//! database to. SQLite keeps the version in `PRAGMA user_version` and runs
//! every migration since the first; PostgreSQL keeps it in `station_schema`
//! and starts from a baseline at version 10 (no PostgreSQL database predates
//! it). A migration after 10 is added to both lists, with the same number.
//! Never edit a shipped migration; add one.

use super::{Connection, DbError, Dialect, OptionalExtension as _};

/// SQLite's migrations: entry `n` brings the file from version `n` to `n + 1`.
const SQLITE: &[&str] = &[
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
    include_str!("011_job_leases.sql"),
];

/// PostgreSQL's: the version each brings an empty database to, or an
/// earlier one to; the first is the baseline and runs only on an empty one.
const POSTGRES: &[(i64, &str)] = &[
    (10, include_str!("postgres/010_baseline.sql")),
    (11, include_str!("postgres/011_job_leases.sql")),
];

/// The version migration 003 brings the file to: the audit rows already
/// there are chained then, before 004 makes the table append-only.
const AUDIT_CHAINED: usize = 3;

/// The schema version this build writes.
pub(crate) fn latest() -> i64 {
    i64::try_from(SQLITE.len()).unwrap_or(i64::MAX)
}

/// Brings the schema up to date. The writing transaction makes two
/// processes opening a fresh database at once (two instances, or the
/// station and an admin command) migrate it exactly once.
pub(crate) fn migrate(conn: &Connection) -> Result<(), DbError> {
    // Most opens find the schema current (a running station's database, an
    // admin command or a test beside it): that is read without taking the
    // write lock, which the station's writers would otherwise wait for.
    if current_version(conn) == Some(latest()) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let found = version(&tx)?;
    let known = latest();
    if found > known {
        return Err(DbError::TooNew { found, known });
    }
    if found == known {
        return Ok(());
    }
    match tx.dialect() {
        Dialect::Sqlite => {
            let done = usize::try_from(found).unwrap_or(0);
            for (index, sql) in SQLITE.iter().enumerate().skip(done) {
                tx.execute_batch(sql)?;
                if index + 1 == AUDIT_CHAINED {
                    crate::audit::seal_existing(&tx)?;
                }
            }
            tx.execute_batch(&format!("PRAGMA user_version = {known}"))?;
        }
        Dialect::Postgres => {
            for (index, (version, sql)) in POSTGRES.iter().enumerate() {
                let applies = if index == 0 {
                    found == 0
                } else {
                    *version > found
                };
                if applies {
                    tx.execute_batch(sql)?;
                }
            }
            tx.execute(
                "INSERT INTO station_schema (one, version) VALUES (TRUE, ?1)
                 ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                [known],
            )?;
        }
    }
    tx.commit()
}

/// The schema version, read outside any transaction; `None` where there is
/// none yet to read (a new PostgreSQL database has no `station_schema`).
fn current_version(conn: &Connection) -> Option<i64> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "PRAGMA user_version",
        Dialect::Postgres => "SELECT version FROM station_schema",
    };
    conn.query_row(sql, [], |r| r.get(0)).ok()
}

/// The schema version the database is at; 0 for an empty one.
fn version(conn: &Connection) -> Result<i64, DbError> {
    match conn.dialect() {
        Dialect::Sqlite => conn.query_row("PRAGMA user_version", [], |r| r.get(0)),
        Dialect::Postgres => {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS station_schema (
                     one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
                     version BIGINT NOT NULL)",
            )?;
            Ok(conn
                .query_row("SELECT version FROM station_schema", [], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_end_at_the_same_version() {
        assert_eq!(POSTGRES.last().map(|(v, _)| *v), Some(latest()));
        assert!(POSTGRES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let conn = super::super::testing::memory();
        let bump = match conn.dialect() {
            Dialect::Sqlite => format!("PRAGMA user_version = {}", latest() + 1),
            Dialect::Postgres => format!("UPDATE station_schema SET version = {}", latest() + 1),
        };
        conn.execute_batch(&bump).expect("bump");
        assert!(matches!(migrate(&conn), Err(DbError::TooNew { .. })));
    }

    #[test]
    fn the_audit_table_has_the_seeds_columns_in_order() {
        let conn = super::super::testing::memory();
        let mut stmt = conn
            .prepare(match conn.dialect() {
                Dialect::Sqlite => {
                    "SELECT name FROM pragma_table_info('provisioning_events') ORDER BY cid"
                }
                Dialect::Postgres => {
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
                     WHERE table_name = 'provisioning_events'
                       AND table_schema = current_schema()
                     ORDER BY ordinal_position"
                }
            })
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
        // PostgreSQL databases start at the baseline, after the chain.
        let conn = super::super::testing::empty();
        for sql in &SQLITE[..AUDIT_CHAINED - 1] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.execute_batch(&format!("PRAGMA user_version = {}", AUDIT_CHAINED - 1))
            .expect("version");
        for device in ["ZM-1", "ZM-2"] {
            conn.execute(
                "INSERT INTO provisioning_events (timestamp, event_type, device_id, success)
                 VALUES (1, 'device_registered', ?1, 1)",
                [device],
            )
            .expect("old row");
        }
        migrate(&conn).expect("migrate");
        let report = crate::audit::verify(&conn).expect("verify");
        assert!(report.intact, "{report:?}");
        assert_eq!(report.rows_checked, 2);
        assert!(
            conn.execute("UPDATE provisioning_events SET row_hash = NULL", [])
                .is_err()
        );
    }
}
