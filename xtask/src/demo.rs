//! `cargo xtask demo`: the whole system on one machine, on its embedded
//! defaults — a Central Station (SQLite), three simulated monitors on
//! 127.0.0.2–4 registered with it, and one of them paired through the
//! technician CLI while its progress prints live.

use std::io::{IsTerminal as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bootstrap;
use crate::process::{self, Failure};

const STATION_ADDR: &str = "127.0.0.1:8443";
const TECHNICIAN: (&str, &str) = ("tech", "zpair-demo");
const ADMINISTRATOR: (&str, &str) = ("admin", "zpair-admin-demo");
/// The monitors: device ID, address, label, bed.
const MONITORS: [(&str, &str, &str, &str); 3] = [
    ("ZM-DEMO-01", "127.0.0.2", "ICU-MON-01", "ICU-BED-01"),
    ("ZM-DEMO-02", "127.0.0.3", "ICU-MON-02", "ICU-BED-02"),
    ("ZM-DEMO-03", "127.0.0.4", "ICU-MON-03", "ICU-BED-03"),
];
/// Marks the re-executed demo that already runs in its own session keyring.
const IN_KEYRING: &str = "ZPAIR_DEMO_IN_SESSION_KEYRING";

/// `cargo xtask demo [--exit]`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let stay = !args.iter().any(|a| a == "--exit") && std::io::stdin().is_terminal();
    if let Some(unknown) = args.iter().find(|a| *a != "--exit") {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for demo"
        )));
    }
    bootstrap::ensure_system_packages()?;
    if std::env::var_os(IN_KEYRING).is_none() {
        // Every process of the demo shares one fresh session keyring, so the
        // CLI's sign-in survives between its commands and never touches the
        // user's own keyring.
        let exe = std::env::current_exe()
            .map_err(|e| Failure::Step(format!("cannot find xtask's own binary: {e}")))?;
        let mut me = Command::new(exe);
        me.arg("demo").args(args).env(IN_KEYRING, "1");
        return process::run(&mut bootstrap::in_session_keyring(&me));
    }

    process::say("building the station, the monitor simulator and the technician CLI");
    process::run(process::cargo().args([
        "build",
        "--quiet",
        "-p",
        "central-station",
        "-p",
        "bedside-monitor",
        "-p",
        "zpair-cli",
    ]))?;
    let bin = process::target_dir().join("debug");
    let dir = process::target_dir().join("demo");
    let _ = std::fs::remove_dir_all(&dir);
    create_dir(&dir)?;

    let mut demo = Demo {
        bin,
        dir,
        children: Vec::new(),
    };
    let outcome = demo.run(stay);
    demo.stop();
    outcome
}

struct Demo {
    bin: PathBuf,
    dir: PathBuf,
    children: Vec<Child>,
}

impl Demo {
    fn run(&mut self, stay: bool) -> Result<(), Failure> {
        let station_dir = self.dir.join("station");
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

        let mut records = Vec::new();
        for (id, ip, label, bed) in MONITORS {
            let mut init = self.tool("bedside-monitor");
            init.args(["init", "--data-dir"])
                .arg(self.monitor_dir(id))
                .args(["--device-id", id, "--ip", ip]);
            let record = process::output(&mut init)?;
            records.push(with_registry_fields(record.trim(), label, bed)?);
        }
        let registry = self.dir.join("registry.json");
        write(&registry, &format!("[{}]", records.join(",")))?;
        let mut import = self.tool("central-station");
        import
            .args(["device", "import", "--data-dir"])
            .arg(&station_dir)
            .arg(&registry);
        process::run(&mut import)?;

        let key = process::output(
            self.tool("central-station")
                .args(["station-key", "--data-dir"])
                .arg(&station_dir),
        )?;
        for (id, ..) in MONITORS {
            let mut trust = self.tool("bedside-monitor");
            trust
                .args(["trust-station", "--data-dir"])
                .arg(self.monitor_dir(id))
                .args(["--key", key.trim()]);
            process::output(&mut trust)?;
        }
        let ca = process::output(
            self.tool("central-station")
                .args(["ca-cert", "--data-dir"])
                .arg(&station_dir),
        )?;
        let ca_file = self.dir.join("station-ca.pem");
        write(&ca_file, &ca)?;

        process::say(&format!(
            "starting the Central Station on https://{STATION_ADDR}"
        ));
        let mut serve = self.tool("central-station");
        serve
            .args(["serve", "--data-dir"])
            .arg(&station_dir)
            .args(["--listen", STATION_ADDR]);
        self.spawn_logged(serve, "station")?;
        wait_for_port(STATION_ADDR)?;

        for (id, ip, ..) in MONITORS {
            process::say(&format!(
                "starting monitor {id} on {ip} in provisioning mode"
            ));
            let mut monitor = self.tool("bedside-monitor");
            monitor
                .args(["run", "--data-dir"])
                .arg(self.monitor_dir(id))
                .args(["--ip", ip, "--provision"]);
            self.spawn_logged(monitor, &format!("monitor-{id}"))?;
        }
        let screens: Vec<String> = MONITORS
            .iter()
            .map(|(id, ..)| wait_for_file(&self.monitor_dir(id).join("screen").join("qr.json")))
            .collect::<Result<_, _>>()?;

        process::say("signing the technician CLI in");
        let mut setup = self.zpair();
        setup
            .args([
                "setup",
                "--station",
                &format!("https://{STATION_ADDR}"),
                "--ca-file",
            ])
            .arg(&ca_file);
        process::run(&mut setup)?;
        let mut login = self.zpair();
        login.args(["login", "--username", TECHNICIAN.0, "--password-stdin"]);
        run_with_stdin(&mut login, TECHNICIAN.1)?;

        self.print_banner(&screens);

        let first = MONITORS[0].0;
        process::say(&format!("pairing {first} from the QR code on its screen"));
        let mut pair = self.zpair();
        pair.args(["pair", "--qr-json"])
            .arg(self.monitor_dir(first).join("screen").join("qr.json"));
        process::run(&mut pair)?;
        process::say(&format!("{first}'s connected-status details"));
        process::run(self.zpair().args(["status", first]))?;

        if stay {
            self.pair_interactively()?;
        }
        Ok(())
    }

