//! Many simulated monitors in one process, for scale tests and benchmarks:
//! each a whole [`Monitor`] (its own identity, data directory, HTTPS server
//! on its own loopback address, timers), so what a test measures is the
//! pairing, not thousands of process start-ups.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use zpair_proto::device::RegistrationRecord;

use crate::identity::Identity;
use crate::paths::DataDir;
use crate::{Monitor, MonitorConfig, MonitorError, storage};

/// The file in a swarm's data directory with every monitor's registration
/// record (a JSON array), for the station's registry import.
pub const RECORDS_FILE: &str = "records.json";

/// Monitors started at once: each start writes its identity and binds a
/// socket, and a swarm of thousands should not open them all at one go.
const STARTING_AT_ONCE: usize = 32;

/// Why a swarm could not start.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    /// Past the last loopback address (127.255.255.254) from the first one.
    #[error(
        "{count} monitors from {first} run past the loopback range 127.0.0.0/8: start from a lower address or run fewer"
    )]
    OutOfAddresses {
        /// The first address asked for.
        first: Ipv4Addr,
        /// How many monitors.
        count: usize,
    },
    /// The first address is not a loopback address.
    #[error("{0} is not a loopback address (127.x.y.z): swarm monitors listen on loopback only")]
    NotLoopback(Ipv4Addr),
    /// One monitor could not start.
    #[error("monitor {device_id}: {source}")]
    Monitor {
        /// Which one.
        device_id: String,
        /// Why.
        source: MonitorError,
    },
    /// The registration records could not be written.
    #[error("cannot write the registration records: {0}")]
    Records(#[from] storage::StorageError),
}

/// What a swarm is made of.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// One data directory per monitor below this, named by device ID, and
    /// [`RECORDS_FILE`].
    pub data_dir: PathBuf,
    /// How many monitors.
    pub count: usize,
    /// Device IDs are this, a dash and a five-digit number from 00001.
    pub prefix: String,
    /// The first monitor's address; each next one listens on the next
    /// loopback address (skipping those ending in .0 or .255).
    pub first_ip: Ipv4Addr,
    /// The port every monitor listens on (each on its own address).
    pub port: u16,
    /// Time between each monitor's heartbeats once provisioned.
    pub heartbeat_interval: Duration,
    /// How long a pairing code is valid.
    pub code_lifetime: Duration,
    /// How often each QR gets a fresh token. Each refresh redraws the QR
    /// and writes three files durably: for thousands of monitors in one
    /// process, at a monitor's 30 s, that is the swarm's own load.
    pub qr_refresh: Duration,
    /// The station's provisioning key (base64url) every monitor trusts.
    pub station_key: Option<String>,
    /// Whether every monitor enters provisioning mode once started.
    pub provision: bool,
    /// How long each monitor takes to apply a configuration.
    pub apply_delay: Duration,
}

/// A running swarm.
#[allow(missing_debug_implementations)] // thousands of monitors: nothing useful to print
pub struct Swarm {
    monitors: Vec<Monitor>,
}

impl Swarm {
    /// Starts `config.count` monitors, writes their registration records to
    /// `records.json` in the data directory, and returns once every one
    /// listens (and, with `provision`, shows its code).
    pub async fn start(config: SwarmConfig) -> Result<Self, SwarmError> {
        let addresses = addresses(config.first_ip, config.count)?;
        storage::ensure_data_dir(&config.data_dir)?;
        let monitors: Vec<Monitor> = stream::iter(addresses.into_iter().enumerate())
            .map(|(i, ip)| start_one(&config, i + 1, ip))
            .buffered(STARTING_AT_ONCE)
            .try_collect()
            .await?;
        let records: Vec<RegistrationRecord> =
            monitors.iter().map(Monitor::registration_record).collect();
        storage::write_json(
            &config.data_dir.join(RECORDS_FILE),
            &records,
            storage::PRIVATE_FILE,
        )?;
        Ok(Self { monitors })
    }

