//! One connection to the station's database, SQLite or PostgreSQL, behind
//! one set of methods. Every method takes `&self` (a transaction borrows
//! the connection and derefs to it), so a store function taking
//! `&Connection` runs the same inside a transaction or out of one.

use std::ops::Deref;

use super::postgres::PgConnection;
use super::sql::{Params, Row};
use super::{DbError, Dialect};

/// A connection to the station's database.
pub struct Connection {
    backend: Backend,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConnection>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn sqlite(conn: rusqlite::Connection) -> Self {
        Self {
            backend: Backend::Sqlite(conn),
        }
    }

    pub(crate) fn postgres(conn: PgConnection) -> Self {
        Self {
            backend: Backend::Postgres(Box::new(conn)),
        }
    }

    /// Which SQL this connection speaks, for the few statements that differ.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Every row the statement returns.
    pub fn query_all(&self, sql: &str, params: impl Params) -> Result<Vec<Row>, DbError> {
        let values = params.into_values();
        match &self.backend {
            Backend::Sqlite(conn) => super::sqlite::query(conn, sql, &values),
            Backend::Postgres(conn) => conn.query(sql, &values),
        }
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize, DbError> {
        let values = params.into_values();
        match &self.backend {
            Backend::Sqlite(conn) => super::sqlite::execute(conn, sql, &values),
            Backend::Postgres(conn) => conn.execute(sql, &values),
        }
    }

    /// Runs several statements without parameters (a migration).
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Backend::Postgres(conn) => conn.batch(sql),
        }
    }

    /// The first row's `read`, or [`DbError::NoRows`] (see
    /// [`OptionalExtension`](super::OptionalExtension)).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        super::sql::first_row(&self.query_all(sql, params)?, read)
    }

    /// A statement to run once or more. Both databases keep their prepared
    /// statements in a cache keyed by the text, so this costs nothing.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>, DbError> {
        Ok(Statement {
            conn: self,
            sql: sql.to_owned(),
        })
    }

    /// The same as [`Connection::prepare`]; kept for the reader who knows
    /// rusqlite's name for it.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>, DbError> {
        self.prepare(sql)
    }

    /// Begins a transaction that holds the station's write lock from its
    /// first statement: what it checks is then what it writes over, across
    /// processes and station instances. It rolls back when dropped uncommitted.
    pub fn transaction(&self) -> Result<Transaction<'_>, DbError> {
        if self.in_transaction() {
            return Err(DbError::Invalid("transaction inside a transaction"));
        }
        match &self.backend {
            Backend::Sqlite(conn) => conn.execute_batch("BEGIN IMMEDIATE")?,
            Backend::Postgres(conn) => conn.begin_writing()?,
        }
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    /// Begins a read-only transaction: one consistent snapshot of the whole
    /// database, taking no lock that writers wait for.
    pub fn snapshot(&self) -> Result<Transaction<'_>, DbError> {
        match &self.backend {
            Backend::Sqlite(conn) => conn.execute_batch("BEGIN DEFERRED")?,
            Backend::Postgres(conn) => conn.begin_snapshot()?,
        }
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(conn) => !conn.is_autocommit(),
            Backend::Postgres(conn) => conn.in_transaction(),
        }
    }

    /// Whether commits wait until they are on disk. Off only for rows whose
    /// loss on power failure costs nothing (heartbeat counters): they still
    /// survive a crash of the station, and the next durable commit carries
    /// them to disk with it.
    pub(crate) fn set_durable(&self, durable: bool) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
                Ok(())
            }
            Backend::Postgres(conn) => conn.set_durable(durable),
        }
    }

    /// Ends the open transaction, if any, without its changes: the safety
    /// net after a task that returned early or panicked.
    pub(crate) fn roll_back_open_transaction(&self) {
        if self.in_transaction() {
            let _ = self.finish("ROLLBACK");
        }
    }

    fn finish(&self, end: &str) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(conn.execute_batch(end)?),
            Backend::Postgres(conn) => conn.finish(end),
        }
    }

    /// On PostgreSQL, the notifications that arrive within `wait`, for a
    /// connection that ran `LISTEN`; SQLite has none.
    pub(crate) fn notifications(
        &self,
        wait: std::time::Duration,
    ) -> Result<Vec<super::Notification>, DbError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Vec::new()),
            Backend::Postgres(conn) => conn.notifications(wait),
        }
    }

    /// Whether the connection can still be used (a PostgreSQL server can
    /// close it; the pool then opens another).
    pub(crate) fn is_usable(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(_) => true,
            Backend::Postgres(conn) => !conn.is_closed(),
        }
    }
}

/// A statement bound to its connection.
#[derive(Debug)]
pub struct Statement<'c> {
    conn: &'c Connection,
    sql: String,
}

impl Statement<'_> {
    /// Each row's `read`.
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        mut read: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<std::vec::IntoIter<Result<T, DbError>>, DbError> {
        let rows = self.conn.query_all(&self.sql, params)?;
        Ok(rows.iter().map(&mut read).collect::<Vec<_>>().into_iter())
    }

    /// The first row's `read`.
    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        read: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.conn.query_row(&self.sql, params, read)
    }

    /// Every row.
    pub fn query(&mut self, params: impl Params) -> Result<Vec<Row>, DbError> {
        self.conn.query_all(&self.sql, params)
    }

    /// Runs it; the number of rows changed.
    pub fn execute(&mut self, params: impl Params) -> Result<usize, DbError> {
        self.conn.execute(&self.sql, params)
    }
}

/// An open transaction; derefs to its connection.
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Transaction<'_> {
    /// Makes its changes permanent.
    pub fn commit(mut self) -> Result<(), DbError> {
        self.done = true;
        self.conn.finish("COMMIT")
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.roll_back_open_transaction();
        }
    }
}
