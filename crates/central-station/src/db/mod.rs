//! The station's database: a SQLite file in the data directory (the
//! embedded default), or a PostgreSQL database that several station
//! instances share. One [`Connection`] type speaks to either; the store
//! modules write their SQL once, in the subset both databases accept.
//!
//! The async side never touches the database directly: [`Db::call`] hands a
//! closure to a database thread that owns a connection, so blocking I/O
//! stays off the runtime. SQLite has one such thread (one writer at a time
//! is all SQLite allows); PostgreSQL has a few, and its writing
//! transactions take one advisory lock, which keeps the same one-writer
//! order across every instance.

mod connection;
mod direct;
pub(crate) mod migrations;
mod name;
mod postgres;
mod sql;
mod sqlite;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

pub use crate::params;
pub use connection::{Connection, Statement, Transaction};
pub use direct::Direct;
use name::NameHeld;
pub(crate) use postgres::Notification;
pub use postgres::WRITE_LOCK;
pub use sql::{FromValue, OptionalExtension, Params, Row, ToValue, Value, params_from_iter};

use crate::fsutil::FsError;

/// The channels PostgreSQL's triggers notify on commit
/// (`db/postgres/011_job_leases.sql`), so every instance on the database
/// hears what any of them committed.
pub(crate) mod channel {
    /// A job step; the payload is its `job_events` row id.
    pub(crate) const JOB_EVENTS: &str = "zpair_job_events";
    /// A certificate was revoked: the CRL and TLS must be renewed.
    pub(crate) const CERTIFICATES: &str = "zpair_certificates";
    /// A session was revoked: event streams check theirs.
    pub(crate) const SESSIONS: &str = "zpair_sessions";
    /// Not a channel: what the listener hands over after it listened again
    /// following a failure, when whatever was committed meanwhile went
    /// unheard.
    pub(crate) const MISSED: &str = "zpair_missed";
}

/// How long the listener waits for notifications before it checks whether
/// anyone still wants them.
const LISTEN_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Where a station keeps its records.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the data directory.
    #[default]
    File,
    /// A PostgreSQL database, shared by every instance pointed at it.
    Postgres {
        /// `postgres://user:password@host:port/database`.
        url: String,
        /// Connections (and database threads) this instance keeps open.
        connections: usize,
        /// A PEM file of the certificate authorities that sign the server's
        /// certificate. With it every connection is TLS, the certificate
        /// checked against them and the host name (libpq's `verify-full`),
        /// never clear text; without it only a local server is reached.
        ca: Option<PathBuf>,
    },
}

/// The URL carries the password: never print it.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File => f.write_str("File"),
            Self::Postgres {
                connections, ca, ..
            } => f
                .debug_struct("Postgres")
                .field("url", &"<redacted>")
                .field("connections", connections)
                .field("ca", ca)
                .finish(),
        }
    }
}

/// Connections a PostgreSQL-backed instance keeps unless told otherwise:
/// writers wait their turn for the write lock on a connection each, and
/// the reads (every request's token check among them) need some left.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// Which SQL a connection speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL 15 or later.
    Postgres,
}

impl Dialect {
    /// SQL for the database's clock now, in Unix milliseconds: for what
    /// several hosts compare (job leases), which one clock must decide.
    pub(crate) fn now_ms(self) -> &'static str {
        match self {
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Self::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }
}

/// Where the SQLite database of a data directory lives.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(sqlite::FILE_NAME)
}

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused, or the server could not be reached.
    #[error("database: {}", postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The certificate authorities to check the server's TLS certificate
    /// against could not be used.
    #[error("the database server's certificate authorities in {path}: {problem}")]
    ServerCa {
        /// The PEM file named by `--database-ca`.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A server on another host was named without the authorities to
    /// check its TLS certificate against.
    #[error(
        "the PostgreSQL server is on another host, so it is reached only over TLS: name the \
         certificate authorities that sign its certificate with --database-ca (or ZPAIR_DATABASE_CA)"
    )]
    NeedsTls,
    /// A query expected a row and found none.
    #[error("database: the query found no row")]
    NoRows,
    /// A column did not hold what the code reads from it.
    #[error("database: column {index} holds {problem}")]
    Column {
        /// The column, from 0.
        index: usize,
        /// What was found instead.
        problem: &'static str,
    },
    /// The database thread is gone (the station is shutting down).
    #[error("the database thread has stopped")]
    Closed,
    /// A stored value is not one this station writes.
    #[error("the database holds an invalid {0}")]
    Invalid(&'static str),
    /// The database was migrated by a newer station.
    #[error("database schema version {found} is newer than this station's ({known})")]
    TooNew {
        /// The schema version found.
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
    /// Another running instance has this instance's name.
    #[error(
        "another station instance named {0:?} is running on this database: give each instance its own --instance-id"
    )]
    InstanceTaken(String),
    /// The database thread could not be started.
    #[error("cannot start the database thread: {0}")]
    Thread(std::io::Error),
}

