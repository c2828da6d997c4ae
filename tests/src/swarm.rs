//! A swarm of monitors in a process of its own (`bedside-monitor swarm`),
//! registered with a [`World`]'s station: what scale tests and the bench
//! pair, so they measure pairing rather than monitor start-up.

use std::io::{BufRead as _, BufReader};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bedside_monitor::paths::DataDir;
use bedside_monitor::swarm::{RECORDS_FILE, device_id};
use rustix::process::{Pid, Signal, kill_process};
use zpair_proto::QrPayload;
use zpair_proto::api::DeviceImport;
use zpair_proto::device::RegistrationRecord;

use crate::{World, binary};

/// Device ID prefix of swarm monitors; each swarm adds its first address,
/// so several swarms can serve one station.
const PREFIX: &str = "ZM-SWARM";
/// Registration records per import request.
const IMPORT_BATCH: usize = 500;
/// How often swarm monitors refresh their QR: as long as their codes live.
/// At a monitor's 30 s, ten thousand in one process redraw 333 QR codes a
/// second (a PNG and three durable writes each), a load of their own.
const QR_REFRESH: Duration = Duration::from_secs(600);

/// A running `bedside-monitor swarm` process; stopped (SIGTERM) when
/// dropped.
#[derive(Debug)]
pub struct SwarmProcess {
    child: Child,
    dir: PathBuf,
    count: usize,
    prefix: String,
    /// The monitors' files, when they are kept in memory.
    _in_memory: Option<tempfile::TempDir>,
}

/// How a swarm's monitors behave.
#[derive(Debug, Clone, Copy)]
pub struct SwarmOptions {
    /// Time between a paired monitor's heartbeats.
    pub heartbeat: Duration,
    /// How long a monitor takes to apply a configuration (to stage a
    /// pushed one, and to prepare a commit): time for a test to kill the
    /// process mid-apply.
    pub apply_delay: Duration,
    /// The monitors keep their files in memory (tmpfs) rather than on the
    /// disk the station's database is on: ten thousand simulated monitors'
    /// durable writes in one process are the simulation's own cost (each
    /// real monitor writes its own flash), and on this machine they took
    /// three times the station's CPU. For the bench; tests keep them on disk.
    pub files_in_memory: bool,
}

impl Default for SwarmOptions {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_millis(300),
            apply_delay: Duration::ZERO,
            files_in_memory: false,
        }
    }
}

impl SwarmProcess {
    /// Starts `count` monitors in provisioning mode that trust `world`'s
    /// station, listening from `first_ip` on; returns once all listen.
    pub fn start(world: &World, count: usize, first_ip: Ipv4Addr, options: SwarmOptions) -> Self {
        let prefix = format!("{PREFIX}-{}", first_ip.to_string().replace('.', "-"));
        let in_memory = options.files_in_memory.then(|| {
            tempfile::Builder::new()
                .prefix("zpair-swarm-")
                .tempdir_in("/dev/shm")
                .expect("a folder in /dev/shm")
        });
        let root = in_memory.as_ref().map_or(world.root.path(), |d| d.path());
        let dir = root.join(format!("swarm-{first_ip}"));
        let mut child = Command::new(binary("bedside-monitor"))
            .arg("swarm")
            .arg("--data-dir")
            .arg(&dir)
            .args(["--count", &count.to_string()])
            .args(["--prefix", &prefix])
            .args(["--first-ip", &first_ip.to_string()])
            .args(["--heartbeat-ms", &options.heartbeat.as_millis().to_string()])
            .args(["--qr-refresh-secs", &QR_REFRESH.as_secs().to_string()])
            .args(["--station-key", &world.station.station_public_key()])
            .arg("--provision")
            .args(
                Some(options.apply_delay)
                    .filter(|d| !d.is_zero())
                    .map(|d| format!("--apply-delay-ms={}", d.as_millis())),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("swarm process");
        let stdout = child.stdout.take().expect("swarm stdout");
        let mut ready = String::new();
        BufReader::new(stdout)
            .read_line(&mut ready)
            .expect("swarm output");
        assert_eq!(
            ready.trim(),
            format!("ready: {count} monitors"),
            "the swarm did not start"
        );
        Self {
            child,
            dir,
            count,
            prefix,
            _in_memory: in_memory,
        }
    }

    /// Every monitor's registration record, as the swarm wrote them.
    pub fn records(&self) -> Vec<RegistrationRecord> {
        let text = std::fs::read(self.dir.join(RECORDS_FILE)).expect("swarm records");
        let records: Vec<RegistrationRecord> = serde_json::from_slice(&text).expect("records JSON");
        assert_eq!(records.len(), self.count);
        records
    }

    /// Registers every monitor with `world`'s station, as an administrator's
    /// import does.
    pub async fn register_with(&self, world: &World) {
        let admin = world.session(crate::ADMINISTRATOR).await;
        let token = admin.access_token().await.expect("token");
        for batch in self.records().chunks(IMPORT_BATCH) {
            let imports: Vec<DeviceImport> = batch
                .iter()
                .map(|record| DeviceImport {
                    record: record.clone(),
                    device_label: None,
                    bed_id: None,
                })
                .collect();
            let report = admin
                .client()
                .import_devices(&token, &imports)
                .await
                .expect("import");
            assert!(report.rejected.is_empty(), "{report:?}");
        }
    }

    /// The `n`-th monitor's (from 1) device ID.
    pub fn device_id(&self, n: usize) -> String {
        device_id(&self.prefix, n)
    }

    /// What the `n`-th monitor (from 1) shows on its screen now.
    pub fn screen(&self, n: usize) -> QrPayload {
        self.try_screen(n).expect("the monitor shows a QR code")
    }

    /// The same, `None` while the monitor shows no QR code.
    pub fn try_screen(&self, n: usize) -> Option<QrPayload> {
        let dir = DataDir::new(self.monitor_dir(n));
        let text = std::fs::read_to_string(dir.screen_qr_json()).ok()?;
        Some(serde_json::from_str(&text).expect("QR payload"))
    }

    /// The `n`-th monitor's (from 1) data directory.
    pub fn monitor_dir(&self, n: usize) -> PathBuf {
        self.dir.join(self.device_id(n))
    }

    /// Kills the swarm (SIGKILL), as a power cut would, and waits until it
    /// is gone: whatever its monitors were doing stops mid-way.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the swarm (SIGTERM) and returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let signalled = kill_process(Pid::from_child(&self.child), Signal::TERM).is_ok();
        signalled && self.child.wait().is_ok_and(|status| status.success())
    }
}

impl Drop for SwarmProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}