    /// The monitors, in device ID order.
    pub fn monitors(&self) -> &[Monitor] {
        &self.monitors
    }

    /// Stops every monitor; everything is already on disk.
    pub async fn shutdown(self) {
        stream::iter(self.monitors)
            .for_each_concurrent(STARTING_AT_ONCE, Monitor::shutdown)
            .await;
    }
}

/// The `n`-th monitor's device ID.
pub fn device_id(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n:05}")
}

async fn start_one(config: &SwarmConfig, n: usize, ip: Ipv4Addr) -> Result<Monitor, SwarmError> {
    let device_id = device_id(&config.prefix, n);
    let failed = |source: MonitorError| SwarmError::Monitor {
        device_id: device_id.clone(),
        source,
    };
    let dir = config.data_dir.join(&device_id);
    // A serial of its own, as a factory gives each monitor: random six-digit
    // serials repeat within a thousand monitors (the birthday bound), and
    // the registry refuses a second monitor with one.
    Identity::load_or_create(
        &DataDir::new(dir.clone()),
        &device_id,
        Some(&format!("SN-{device_id}")),
    )
    .map_err(|e| failed(e.into()))?;
    let mut monitor_config = MonitorConfig::new(dir, device_id.clone(), IpAddr::V4(ip));
    monitor_config.port = config.port;
    monitor_config.heartbeat_interval = config.heartbeat_interval;
    monitor_config.code_lifetime = config.code_lifetime;
    monitor_config.qr_refresh = config.qr_refresh;
    monitor_config.apply_delay = config.apply_delay;
    let monitor = Monitor::start(monitor_config).await.map_err(failed)?;
    if let Some(key) = &config.station_key {
        monitor.trust_station(key).map_err(failed)?;
    }
    if config.provision {
        monitor.enter_provisioning_mode().await.map_err(failed)?;
    }
    Ok(monitor)
}

/// `count` loopback addresses from `first`, skipping those ending in .0 or
/// .255 (network and broadcast addresses elsewhere, refused by some tools).
fn addresses(first: Ipv4Addr, count: usize) -> Result<Vec<Ipv4Addr>, SwarmError> {
    if !first.is_loopback() {
        return Err(SwarmError::NotLoopback(first));
    }
    let out_of_range = || SwarmError::OutOfAddresses { first, count };
    let mut next = u32::from(first);
    let mut found = Vec::with_capacity(count);
    while found.len() < count {
        let ip = Ipv4Addr::from(next);
        if !ip.is_loopback() {
            return Err(out_of_range());
        }
        if !matches!(ip.octets()[3], 0 | 255) {
            found.push(ip);
        }
        next = next.checked_add(1).ok_or_else(out_of_range)?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_consecutive_loopback_ones_without_network_or_broadcast() {
        let found = addresses(Ipv4Addr::new(127, 1, 0, 253), 4).expect("addresses");
        assert_eq!(
            found,
            [
                Ipv4Addr::new(127, 1, 0, 253),
                Ipv4Addr::new(127, 1, 0, 254),
                Ipv4Addr::new(127, 1, 1, 1),
                Ipv4Addr::new(127, 1, 1, 2),
            ]
        );
    }

    #[test]
    fn addresses_stay_on_loopback() {
        assert!(matches!(
            addresses(Ipv4Addr::new(10, 0, 0, 1), 1),
            Err(SwarmError::NotLoopback(_))
        ));
        assert!(matches!(
            addresses(Ipv4Addr::new(127, 255, 255, 250), 10),
            Err(SwarmError::OutOfAddresses { .. })
        ));
        assert_eq!(
            addresses(Ipv4Addr::new(127, 0, 0, 2), 0).expect("none"),
            Vec::<Ipv4Addr>::new()
        );
    }

    #[test]
    fn device_ids_sort_in_start_order() {
        assert_eq!(device_id("ZM-SWARM", 7), "ZM-SWARM-00007");
        assert!(device_id("ZM-SWARM", 9) < device_id("ZM-SWARM", 10));
    }
}
