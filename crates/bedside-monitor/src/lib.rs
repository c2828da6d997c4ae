//! A simulated Z Monitor, the device side of ZPair's pairing flow (the seeds'
//! ProvisioningService, as ARCHITECTURE.md's pairing flow corrects it).
//!
//! A monitor has a long-term Ed25519 identity and a serial made on first run;
//! an explicit provisioning mode with a one-use `XXX-XXX-XXX` code and a QR
//! that gets a fresh token every 30 s; an HTTPS API on its own address where
//! the Central Station proves it holds the code and pushes a signed, sealed
//! configuration; an mTLS connection test before anything is committed; and
//! heartbeats once provisioned. Its state survives restarts in its data
//! directory, and a restart never leaves a half-applied configuration.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bedside_monitor::MonitorError> {
//! use bedside_monitor::{Monitor, MonitorConfig};
//! let config = MonitorConfig::new("/tmp/zm-1", "ZM-1", "127.0.0.2".parse().expect("ip"));
//! let monitor = Monitor::start(config).await?;
//! let screen = monitor.enter_provisioning_mode().await?;
//! println!("scan {} or type {}", screen.qr_png_path.display(), screen.code.display());
//! # Ok(()) }
//! ```

pub mod connection;
mod error;
pub mod events;
pub mod exchange;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod machine;
mod monitor;
pub mod paths;
pub mod patient_data;
pub mod provisioning;
mod server;
pub mod startup;
pub mod station_configuration;
pub mod storage;
pub mod swarm;
pub mod trusted_station;

pub use error::MonitorError;
pub use monitor::Monitor;
pub use provisioning::screen::Screen;
pub use startup::MonitorConfig;
pub use station_configuration::AppliedConfiguration;