impl DbError {
    /// Whether trying again shortly may succeed: PostgreSQL gave up waiting
    /// for a lock (`lock_timeout`), cancelled a transaction to resolve a
    /// conflict or deadlock, or is starting or out of connections; or the
    /// connection to it was lost.
    pub fn is_transient(&self) -> bool {
        use ::postgres::error::SqlState;
        let Self::Postgres(error) = self else {
            return false;
        };
        if error.is_closed() {
            return true;
        }
        error.code().is_some_and(|code| {
            [
                SqlState::LOCK_NOT_AVAILABLE,
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::ADMIN_SHUTDOWN,
            ]
            .contains(code)
        })
    }
}

/// Opens a connection without migrating: SQLite's file is created (mode
/// 0600) if missing, a PostgreSQL server is connected to.
fn connect(data_dir: &Path, database: &Database) -> Result<Connection, DbError> {
    Ok(match database {
        Database::File => Connection::sqlite(sqlite::open(data_dir)?),
        Database::Postgres { url, ca, .. } => {
            Connection::postgres(postgres::PgConnection::connect(url, ca.as_deref())?)
        }
    })
}

/// Opens and migrates the database. Used directly by the offline admin
/// commands, and by [`Db::start`].
pub(crate) fn open(data_dir: &Path, database: &Database) -> Result<Connection, DbError> {
    let conn = connect(data_dir, database)?;
    migrations::migrate(&conn)?;
    Ok(conn)
}

type Task = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle on the database threads; cheap to clone.
#[derive(Clone)]
pub(crate) struct Db {
    tasks: mpsc::Sender<Task>,
    data_dir: Arc<PathBuf>,
    database: Arc<Database>,
    /// On PostgreSQL, this instance's name, held for as long as it runs.
    name: Option<Arc<NameHeld>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .finish()
    }
}

impl Db {
    /// Opens the database and starts the threads that own its connections.
    /// Each thread opens its own (the first also migrates), away from the
    /// async runtime, whose threads the PostgreSQL client must not block.
    /// The threads end when the last handle is dropped.
    pub(crate) fn start(
        data_dir: &Path,
        database: &Database,
        instance_id: &str,
    ) -> Result<Self, DbError> {
        let threads = match database {
            Database::File => 1,
            Database::Postgres { connections, .. } => (*connections).max(1),
        };
        let (tasks, queue) = mpsc::channel::<Task>();
        let queue = Arc::new(Mutex::new(queue));
        let (ready, opened) = mpsc::channel::<Result<(), DbError>>();
        for n in 0..threads {
            let (queue, ready) = (Arc::clone(&queue), ready.clone());
            let (data_dir, database) = (data_dir.to_owned(), database.clone());
            std::thread::Builder::new()
                .name(format!("station-db-{n}"))
                .spawn(move || {
                    let conn = if n == 0 {
                        open(&data_dir, &database)
                    } else {
                        connect(&data_dir, &database)
                    };
                    match conn {
                        Ok(conn) => {
                            let _ = ready.send(Ok(()));
                            serve(conn, &queue, &data_dir, &database);
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                })
                .map_err(DbError::Thread)?;
        }
        for _ in 0..threads {
            opened.recv().map_err(|_| DbError::Closed)??;
        }
        let name = match database {
            Database::File => None,
            Database::Postgres { .. } => {
                Some(Arc::new(NameHeld::take(data_dir, database, instance_id)?))
            }
        };
        Ok(Self {
            tasks,
            data_dir: Arc::new(data_dir.to_owned()),
            database: Arc::new(database.clone()),
            name,
        })
    }

    /// Gives this instance's name back (a stopping station), so another
    /// instance under it can start at once.
    pub(crate) fn release_name(&self) {
        if let Some(name) = &self.name {
            name.release();
        }
    }

    /// Which SQL the database speaks.
    pub(crate) fn dialect(&self) -> Dialect {
        match *self.database {
            Database::File => Dialect::Sqlite,
            Database::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// On PostgreSQL, starts a thread that listens to every [`channel`] on
    /// a connection of its own and hands `heard` each batch of
    /// notifications with that connection, to read what they point at,
    /// for as long as `wanted` says; returns once it listens. It reconnects
    /// after a failure and then hands over [`channel::MISSED`]: what was
    /// committed meanwhile went unheard. Nothing on SQLite: its one
    /// instance hears its own writes directly.
    pub(crate) fn listen(
        &self,
        wanted: impl Fn() -> bool + Send + 'static,
        mut heard: impl FnMut(&Connection, &[Notification]) + Send + 'static,
    ) -> Result<(), DbError> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        let (data_dir, database) = ((*self.data_dir).clone(), (*self.database).clone());
        let (ready, listening) = mpsc::channel::<Result<(), DbError>>();
        std::thread::Builder::new()
            .name("station-db-listen".into())
            .spawn(move || {
                let mut first = true;
                while wanted() {
                    let run = connect(&data_dir, &database).and_then(|conn| {
                        conn.execute_batch(&format!(
                            "LISTEN {}; LISTEN {}; LISTEN {};",
                            channel::JOB_EVENTS,
                            channel::CERTIFICATES,
                            channel::SESSIONS
                        ))?;
                        if first {
                            first = false;
                            let _ = ready.send(Ok(()));
                        } else {
                            let missed = Notification {
                                channel: channel::MISSED.to_owned(),
                                payload: String::new(),
                            };
                            heard(&conn, &[missed]);
                        }
                        while wanted() {
                            let batch = conn.notifications(LISTEN_WAIT)?;
                            heard(&conn, &batch);
                        }
                        Ok(())
                    });
                    if let Err(e) = run {
                        if first {
                            let _ = ready.send(Err(e));
                            return;
                        }
                        tracing::warn!(error = %e, "lost the database's notifications; listening again");
                        std::thread::sleep(LISTEN_WAIT);
                    }
                }
            })
            .map_err(DbError::Thread)?;
        // Serving before listening would miss what others commit meanwhile.
        listening.recv().map_err(|_| DbError::Closed)?
    }

    /// Where the database is.
    pub(crate) fn database(&self) -> &Database {
        &self.database
    }

    /// Runs a long read (checking the whole audit chain) without holding
    /// up the others: on SQLite on a read-only connection of its own (WAL
    /// readers block no writer), on PostgreSQL on one of the database
    /// threads (the others go on serving).
    pub(crate) async fn read_alone<R, F>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        match &*self.database {
            Database::File => {
                let path = database_path(&self.data_dir);
                tokio::task::spawn_blocking(move || {
                    f(&Connection::sqlite(sqlite::open_read_only(&path)?))
                })
                .await
                .map_err(|_| DbError::Panicked)?
            }
            Database::Postgres { .. } => self.call(move |conn| f(conn)).await,
        }
    }

    /// Runs `f` on a database thread and waits for its result.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move |conn| {
            // A panicking query must not take the thread (and the station)
            // down; a transaction it left open is rolled back.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or(Err(DbError::Panicked));
            let _ = reply.send(result);
        });
        self.tasks.send(task).map_err(|_| DbError::Closed)?;
        answer.await.map_err(|_| DbError::Closed)?
    }
}

