//! How a station is set up: where it keeps its data, where it listens, and
//! the limits the design names (token lifetimes, heartbeat interval, rate limits).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::db::Database;
use crate::db::{Connection, DbError};

/// The fail-safe window of the seeds' flow: long enough for a monitor on a
/// busy ward network to reach the station a few times, short enough that a
/// monitor never waits minutes in a half-paired state.
pub const DEFAULT_FAIL_SAFE: Duration = Duration::from_secs(60);
/// Pairing jobs talking to monitors at once, by default. A burst of requests
/// (a ward of monitors paired together) queues in PAIRING rather than
/// starving every exchange of CPU until their connect timeouts fire.
pub const DEFAULT_PARALLEL_EXCHANGES: usize = 64;

/// The instance name of a station that is not told one (the only instance
/// on its database, as with SQLite).
pub const DEFAULT_INSTANCE_ID: &str = "station";

/// Whether `id` can name a station instance: 1 to 64 letters, digits, `.`,
/// `_` or `-` (it is written to the database and to logs).
pub fn is_instance_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// How long a re-provisioning authorises its pairing: the time to walk to
/// the monitor, read its new code and pair it, with margin.
pub const DEFAULT_REPROVISION_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Everything [`crate::Station::start`] needs.
#[derive(Debug, Clone)]
pub struct StationConfig {
    /// SQLite file, CA, server certificate and provisioning key live here.
    pub data_dir: PathBuf,
    /// Where the HTTPS API listens (`127.0.0.1:8443`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The `serverUrl` pushed to monitors; `None` means `https://<bound address>`.
    pub public_url: Option<String>,
    /// Extra names (DNS or IP) the server certificate must cover.
    pub hostnames: Vec<String>,
    /// The port every monitor serves its provisioning API on.
    pub monitor_port: u16,
    /// How often monitors send heartbeats; three missed ones mean disconnected.
    pub heartbeat_interval: Duration,
    /// Lifetime of an access token.
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token; never past its sign-in's [`Self::session_lifetime`].
    pub refresh_token_ttl: Duration,
    /// How long one sign-in lasts at most (a shift): refreshes never extend
    /// it, and the technician signs in again after it.
    pub session_lifetime: Duration,
    /// Pair-request rate limits.
    pub rate_limits: RateLimits,
    /// The fail-safe window the station arms on each monitor it configures:
    /// the monitor rolls back unless its proof of commit is accepted within
    /// it, and the station waits for that proof a little longer.
    pub fail_safe: Duration,
    /// Bounds at the network edge: connections, streams, timeouts.
    pub edge: crate::edge::EdgeLimits,
    /// How long a confirmed re-provisioning lets its device be paired again
    /// (once); past it, the technician re-provisions again.
    pub reprovision_window: Duration,
    /// How a pairing job retries a monitor it could not reach.
    pub monitor_retry: RetryPolicy,
    /// How long the monitors' client certificates are valid (a year; tests
    /// use seconds). Monitors renew theirs over mTLS before it ends.
    pub client_certificate_lifetime: Duration,
    /// Pairing jobs exchanging messages with their monitors at once; the
    /// others wait their turn in PAIRING. A job whose configuration is
    /// pushed holds no turn while it waits for its monitor's proof of
    /// commit (VALIDATING, then CONFIRMING).
    pub parallel_exchanges: usize,
    /// Where the records are: a SQLite file in [`Self::data_dir`] (the
    /// default), or a PostgreSQL database shared with other instances.
    pub database: Database,
    /// This instance's name among the stations sharing a database: the jobs
    /// it runs are leased under it. Kept across restarts, so a restarted
    /// instance takes its own jobs back at once instead of waiting for
    /// their leases to run out; each instance on one database needs its own.
    pub instance_id: String,
}

/// Retries of a monitor the station could not reach (ward networks drop
/// packets and monitors reboot): a refusal is never retried, only the
/// network, and only where repeating the request is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub attempts: u32,
    /// The wait before the second attempt; each further one waits twice
    /// as long as the one before.
    pub backoff: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (2 for the first retry).
    pub fn wait_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(16);
        self.backoff.saturating_mul(1 << doublings)
    }
}

impl Default for RetryPolicy {
    /// Three attempts, 1 s then 2 s apart: a monitor rebooting or a switch
    /// port flapping, without keeping the technician waiting long.
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

impl StationConfig {
    /// The defaults of the design: monitors on port 9443, heartbeats every
    /// 10 s, access tokens for 15 min, refresh tokens and sign-ins for 12 h.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        Self {
            data_dir,
            listen,
            public_url: None,
            hostnames: Vec::new(),
            monitor_port: 9443,
            heartbeat_interval: Duration::from_secs(10),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(12 * 60 * 60),
            session_lifetime: Duration::from_secs(12 * 60 * 60),
            rate_limits: RateLimits::default(),
            fail_safe: DEFAULT_FAIL_SAFE,
            edge: crate::edge::EdgeLimits::default(),
            reprovision_window: DEFAULT_REPROVISION_WINDOW,
            monitor_retry: RetryPolicy::default(),
            client_certificate_lifetime: crate::pki::CLIENT_LIFETIME,
            parallel_exchanges: DEFAULT_PARALLEL_EXCHANGES,
            database: Database::File,
            instance_id: DEFAULT_INSTANCE_ID.to_owned(),
        }
    }

    /// The SQLite file inside [`Self::data_dir`], used when
    /// [`Self::database`] is [`Database::File`].
    pub fn database_path(&self) -> PathBuf {
        crate::db::database_path(&self.data_dir)
    }

    /// A connection to the station's database, migrated, outside any
    /// running station: for the offline admin commands and for tests that
    /// look at what was stored.
    pub fn open_database(&self) -> Result<Connection, DbError> {
        crate::db::open(&self.data_dir, &self.database)
    }
}

/// Sliding-window limits on `POST /api/provisioning/pair`, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Pair requests for one monitor.
    pub per_device_per_minute: u32,
    /// Pair requests from one technician.
    pub per_technician_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_device_per_minute: 10,
            per_technician_per_minute: 60,
        }
    }
}
