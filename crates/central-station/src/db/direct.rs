//! A connection for tests and benchmarks on an async runtime.

use std::path::Path;
use std::sync::Mutex;

use super::{Connection, Database, DbError, Dialect, Params, Row, open, sql};

/// A connection for code outside the station that runs on an async
/// runtime (tests, benchmarks): each call runs on a thread of its own,
/// because the PostgreSQL client blocks and must not block the runtime.
/// Rows are read there and handed back owned.
#[derive(Debug)]
pub struct Direct {
    /// `None` only while being dropped.
    conn: Mutex<Option<Connection>>,
}

/// The PostgreSQL client blocks while closing, too: it is closed on a
/// thread of its own, as it was opened.
impl Drop for Direct {
    fn drop(&mut self) {
        let conn = self
            .conn
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(conn) = conn.filter(|c| c.dialect() == Dialect::Postgres) {
            std::thread::scope(|s| {
                s.spawn(move || drop(conn));
            });
        }
    }
}

impl Direct {
    /// Opens (and migrates) the database of a data directory.
    pub fn open(data_dir: &Path, database: &Database) -> Result<Self, DbError> {
        let conn = std::thread::scope(|s| {
            s.spawn(|| open(data_dir, database))
                .join()
                .unwrap_or(Err(DbError::Panicked))
        })?;
        Ok(Self {
            conn: Mutex::new(Some(conn)),
        })
    }

    fn run<T: Send>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, DbError> + Send,
    ) -> Result<T, DbError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                let conn = self.conn.lock().map_err(|_| DbError::Panicked)?;
                f(conn.as_ref().ok_or(DbError::Closed)?)
            })
            .join()
            .unwrap_or(Err(DbError::Panicked))
        })
    }

    /// Which SQL the database speaks.
    pub fn dialect(&self) -> Dialect {
        self.conn
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(Connection::dialect))
            .unwrap_or(Dialect::Sqlite)
    }

    /// [`Connection::execute`].
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize, DbError> {
        let values = params.into_values();
        self.run(|c| c.execute(sql, values))
    }

    /// [`Connection::execute_batch`].
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.run(|c| c.execute_batch(sql))
    }

    /// [`Connection::query_all`].
    pub fn query_all(&self, sql: &str, params: impl Params) -> Result<Vec<Row>, DbError> {
        let values = params.into_values();
        self.run(|c| c.query_all(sql, values))
    }

    /// [`Connection::query_row`].
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        sql::first_row(&self.query_all(sql, params)?, read)
    }

    /// Each row's `read`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        self.query_all(sql, params)?.iter().map(read).collect()
    }
}
