//! The embedded backend: one SQLite file in the data directory, in WAL mode
//! with full fsync, so every answered request and every streamed event is
//! on disk. The demo and a single-instance station use it.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::DbError;
use super::sql::{Row, Value};
use crate::fsutil::{self, FsError};

/// The database file's name inside the data directory.
pub(crate) const FILE_NAME: &str = "station.sqlite3";

/// Opens (creating it mode 0600 if needed) the database file of a data
/// directory, set up as the station needs it; not yet migrated.
pub(crate) fn open(data_dir: &Path) -> Result<rusqlite::Connection, DbError> {
    fsutil::ensure_dir(data_dir)?;
    let path = data_dir.join(FILE_NAME);
    create_private(&path)?;
    let conn = rusqlite::Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Invalid("journal mode (WAL unavailable)"));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    add_functions(&conn)?;
    Ok(conn)
}

/// A read-only connection on an existing file, for a long read beside the
/// station's own connection.
pub(crate) fn open_read_only(path: &Path) -> Result<rusqlite::Connection, DbError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    add_functions(&conn)?;
    Ok(conn)
}

/// An empty database in memory, for unit tests.
#[cfg(test)]
pub(crate) fn memory() -> Result<rusqlite::Connection, DbError> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    add_functions(&conn)?;
    Ok(conn)
}

/// SQL functions of our own: `fold(text)`, the text in lower case by
/// Unicode's rules (SQLite's `lower` and `LIKE` fold ASCII only), for
/// searches that ignore case in any script. The PostgreSQL schema defines
/// the same function.
fn add_functions(conn: &rusqlite::Connection) -> Result<(), DbError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).to_lowercase()),
                _ => None,
            })
        },
    )?;
    Ok(())
}

/// Creates the database file with mode 0600 before SQLite opens it, so the
/// WAL and shared-memory files SQLite adds inherit the same mode.
fn create_private(path: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(FsError::new("cannot create", path, e).into()),
    }
}

pub(super) fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
) -> Result<Vec<Row>, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns)
            .map(|i| row.get_ref(i).map_err(DbError::from).and_then(from_sqlite))
            .collect::<Result<_, _>>()?;
        read.push(Row::new(values));
    }
    Ok(read)
}

pub(super) fn execute(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
) -> Result<usize, DbError> {
    Ok(conn
        .prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(values))?)
}

fn from_sqlite(value: ValueRef<'_>) -> Result<Value, DbError> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Text(bytes) => Value::Text(
            String::from_utf8(bytes.to_vec()).map_err(|_| DbError::Invalid("text (not UTF-8)"))?,
        ),
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
        ValueRef::Real(_) => return Err(DbError::Invalid("real number (the station stores none)")),
    })
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Null => ValueRef::Null,
            Self::Integer(i) => ValueRef::Integer(*i),
            Self::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Self::Text(text) => ValueRef::Text(text.as_bytes()),
            Self::Blob(bytes) => ValueRef::Blob(bytes),
        }))
    }
}
