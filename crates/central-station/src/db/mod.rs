//! The station's SQLite database: one file in the data directory, created and
//! migrated on first use, in WAL mode with full fsync so every answered
//! request and every streamed event is on disk.
//!
//! The async side never touches SQLite directly: [`Db::call`] hands a closure
//! to one dedicated thread that owns the connection, so blocking I/O stays off
//! the runtime and writes are serialised without lock contention.

pub(crate) mod migrations;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::fsutil::{self, FsError};

/// The database file's name inside the data directory.
pub(crate) const FILE_NAME: &str = "station.sqlite3";

/// Where the database of a data directory lives.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database thread is gone (the station is shutting down).
    #[error("the database thread has stopped")]
    Closed,
    /// A stored value is not one this station writes.
    #[error("the database holds an invalid {0}")]
    Invalid(&'static str),
    /// The file was migrated by a newer station.
    #[error("database schema version {found} is newer than this station's ({known})")]
    TooNew {
        /// `PRAGMA user_version` found.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// The file or its directory could not be prepared.
    #[error(transparent)]
    File(#[from] FsError),
    /// A database operation panicked; its transaction was rolled back.
    #[error("a database operation failed unexpectedly")]
    Panicked,
    /// The database thread could not be started.
    #[error("cannot start the database thread: {0}")]
    Thread(std::io::Error),
}

/// Opens (creating if needed) and migrates the database of a data directory.
/// Used directly by the offline admin commands, and by [`Db::start`].
pub(crate) fn open(data_dir: &Path) -> Result<Connection, DbError> {
    fsutil::ensure_dir(data_dir)?;
    let path = database_path(data_dir);
    create_private(&path)?;
    let mut conn = Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Invalid("journal mode (WAL unavailable)"));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Every transaction takes the write lock when it begins: what it checks
    // is then what it writes over, even against another process (an admin
    // command), and it waits (busy timeout) rather than failing when a read
    // snapshot would have to be upgraded after someone else wrote.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    add_functions(&conn)?;
    migrations::migrate(&mut conn)?;
    Ok(conn)
}

/// SQL functions of our own: `fold(text)`, the text in lower case by
/// Unicode's rules (SQLite's `lower` and `LIKE` fold ASCII only), for
/// searches that ignore case in any script.
pub(crate) fn add_functions(conn: &Connection) -> Result<(), DbError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                rusqlite::types::ValueRef::Text(bytes) => {
                    Some(String::from_utf8_lossy(bytes).to_lowercase())
                }
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

type Task = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle on the database thread; cheap to clone.
#[derive(Clone)]
pub(crate) struct Db {
    tasks: mpsc::Sender<Task>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens the database and starts the thread that owns the connection. The
    /// thread ends when the last handle is dropped.
    pub(crate) fn start(data_dir: &Path) -> Result<Self, DbError> {
        let mut conn = open(data_dir)?;
        let (tasks, queue) = mpsc::channel::<Task>();
        std::thread::Builder::new()
            .name("station-db".into())
            .spawn(move || {
                while let Ok(task) = queue.recv() {
                    task(&mut conn);
                }
            })
            .map_err(DbError::Thread)?;
        Ok(Self {
            tasks,
            path: Arc::new(database_path(data_dir)),
        })
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the database thread and waits for its result.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move |conn| {
            // A panicking query must not take the thread (and the station) down;
            // an open transaction rolls back as it unwinds.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or(Err(DbError::Panicked));
            let _ = reply.send(result);
        });
        self.tasks.send(task).map_err(|_| DbError::Closed)?;
        answer.await.map_err(|_| DbError::Closed)?
    }
}

/// Runs `f` with commits that skip the fsync (`synchronous = NORMAL`), for
/// high-volume rows whose loss on power failure costs nothing (heartbeat
/// counters). They still survive a crash of the process, and the next full
/// commit makes them durable with it.
pub(crate) fn relaxed<R>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<R, DbError>,
) -> Result<R, DbError> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let result = f(conn);
    conn.pragma_update(None, "synchronous", "FULL")?;
    result
}

/// Reads a `TEXT` column holding one of our enums.
pub(crate) fn parse_column<T>(
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    what: &'static str,
) -> Result<T, DbError> {
    parse(text).ok_or(DbError::Invalid(what))
}

/// A SQLite integer as an unsigned counter (stored values are never negative).
pub(crate) fn counter(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// An unsigned counter as a SQLite integer, saturating.
pub(crate) fn to_sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_migrates_and_reopens_the_same_file() {
        let dir = tempfile::tempdir().expect("temp");
        let db = Db::start(dir.path()).expect("start");
        let version: i64 = db
            .call(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .await
            .expect("version");
        assert_eq!(version, migrations::latest());
        drop(db);
        // A second open finds the schema current and changes nothing.
        let conn = open(dir.path()).expect("reopen");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        use std::os::unix::fs::PermissionsExt as _;
        let perms = std::fs::metadata(database_path(dir.path()))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(perms & 0o777, 0o600);
    }

    #[test]
    fn relaxed_writes_restore_full_sync_even_when_they_fail() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = open(dir.path()).expect("open");
        let sync = |c: &Connection| -> i64 {
            c.query_row("PRAGMA synchronous", [], |r| r.get(0))
                .expect("pragma")
        };
        assert_eq!(sync(&conn), 2, "FULL");
        let inside = relaxed(&mut conn, |c| Ok(sync(c))).expect("relaxed");
        assert_eq!(inside, 1, "NORMAL");
        let failed = relaxed(&mut conn, |c| {
            c.execute("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        });
        assert!(failed.is_err());
        assert_eq!(sync(&conn), 2, "FULL again");
    }

    #[tokio::test]
    async fn a_panicking_query_does_not_stop_the_thread() {
        let dir = tempfile::tempdir().expect("temp");
        let db = Db::start(dir.path()).expect("start");
        let failed = db.call(|_| -> Result<(), DbError> { panic!("boom") }).await;
        assert!(matches!(failed, Err(DbError::Panicked)));
        let count: i64 = db
            .call(|c| Ok(c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?))
            .await
            .expect("still serving");
        assert_eq!(count, 0);
    }
}
