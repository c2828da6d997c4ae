//! How one simulated monitor is set up: where it keeps its data, who it is,
//! where it listens, and the timings of provisioning mode.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The port every monitor listens on, each on its own address.
pub const DEFAULT_PORT: u16 = 9443;
/// The firmware version the simulator reports.
pub const DEFAULT_FIRMWARE: &str = "1.2.3";
/// How long a pairing code is valid (the seeds' 10 minutes).
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How often the QR gets a fresh token (the seeds' 30 seconds).
pub const DEFAULT_QR_REFRESH: Duration = Duration::from_secs(30);
/// Wrong codes before provisioning mode closes ("a handful").
pub const DEFAULT_MAX_FAILED_ATTEMPTS: u32 = 5;
/// Time between heartbeats once provisioned.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// The share of its validity (percent) left when the monitor renews its
/// client certificate: about four months of a year, time to retry through
/// any outage short of that.
pub const DEFAULT_RENEW_PERCENT_LEFT: u32 = 33;

/// A monitor's settings, fixed for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Where identity, state, certificates, events and the "screen" live.
    pub data_dir: PathBuf,
    /// Registry identifier; must match the data directory's once it exists.
    pub device_id: String,
    /// The address it listens on and shows in its QR (each monitor its own 127.0.0.x).
    pub listen_ip: IpAddr,
    /// The port it listens on; 0 picks a free one (tests).
    pub port: u16,
    /// The firmware version it reports.
    pub firmware_version: String,
    /// How long a pairing code is valid.
    pub code_lifetime: Duration,
    /// How often the QR gets a fresh token.
    pub qr_refresh: Duration,
    /// Wrong codes before provisioning mode closes.
    pub max_failed_attempts: u32,
    /// Time between heartbeats once provisioned.
    pub heartbeat_interval: Duration,
    /// Renew the client certificate once this share (percent) of its
    /// validity is left.
    pub renew_percent_left: u32,
    /// How long applying a configuration takes: staging a pushed one
    /// before answering, and preparing a commit before its connection test.
    /// A real monitor writes to flash and restarts its network; the
    /// simulator takes no time unless told (tests stretch it to stop a
    /// monitor mid-apply).
    pub apply_delay: Duration,
}

impl MonitorConfig {
    /// A monitor with the seeds' defaults: port 9443, firmware 1.2.3, codes
    /// valid 10 minutes, a new QR token every 30 s, 5 wrong codes allowed,
    /// a heartbeat every 10 s, certificates renewed with a third of their
    /// validity left.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        device_id: impl Into<String>,
        listen_ip: IpAddr,
    ) -> Self {
        Self {
            data_dir: data_dir.into(),
            device_id: device_id.into(),
            listen_ip,
            port: DEFAULT_PORT,
            firmware_version: DEFAULT_FIRMWARE.to_owned(),
            code_lifetime: DEFAULT_CODE_LIFETIME,
            qr_refresh: DEFAULT_QR_REFRESH,
            max_failed_attempts: DEFAULT_MAX_FAILED_ATTEMPTS,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            renew_percent_left: DEFAULT_RENEW_PERCENT_LEFT,
            apply_delay: Duration::ZERO,
        }
    }
}
