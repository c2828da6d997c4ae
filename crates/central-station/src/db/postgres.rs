//! The production backend: a PostgreSQL server that several station
//! instances share.
//!
//! The synchronous `postgres` client keeps the store code what it is on
//! SQLite: plain functions running transactions on a connection, on the
//! database threads, away from the async runtime (the client runs its own
//! small runtime and must not be driven from inside tokio's).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error;
use std::path::Path;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::DbError;
use super::sql::{Row, Value, numbered_placeholders};

/// The advisory lock every writing transaction takes first, on every
/// instance: writes are serialised as SQLite's single writer serialises
/// them, so a check and the write it guards never interleave with another's.
pub const WRITE_LOCK: i64 = 0x7a70_6169_725f_7772; // "zpair_wr"

/// Prepared statements kept per connection; the station's SQL is a fixed
/// set plus a few filter combinations, so this bound is never reached in
/// practice and only guards memory.
const STATEMENT_CACHE: usize = 512;

/// A notification another session (or this instance) sent on commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notification {
    /// Its channel: one of [`super::channel`]'s.
    pub(crate) channel: String,
    /// What it says (a row id, or nothing).
    pub(crate) payload: String,
}

/// One PostgreSQL session.
pub(crate) struct PgConnection {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    in_transaction: Cell<bool>,
    /// A statement of the open transaction failed: PostgreSQL has aborted
    /// it, and would answer COMMIT with a silent rollback.
    aborted: Cell<bool>,
}

