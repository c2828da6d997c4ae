//! The reference Central Station of ZPair: technician accounts, the device
//! registry, the device CA, pairing jobs that push signed and encrypted
//! configurations to monitors, live status streams and the audit log — axum
//! over a hand-written rustls accept loop, SQLite underneath.
//!
//! [`Station::start`] runs one; [`app`] is its router; [`admin`] works on a
//! data directory offline.

mod accounts;
pub mod admin;
mod audit;
mod clock;
mod config;
mod csv;
pub mod db;
mod devices;
mod edge;
mod error;
mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod monitor;
mod openapi;
mod pairing;
mod pki;
mod public;
mod registry;
mod reports;
mod routes;
mod state;
mod station;
mod tls;

pub use accounts::AccountError;
pub use config::{
    DEFAULT_FAIL_SAFE, DEFAULT_INSTANCE_ID, DEFAULT_PARALLEL_EXCHANGES, DEFAULT_REPROVISION_WINDOW,
    RateLimits, RetryPolicy, StationConfig, is_instance_id,
};
pub use db::DbError;
pub use edge::EdgeLimits;
pub use error::StationError;
pub use fsutil::FsError;
pub use pki::CLIENT_LIFETIME;
pub use pki::PkiError;
pub use routes::{app, route_table};
pub use state::AppState;
pub use station::Station;
pub use tls::{ClientIdentity, TlsError};
pub use zpair_proto::api::{DeviceImport, ImportReport, Role};
