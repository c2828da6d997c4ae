//! The demo's world, shared by `cargo xtask demo` and the WebDriver suite:
//! a Central Station (SQLite, its own CA) with a technician and an
//! administrator, and three simulated monitors on 127.0.0.2–4 registered
//! with it, trusting its provisioning key and in provisioning mode. A
//! fourth, spare monitor can join it unregistered: the one an
//! administrator's import file brings in.
//!
//! Each user of the world gives it its own folder and ports, so the demo and
//! a test run can be up at the same time.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{self, Failure};

/// The technician account: username, password.
pub const TECHNICIAN: (&str, &str) = ("tech", "zpair-demo");
/// The administrator account: username, password.
pub const ADMINISTRATOR: (&str, &str) = ("admin", "zpair-admin-demo");
/// The monitors: device ID, address, label, bed.
pub const MONITORS: [(&str, &str, &str, &str); 3] = [
    ("ZM-DEMO-01", "127.0.0.2", "ICU-MON-01", "ICU-BED-01"),
    ("ZM-DEMO-02", "127.0.0.3", "ICU-MON-02", "ICU-BED-02"),
    ("ZM-DEMO-03", "127.0.0.4", "ICU-MON-03", "ICU-BED-03"),
];
/// The spare monitor ([`World::start_spare`]): device ID, address.
pub const SPARE: (&str, &str) = ("ZM-DEMO-04", "127.0.0.5");

/// Builds the debug binaries a world starts (the station and the monitor
/// simulator) together with the packages in `also` that drive it.
pub fn build_binaries(also: &[&str]) -> Result<(), Failure> {
    let mut build = process::cargo();
    build.args(["build", "--quiet"]);
    for package in ["central-station", "bedside-monitor"].iter().chain(also) {
        build.args(["-p", package]);
    }
    process::run(&mut build)
}

/// Where a world lives: its folder, the station's port on 127.0.0.1 and the
/// port every monitor listens on at its own address.
#[derive(Debug, Clone)]
pub struct Site {
    pub dir: PathBuf,
    pub station_port: u16,
    pub monitor_port: u16,
}

/// A running world; its processes stop when it is dropped.
#[derive(Debug)]
pub struct World {
    bin: PathBuf,
    site: Site,
    children: Vec<Child>,
    /// The station's CA certificate (PEM), as IT would hand it out.
    pub ca_file: PathBuf,
    /// SHA-256 of the station's server certificate, lowercase hex.
    pub fingerprint: String,
    /// The station's provisioning key, which every monitor of the world trusts.
    station_key: String,
}

impl World {
    /// Builds the world from scratch in `site.dir` (emptied first) with the
    /// debug binaries in `bin`, and starts it: returns once the station
    /// listens and every monitor shows its QR.
    pub fn start(bin: PathBuf, site: Site) -> Result<Self, Failure> {
        let _ = std::fs::remove_dir_all(&site.dir);
        create_dir(&site.dir)?;
        let ca_file = site.dir.join("station-ca.pem");
        let mut world = World {
            bin,
            site,
            children: Vec::new(),
            ca_file,
            fingerprint: String::new(),
            station_key: String::new(),
        };
        world.set_up()?;
        world.serve()?;
        Ok(world)
    }

    /// Starts the [`SPARE`] monitor: its identity made, the station's key
    /// trusted, in provisioning mode, but not in the station's registry.
    /// Returns where its registration record (the monitor's export, JSON) is.
    pub fn start_spare(&mut self) -> Result<PathBuf, Failure> {
        let (id, ip) = SPARE;
        let record = self.init_monitor(id, ip)?;
        let file = self.site.dir.join(format!("{id}.json"));
        write(&file, record.trim())?;
        let buttons = self.buttons(id)?;
        self.run_monitor(id, ip, MONITORS.len(), Stdio::from(buttons))?;
        self.screen(id)?;
        Ok(file)
    }

    /// The spare monitor's buttons: a named pipe its console reads one-letter
    /// commands from (`p` enters provisioning mode), as a person at the
    /// bedside presses them. The world holds it open for writing too, so the
    /// monitor never reads an end of input between two presses.
    pub fn buttons_path(&self, id: &str) -> PathBuf {
        self.monitor_dir(id).join("buttons")
    }