/// One database thread: takes the next task from the shared queue, runs it
/// on its connection, and replaces the connection if the server closed it.
fn serve(
    mut conn: Connection,
    queue: &Mutex<mpsc::Receiver<Task>>,
    data_dir: &Path,
    database: &Database,
) {
    loop {
        let task = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(task) = task else { return };
        if !conn.is_usable() {
            match connect(data_dir, database) {
                Ok(fresh) => conn = fresh,
                Err(e) => tracing::warn!(error = %e, "cannot reconnect to the database"),
            }
        }
        task(&mut conn);
        conn.roll_back_open_transaction();
    }
}

/// Runs `f` with commits that do not wait for the disk, for high-volume rows
/// whose loss on power failure costs nothing (heartbeat counters). They
/// still survive a crash of the station, and the next durable commit makes
/// them durable with it.
pub(crate) fn relaxed<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, DbError>,
) -> Result<R, DbError> {
    /// Durable again however `f` ends, a panic included: the connection
    /// serves the next task.
    struct Durable<'c>(&'c Connection);
    impl Drop for Durable<'_> {
        fn drop(&mut self) {
            if let Err(e) = self.0.set_durable(true) {
                tracing::error!(error = %e, "cannot make commits durable again");
            }
        }
    }
    conn.set_durable(false)?;
    let _durable = Durable(conn);
    f(conn)
}

/// Reads a `TEXT` column holding one of our enums.
pub(crate) fn parse_column<T>(
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    what: &'static str,
) -> Result<T, DbError> {
    parse(text).ok_or(DbError::Invalid(what))
}

