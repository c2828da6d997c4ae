//! What can go wrong when running a monitor, as its library API reports it.

use std::net::SocketAddr;

use zpair_proto::device::MonitorState;

use crate::identity::IdentityError;
use crate::provisioning::screen::ScreenError;
use crate::provisioning::session::SessionError;
use crate::station_configuration::ConfigurationError;
use crate::storage::StorageError;
use crate::trusted_station::SettingsError;

/// Why a monitor operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// Its identity could not be made or read.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Its settings could not be read or changed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A data file could not be read or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The screen could not be drawn.
    #[error(transparent)]
    Screen(#[from] ScreenError),
    /// A pairing code or token could not be drawn.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The configuration store failed.
    #[error(transparent)]
    Configuration(#[from] ConfigurationError),
    /// The listening address is taken or not on this machine.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The TLS server certificate could not be made.
    #[error("cannot make the monitor's TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The TLS server could not be configured.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The action needs provisioning mode.
    #[error("the monitor is not in provisioning mode: enter provisioning mode first")]
    NotInProvisioningMode,
    /// A pairing exchange is running; it must finish first.
    #[error("a pairing is in progress: wait for it to finish")]
    PairingInProgress,
    /// The state machine does not allow this step (a bug, refused rather than obeyed).
    #[error("the monitor cannot go from {from:?} to {to:?}")]
    Transition {
        /// Where it was.
        from: MonitorState,
        /// Where it was asked to go.
        to: MonitorState,
    },
}