impl PgConnection {
    /// Connects to `url` (`postgres://user:password@host:port/database`, or
    /// any form libpq accepts): over TLS checked against the certificate
    /// authorities in `ca` when given, whatever the URL's `sslmode` says;
    /// without, only to a server on this host.
    pub(crate) fn connect(url: &str, ca: Option<&Path>) -> Result<Self, DbError> {
        let mut config: postgres::Config = url.parse()?;
        config
            .application_name("central-station")
            .connect_timeout(Duration::from_secs(10));
        let mut client = match ca {
            Some(ca) => {
                // `prefer` would fall back to clear text when the server
                // offers no TLS.
                config.ssl_mode(SslMode::Require);
                config.connect(verified_tls(ca)?)?
            }
            None => {
                refuse_cleartext_across_the_network(&config)?;
                config.connect(postgres::NoTls)?
            }
        };
        // A transaction waiting on a lock gives up (and rolls back) rather
        // than hanging a request forever; one left open by a stuck instance
        // is ended by the server.
        client.batch_execute(
            "SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '60s'",
        )?;
        Ok(Self {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            aborted: Cell::new(false),
        })
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare(&numbered_placeholders(sql))?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// `result`, noting a failure inside a transaction.
    fn noted<T>(&self, result: Result<T, DbError>) -> Result<T, DbError> {
        if result.is_err() && self.in_transaction.get() {
            self.aborted.set(true);
        }
        result
    }

    pub(super) fn query(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, DbError> {
        self.noted(self.query_unnoted(sql, values))
    }

    fn query_unnoted(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, DbError> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let rows = self.client.borrow_mut().query(&statement, &params)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row::new)
                    .map_err(DbError::from)
            })
            .collect()
    }

    pub(super) fn execute(&self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        self.noted(self.execute_unnoted(sql, values))
    }

    fn execute_unnoted(&self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let changed = self.client.borrow_mut().execute(&statement, &params)?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    pub(super) fn batch(&self, sql: &str) -> Result<(), DbError> {
        let result = self
            .client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(DbError::from);
        self.noted(result)
    }

    pub(super) fn begin_writing(&self) -> Result<(), DbError> {
        self.in_transaction.set(true);
        // Both in one round trip.
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        ))
    }

    pub(super) fn begin_snapshot(&self) -> Result<(), DbError> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        self.in_transaction.set(true);
        Ok(())
    }

    pub(super) fn finish(&self, end: &str) -> Result<(), DbError> {
        let aborted = self.aborted.replace(false);
        self.in_transaction.set(false);
        if aborted && end == "COMMIT" {
            self.batch("ROLLBACK")?;
            return Err(DbError::Invalid(
                "transaction (a statement in it failed; nothing was committed)",
            ));
        }
        self.batch(end)
    }

    pub(super) fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    pub(super) fn set_durable(&self, durable: bool) -> Result<(), DbError> {
        self.batch(if durable {
            "SET synchronous_commit TO on"
        } else {
            "SET synchronous_commit TO off"
        })
    }

    /// The notifications that arrive within `wait` (at most), with any
    /// already queued behind them.
    pub(super) fn notifications(&self, wait: Duration) -> Result<Vec<Notification>, DbError> {
        use postgres::fallible_iterator::FallibleIterator as _;
        let mut client = self.client.borrow_mut();
        let mut notifications = client.notifications();
        let mut heard = Vec::new();
        let first = notifications.timeout_iter(wait).next()?;
        if let Some(first) = first {
            heard.push(first);
            let mut queued = notifications.iter();
            while let Some(next) = queued.next()? {
                heard.push(next);
            }
        }
        Ok(heard
            .into_iter()
            .map(|n| Notification {
                channel: n.channel().to_owned(),
                payload: n.payload().to_owned(),
            })
            .collect())
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

/// What went wrong, in words an administrator can act on: the client's own
/// text says only "db error" or "error performing TLS handshake", and the
/// cause is in the server's message or the error's source. The server's
/// detail line, which may quote row values, is left out.
pub(super) fn describe(error: &postgres::Error) -> String {
    if let Some(server) = error.as_db_error() {
        return format!("{} ({})", server.message(), server.code().code());
    }
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// TLS whose server certificate must chain to one of the authorities in the
/// PEM file `ca` and name the host connected to (rustls checks both, as
/// libpq's `verify-full` does). The file is read at each connection, so a
/// replaced authority is picked up without a restart.
fn verified_tls(ca: &Path) -> Result<MakeRustlsConnect, DbError> {
    let problem = |problem: String| DbError::ServerCa {
        path: ca.to_path_buf(),
        problem,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca).map_err(|e| problem(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| problem(e.to_string()))?;
        roots.add(certificate).map_err(|e| problem(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(problem("it holds no certificate".to_owned()));
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| problem(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Without certificate authorities to check a server against, the station
/// connects only where nothing crosses a network: a Unix socket or a
/// loopback address. The password and every record would otherwise cross
/// the hospital's network in clear.
fn refuse_cleartext_across_the_network(config: &postgres::Config) -> Result<(), DbError> {
    use postgres::config::Host;
    let local = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    if config.get_hosts().iter().all(local)
        && !config.get_hostaddrs().iter().any(|ip| !ip.is_loopback())
    {
        Ok(())
    } else {
        Err(DbError::NeedsTls)
    }
}

/// Binds a [`Value`] to whatever type PostgreSQL inferred for the parameter,
/// converting where the meaning is unambiguous (an integer to a smaller
/// integer in range, a boolean to 0 or 1 and back); anything else is an
/// error naming both sides, found by the suite's PostgreSQL run.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let integer = |i: i64, out: &mut _| -> Result<IsNull, Box<dyn Error + Sync + Send>> {
            match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound to a {ty} parameter").into()),
            }
        };
        match self {
            Self::Null => Ok(IsNull::Yes),
            Self::Integer(i) => integer(*i, out),
            Self::Bool(b) if *ty == Type::BOOL => b.to_sql(ty, out),
            Self::Bool(b) => integer(i64::from(*b), out),
            Self::Text(text) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    text.as_str().to_sql(ty, out)
                }
                _ => Err(format!("text cannot be bound to a {ty} parameter").into()),
            },
            Self::Blob(bytes) if *ty == Type::BYTEA => bytes.as_slice().to_sql(ty, out),
            Self::Blob(_) => Err(format!("bytes cannot be bound to a {ty} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Reads any column type the station's schema uses.
impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Self::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Self::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Self::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Self::Bool(bool::from_sql(ty, raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                Self::Text(String::from_sql(ty, raw)?)
            }
            Type::BYTEA => Self::Blob(Vec::from_sql(ty, raw)?),
            _ => {
                return Err(
                    format!("a column of type {ty}, which the station does not use").into(),
                );
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Self::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_servers_are_reached_without_tls() {
        let allowed =
            |url: &str| refuse_cleartext_across_the_network(&url.parse().expect(url)).is_ok();
        assert!(allowed("postgres://u:p@127.0.0.1:5432/zpair"));
        assert!(allowed("postgres://u:p@localhost/zpair"));
        assert!(allowed("postgres://u:p@[::1]:5432/zpair"));
        assert!(allowed("host=/run/postgresql user=zpair dbname=zpair"));
        assert!(!allowed("postgres://u:p@db.hospital.example/zpair"));
        assert!(!allowed("postgres://u:p@10.0.0.5/zpair"));
        assert!(!allowed("postgres://u:p@127.0.0.1,10.0.0.5/zpair"));
        assert!(!allowed("host=localhost hostaddr=10.0.0.5 user=zpair"));
    }
}
