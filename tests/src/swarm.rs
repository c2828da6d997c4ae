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

/// Device ID prefix of swarm monitors.
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
}

impl SwarmProcess {
    /// Starts `count` monitors in provisioning mode that trust `world`'s
    /// station, heartbeating every `heartbeat` once paired, listening from
    /// `first_ip` on; returns once all listen.
    pub fn start(world: &World, count: usize, first_ip: Ipv4Addr, heartbeat: Duration) -> Self {
        let dir = world.root.path().join(format!("swarm-{first_ip}"));
        let mut child = Command::new(binary("bedside-monitor"))
            .arg("swarm")
            .arg("--data-dir")
            .arg(&dir)
            .args(["--count", &count.to_string()])
            .args(["--prefix", PREFIX])
            .args(["--first-ip", &first_ip.to_string()])
            .args(["--heartbeat-ms", &heartbeat.as_millis().to_string()])
            .args(["--qr-refresh-secs", &QR_REFRESH.as_secs().to_string()])
            .args(["--station-key", &world.station.station_public_key()])
            .arg("--provision")
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
        Self { child, dir, count }
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
    pub fn device_id(n: usize) -> String {
        device_id(PREFIX, n)
    }

    /// What the `n`-th monitor (from 1) shows on its screen now.
    pub fn screen(&self, n: usize) -> QrPayload {
        let dir = DataDir::new(self.dir.join(Self::device_id(n)));
        let text = std::fs::read_to_string(dir.screen_qr_json()).expect("screen");
        serde_json::from_str(&text).expect("QR payload")
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
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