    /// Lets the person at the terminal pair the other monitors by code, in
    /// this process's session keyring where the CLI is signed in.
    fn pair_interactively(&self) -> Result<(), Failure> {
        loop {
            eprint!(
                "\nPair another monitor: type `DEVICE-ID CODE` (e.g. ZM-DEMO-02 ABC-DEF-GHJ), or press Enter to stop: "
            );
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
                return Ok(());
            }
            let mut words = line.split_whitespace();
            let (Some(device), Some(code)) = (words.next(), words.next()) else {
                return Ok(());
            };
            // A refused pairing is shown by the CLI itself; the demo goes on.
            let _ = process::run(
                self.zpair()
                    .args(["pair", "--device", device, "--code", code]),
            );
        }
    }

    fn print_banner(&self, screens: &[String]) {
        eprintln!();
        eprintln!(
            "  Central Station   https://{STATION_ADDR}   (logs: {})",
            self.dir.join("station.log").display()
        );
        eprintln!("  Technician        {} / {}", TECHNICIAN.0, TECHNICIAN.1);
        eprintln!(
            "  Administrator     {} / {}",
            ADMINISTRATOR.0, ADMINISTRATOR.1
        );
        eprintln!();
        eprintln!("  monitor      address     pairing code  expires");
        for ((id, ip, ..), screen) in MONITORS.iter().zip(screens) {
            let code = json_field(screen, "pairingCode").unwrap_or("?");
            let expires = json_field(screen, "expiresAt").unwrap_or("?");
            eprintln!("  {id:<12} {ip:<11} {code:<13} {expires}");
        }
        eprintln!();
    }

    fn monitor_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn tool(&self, name: &str) -> Command {
        Command::new(self.bin.join(name))
    }

    fn zpair(&self) -> Command {
        let mut cmd = self.tool("zpair");
        cmd.env("XDG_CONFIG_HOME", self.dir.join("cli-config"))
            .env("XDG_DATA_HOME", self.dir.join("cli-data"));
        cmd
    }

    fn spawn_logged(&mut self, mut cmd: Command, name: &str) -> Result<(), Failure> {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))
            .map_err(|e| Failure::Step(format!("cannot create {name}.log: {e}")))?;
        let err = log
            .try_clone()
            .map_err(|e| Failure::Step(format!("cannot share {name}.log: {e}")))?;
        cmd.stdin(Stdio::null()).stdout(log).stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| Failure::Step(format!("cannot start {}: {e}", process::describe(&cmd))))?;
        self.children.push(child);
        Ok(())
    }

    fn stop(&mut self) {
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
fn json_field<'a>(json: &'a str, field: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> Result<(), Failure> {
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

fn wait_for_port(addr: &str) -> Result<(), Failure> {
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
        "the station did not start listening on {addr}: see target/demo/station.log (is another program using the port?)"
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

fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Step(format!("cannot write {}: {e}", path.display())))
}