/// A stored integer as an unsigned counter (stored values are never negative).
pub(crate) fn counter(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// An unsigned counter as a stored integer, saturating.
pub(crate) fn to_sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Databases for unit tests: SQLite by default; with `ZPAIR_TEST_POSTGRES`
/// set, a database of their own on a throwaway PostgreSQL server, so the
/// same store tests run against both.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use super::{Connection, Database, DbError, migrations, sqlite};

    /// Whether the tests run on PostgreSQL.
    pub(crate) fn on_postgres() -> bool {
        std::env::var_os("ZPAIR_TEST_POSTGRES").is_some()
    }

    /// True, with a note on the test's output, when a test of something only
    /// SQLite has (its planner, its pragmas) runs against PostgreSQL.
    pub(crate) fn sqlite_only(what: &str) -> bool {
        let skip = on_postgres();
        if skip {
            eprintln!("not run on PostgreSQL: this tests {what}");
        }
        skip
    }

    /// The database a test keeps in `dir`: the same one each time it asks.
    pub(crate) fn database(dir: &Path) -> Database {
        if !on_postgres() {
            return Database::File;
        }
        static MADE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
        let mut made = MADE.lock().expect("databases");
        let url = made
            .get_or_insert_with(HashMap::new)
            .entry(dir.to_owned())
            .or_insert_with(|| {
                let name = format!(
                    "unit_{}_{}",
                    std::process::id(),
                    super::sql::unique_suffix()
                );
                zpair_testkit::postgres::Cluster::shared()
                    .create_database(&name)
                    .expect("a database on the throwaway PostgreSQL server")
            })
            .clone();
        Database::Postgres {
            url,
            connections: 2,
            ca: None,
        }
    }

    /// The test's database in `dir`, opened and migrated.
    pub(crate) fn open(dir: &Path) -> Result<Connection, DbError> {
        super::open(dir, &database(dir))
    }

    /// A migrated, empty database of its own.
    pub(crate) fn memory() -> Connection {
        if on_postgres() {
            let dir = tempfile::tempdir().expect("temp").keep();
            return open(&dir).expect("open");
        }
        let conn = empty();
        migrations::migrate(&conn).expect("migrate");
        conn
    }

    /// A SQLite database with no schema at all.
    pub(crate) fn empty() -> Connection {
        Connection::sqlite(sqlite::memory().expect("in-memory database"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_migrates_and_reopens_the_same_file() {
        let dir = tempfile::tempdir().expect("temp");
        let db = Db::start(dir.path(), &Database::File, "station").expect("start");
        let version: i64 = db
            .call(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .await
            .expect("version");
        assert_eq!(version, migrations::latest());
        drop(db);
        // A second open finds the schema current and changes nothing.
        let conn = open(dir.path(), &Database::File).expect("reopen");
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
        let conn = open(dir.path(), &Database::File).expect("open");
        let sync = |c: &Connection| -> i64 {
            c.query_row("PRAGMA synchronous", [], |r| r.get(0))
                .expect("pragma")
        };
        assert_eq!(sync(&conn), 2, "FULL");
        let inside = relaxed(&conn, |c| Ok(sync(c))).expect("relaxed");
        assert_eq!(inside, 1, "NORMAL");
        let failed = relaxed(&conn, |c| {
            c.execute("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        });
        assert!(failed.is_err());
        assert_eq!(sync(&conn), 2, "FULL again");
    }

    /// The database's clock, which leases are stamped and compared by,
    /// reads Unix milliseconds on both databases.
    #[test]
    fn the_databases_clock_reads_unix_milliseconds() {
        let conn = testing::memory();
        let database: i64 = conn
            .query_row(&format!("SELECT {}", conn.dialect().now_ms()), [], |r| {
                r.get(0)
            })
            .expect("now");
        let here = crate::clock::unix_ms(crate::clock::now());
        assert!((database - here).abs() < 5_000, "{database} against {here}");
    }

    /// PostgreSQL aborts a transaction at its first failed statement and
    /// would answer COMMIT with a silent rollback: the commit says so.
    #[test]
    fn a_transaction_whose_statement_failed_reports_what_was_committed() {
        let conn = testing::memory();
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "INSERT INTO station_meta (key, value) VALUES ('probe', 1)",
            [],
        )
        .expect("insert");
        assert!(
            tx.execute("INSERT INTO no_such_table VALUES (1)", [])
                .is_err()
        );
        let committed = tx.commit();
        let kept: Option<i64> = conn
            .query_row(
                "SELECT value FROM station_meta WHERE key = 'probe'",
                [],
                |r| r.get(0),
            )
            .optional()
            .expect("read");
        match conn.dialect() {
            Dialect::Postgres => {
                assert!(committed.is_err(), "{committed:?}");
                assert_eq!(kept, None);
            }
            // SQLite keeps a transaction going past a failed statement.
            Dialect::Sqlite => {
                committed.expect("committed");
                assert_eq!(kept, Some(1));
            }
        }
        assert!(!conn.in_transaction());
    }

    #[tokio::test]
    async fn a_panicking_query_does_not_stop_the_thread() {
        let dir = tempfile::tempdir().expect("temp");
        let db = Db::start(dir.path(), &Database::File, "station").expect("start");
        let failed = db.call(|_| -> Result<(), DbError> { panic!("boom") }).await;
        assert!(matches!(failed, Err(DbError::Panicked)));
        let count: i64 = db
            .call(|c| c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)))
            .await
            .expect("still serving");
        assert_eq!(count, 0);
    }
}