    fn buttons(&self, id: &str) -> Result<std::fs::File, Failure> {
        let path = self.buttons_path(id);
        let _ = std::fs::remove_file(&path);
        process::run(Command::new("mkfifo").arg("-m").arg("600").arg(&path))?;
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Failure::Step(format!("cannot open {}: {e}", path.display())))
    }

    /// The registered monitors' records, as the station imported them (a JSON array).
    pub fn registry_file(&self) -> PathBuf {
        self.site.dir.join("registry.json")
    }

    /// `https://127.0.0.1:PORT`.
    pub fn station_url(&self) -> String {
        format!("https://{}", self.station_addr())
    }

    /// A monitor's data folder; its screen is `screen/qr.json` and `qr.png` in it.
    pub fn monitor_dir(&self, id: &str) -> PathBuf {
        self.site.dir.join(id)
    }

    /// What a monitor's screen shows now (the QR payload's JSON).
    pub fn screen(&self, id: &str) -> Result<String, Failure> {
        wait_for_file(&self.monitor_dir(id).join("screen").join("qr.json"))
    }

    /// Where monitor `index` serves its provisioning view (seed 002 §9.1):
    /// on loopback, beside its provisioning port, one port each.
    pub fn view_url(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}/", self.view_port(index))
    }

    fn view_port(&self, index: usize) -> u16 {
        self.site.monitor_port + 100 + u16::try_from(index).unwrap_or(0)
    }

    /// A binary of the workspace, by name.
    pub fn tool(&self, name: &str) -> Command {
        Command::new(self.bin.join(name))
    }

    /// Prints where the station is, the accounts, how to trust the station,
    /// and each monitor's device ID and current pairing code.
    pub fn print_banner(&self) -> Result<(), Failure> {
        let grouped = self
            .fingerprint
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        eprintln!();
        eprintln!(
            "  Central Station   {}   (logs: {})",
            self.station_url(),
            self.site.dir.join("station.log").display()
        );
        eprintln!("  CA certificate    {}", self.ca_file.display());
        eprintln!("  Fingerprint       {grouped}  (SHA-256 of its certificate)");
        eprintln!("  Technician        {} / {}", TECHNICIAN.0, TECHNICIAN.1);
        eprintln!(
            "  Administrator     {} / {}",
            ADMINISTRATOR.0, ADMINISTRATOR.1
        );
        eprintln!();
        eprintln!(
            "  monitor      address     pairing code  expires               provisioning view"
        );
        for (index, &(id, ip, ..)) in MONITORS.iter().enumerate() {
            let screen = self.screen(id)?;
            let code = json_field(&screen, "pairingCode").unwrap_or("?");
            let expires = json_field(&screen, "expiresAt").unwrap_or("?");
            let view = self.view_url(index);
            eprintln!("  {id:<12} {ip:<11} {code:<13} {expires:<21} {view}");
        }
        eprintln!();
        Ok(())
    }

    /// Starts a long-running process of the world with its output in
    /// `NAME.log`; it is stopped with the world.
    pub fn spawn_logged(&mut self, cmd: Command, name: &str) -> Result<(), Failure> {
        self.spawn_logged_with(cmd, name, Stdio::null())
    }

    /// [`Self::spawn_logged`] with `stdin` as its standard input.
    fn spawn_logged_with(
        &mut self,
        mut cmd: Command,
        name: &str,
        stdin: Stdio,
    ) -> Result<(), Failure> {
        let log = std::fs::File::create(self.site.dir.join(format!("{name}.log")))
            .map_err(|e| Failure::Step(format!("cannot create {name}.log: {e}")))?;
        let err = log
            .try_clone()
            .map_err(|e| Failure::Step(format!("cannot share {name}.log: {e}")))?;
        cmd.stdin(stdin).stdout(log).stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| Failure::Step(format!("cannot start {}: {e}", process::describe(&cmd))))?;
        self.children.push(child);
        Ok(())
    }

    fn station_addr(&self) -> String {
        format!("127.0.0.1:{}", self.site.station_port)
    }

    fn station_dir(&self) -> PathBuf {
        self.site.dir.join("station")
    }

    /// Accounts, monitor identities, the registry, mutual trust, the CA file.
    fn set_up(&mut self) -> Result<(), Failure> {
        let station_dir = self.station_dir();
        process::say("setting up the Central Station: accounts and device registry");
        for ((user, password), (name, role)) in [TECHNICIAN, ADMINISTRATOR].into_iter().zip([
            ("Demo Technician", "technician"),
            ("Demo Administrator", "administrator"),
        ]) {
            let mut add = self.tool("central-station");
            add.args(["user", "add", "--data-dir"])
                .arg(&station_dir)
                .args([
                    "--username",
                    user,
                    "--display-name",
                    name,
                    "--role",
                    role,
                    "--password-stdin",
                ]);
            run_with_stdin(&mut add, password)?;
        }

        self.station_key = process::output(
            self.tool("central-station")
                .args(["station-key", "--data-dir"])
                .arg(&station_dir),
        )?
        .trim()
        .to_owned();
        let mut records = Vec::new();
        for (id, ip, label, bed) in MONITORS {
            let record = self.init_monitor(id, ip)?;
            records.push(with_registry_fields(record.trim(), label, bed)?);
        }
        let registry = self.registry_file();
        write(&registry, &format!("[{}]", records.join(",")))?;
        let mut import = self.tool("central-station");
        import
            .args(["device", "import", "--data-dir"])
            .arg(&station_dir)
            .arg(&registry);
        process::run(&mut import)?;

        let ca = process::output(
            self.tool("central-station")
                .args(["ca-cert", "--data-dir"])
                .arg(&station_dir),
        )?;
        write(&self.ca_file, &ca)
    }

    /// Starts the station and the monitors in provisioning mode.
    fn serve(&mut self) -> Result<(), Failure> {
        let station_dir = self.station_dir();
        let addr = self.station_addr();
        process::say(&format!("starting the Central Station on https://{addr}"));
        let mut serve = self.tool("central-station");
        serve
            .args(["serve", "--data-dir"])
            .arg(&station_dir)
            .args(["--listen", &addr])
            .args(["--monitor-port", &self.site.monitor_port.to_string()]);
        self.spawn_logged(serve, "station")?;
        wait_for_port(&addr, &self.site.dir.join("station.log"))?;
        self.fingerprint = process::output(
            self.tool("central-station")
                .args(["fingerprint", "--data-dir"])
                .arg(&station_dir),
        )?
        .trim()
        .to_owned();

        for (index, &(id, ip, ..)) in MONITORS.iter().enumerate() {
            self.run_monitor(id, ip, index, Stdio::null())?;
        }
        for (id, ..) in MONITORS {
            self.screen(id)?;
        }
        Ok(())
    }

    /// Makes a monitor's identity, trusting the station's key; returns its
    /// registration record (JSON).
    fn init_monitor(&self, id: &str, ip: &str) -> Result<String, Failure> {
        let mut init = self.tool("bedside-monitor");
        init.args(["init", "--data-dir"])
            .arg(self.monitor_dir(id))
            .args(["--device-id", id, "--ip", ip]);
        let record = process::output(&mut init)?;
        let mut trust = self.tool("bedside-monitor");
        trust
            .args(["trust-station", "--data-dir"])
            .arg(self.monitor_dir(id))
            .args(["--key", &self.station_key]);
        process::output(&mut trust)?;
        Ok(record)
    }

    /// Starts monitor number `index` of the world in provisioning mode, its
    /// console reading `buttons`.
    fn run_monitor(
        &mut self,
        id: &str,
        ip: &str,
        index: usize,
        buttons: Stdio,
    ) -> Result<(), Failure> {
        process::say(&format!(
            "starting monitor {id} on {ip}:{} in provisioning mode (its screen: {})",
            self.site.monitor_port,
            self.view_url(index)
        ));
        let mut monitor = self.tool("bedside-monitor");
        monitor
            .args(["run", "--data-dir"])
            .arg(self.monitor_dir(id))
            .args(["--ip", ip, "--provision"])
            .args(["--port", &self.site.monitor_port.to_string()])
            .args(["--view-port", &self.view_port(index).to_string()]);
        self.spawn_logged_with(monitor, &format!("monitor-{id}"), buttons)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Adds the station-side fields (label, bed) to a monitor's exported record.
fn with_registry_fields(record: &str, label: &str, bed: &str) -> Result<String, Failure> {
    let body = record
        .strip_prefix('{')
        .ok_or_else(|| Failure::Step(format!("unexpected registration record: {record}")))?;
    Ok(format!(
        r#"{{"deviceLabel":"{label}","bedId":"{bed}",{body}"#
    ))
}

/// Reads a string field from the flat JSON a monitor shows; enough for a banner.
pub fn json_field<'a>(json: &'a str, field: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

/// Runs `cmd` with `input` as the first line of its standard input.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Result<(), Failure> {
    process::say(&format!("$ {}", process::describe(cmd)));
    let mut child = cmd
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Step(format!("cannot start {}: {e}", process::describe(cmd))))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{input}");
    }
    let status = child
        .wait()
        .map_err(|e| Failure::Step(format!("{} did not finish: {e}", process::describe(cmd))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Step(format!(
            "`{}` failed ({status})",
            process::describe(cmd)
        )))
    }
}

fn wait_for_port(addr: &str, log: &Path) -> Result<(), Failure> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| Failure::Step(format!("bad address {addr}: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Failure::Step(format!(
        "the station did not start listening on {addr}: see {} (is another program using the port?)",
        log.display()
    )))
}

fn wait_for_file(path: &Path) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return Ok(text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Failure::Step(format!(
        "{} did not appear: see the monitor's log",
        path.display()
    )))
}

/// Creates a folder and its parents.
fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Step(format!("cannot write {}: {e}", path.display())))
}
