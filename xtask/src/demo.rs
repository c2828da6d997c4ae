//! `cargo xtask demo`: the whole system on one machine, on its embedded
//! defaults — a Central Station (SQLite), three simulated monitors on
//! 127.0.0.2–4 registered with it — and the ZPair app open against them.
//! Without a display (or with `--exit`) the technician CLI pairs one of the
//! monitors instead while its progress prints live.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::bootstrap;
use crate::process::{self, Failure};
use crate::ui::NpmProject;
use crate::world::{self, MONITORS, Site, TECHNICIAN, World};

/// The embedded defaults: the station on 127.0.0.1:8443, monitors on 9443.
const STATION_PORT: u16 = 8443;
const MONITOR_PORT: u16 = 9443;
/// The monitor whose screen the app's virtual camera shows.
const CAMERA_MONITOR: &str = "ZM-DEMO-01";
/// Marks the re-executed demo that already runs in its own session keyring.
const IN_KEYRING: &str = "ZPAIR_DEMO_IN_SESSION_KEYRING";

/// `cargo xtask demo [--exit]`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let exit = args.iter().any(|a| a == "--exit");
    if let Some(unknown) = args.iter().find(|a| *a != "--exit") {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for demo"
        )));
    }
    bootstrap::ensure_system_packages()?;
    if std::env::var_os(IN_KEYRING).is_none() {
        // Every process of the demo shares one fresh session keyring, so the
        // app's and the CLI's sign-ins survive between their commands and
        // never touch the user's own keyring.
        let exe = std::env::current_exe()
            .map_err(|e| Failure::Step(format!("cannot find xtask's own binary: {e}")))?;
        let mut me = Command::new(exe);
        me.arg("demo").args(args).env(IN_KEYRING, "1");
        return process::run(&mut bootstrap::in_session_keyring(&me));
    }

    let app = !exit && has_display();
    if !exit && !app {
        process::say(
            "no display (DISPLAY and WAYLAND_DISPLAY are unset): the technician CLI pairs a monitor instead of the app",
        );
    }
    if app {
        bootstrap::ensure_node()?;
        NpmProject::ui().build_ui(false)?;
        process::say("building the app, the station and the monitor simulator");
    } else {
        process::say("building the station, the monitor simulator and the technician CLI");
    }
    world::build_binaries(&[if app { "zpair-app" } else { "zpair-cli" }])?;

    let dir = process::target_dir().join("demo");
    let world = World::start(
        process::target_dir().join("debug"),
        Site {
            dir: dir.clone(),
            station_port: STATION_PORT,
            monitor_port: MONITOR_PORT,
        },
    )?;
    let demo = Demo { world, dir };
    if app {
        demo.open_app()
    } else {
        demo.pair_with_cli(!exit && std::io::stdin().is_terminal())
    }
}

/// A graphical session is there to open the app's window in.
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}

struct Demo {
    world: World,
    dir: PathBuf,
}

impl Demo {
    /// Opens the app (its settings in the demo's folder, its session in the
    /// demo's session keyring) and waits until its window is closed; Enter at the terminal shows the
    /// monitors' current codes again.
    fn open_app(&self) -> Result<(), Failure> {
        self.world.print_banner()?;
        eprintln!(
            "  In the ZPair window: {} is filled in; compare the fingerprint above (or import the CA file),",
            self.world.station_url()
        );
        eprintln!(
            "  sign in as {} / {}: the Scan screen's camera shows {CAMERA_MONITOR}'s screen, so it is found at once;",
            TECHNICIAN.0, TECHNICIAN.1
        );
        eprintln!("  pair the others by typing a monitor's device ID and its pairing code.");
        eprintln!(
            "  Each monitor's screen: {}/ZM-DEMO-0N/screen/qr.png. Close the window to stop the demo.",
            self.dir.display()
        );
        eprintln!();

        let mut app = self.world.tool("zpair-app");
        // The virtual camera shows the monitor's own screen file, which it
        // rewrites with a fresh QR every 30 s: the camera follows it.
        let screen = self
            .world
            .monitor_dir(CAMERA_MONITOR)
            .join("screen")
            .join("qr.png");
        app.arg("--camera")
            .arg(format!("file:{}", screen.display()))
            .arg("--station")
            .arg(self.world.station_url());
        process::with_home(&mut app, &self.dir.join("app"))?;
        let log = std::fs::File::create(self.dir.join("app.log"))
            .map_err(|e| Failure::Step(format!("cannot create app.log: {e}")))?;
        app.stdin(Stdio::null()).stderr(log);
        process::say(&format!(
            "opening ZPair (logs: {})",
            self.dir.join("app.log").display()
        ));
        let mut window = app
            .spawn()
            .map_err(|e| Failure::Step(format!("cannot start the app: {e}")))?;
        if std::io::stdin().is_terminal() {
            self.show_codes_on_enter();
        }
        let status = window
            .wait()
            .map_err(|e| Failure::Step(format!("the app did not finish: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Failure::Step(format!(
                "the app stopped ({status}): see {}",
                self.dir.join("app.log").display()
            )))
        }
    }

    /// Reprints the monitors' codes each time Enter is pressed (codes change
    /// after a pairing, a re-provisioning or their ten minutes).
    fn show_codes_on_enter(&self) {
        eprintln!("  Press Enter here to show the monitors' current codes again.");
        let screens: Vec<(&str, PathBuf)> = MONITORS
            .iter()
            .map(|(id, ..)| {
                (
                    *id,
                    self.world.monitor_dir(id).join("screen").join("qr.json"),
                )
            })
            .collect();
        std::thread::spawn(move || {
            for _ in std::io::stdin().lock().lines() {
                for (id, path) in &screens {
                    let shown = std::fs::read_to_string(path).ok();
                    let code = shown
                        .as_deref()
                        .and_then(|json| world::json_field(json, "pairingCode"))
                        .unwrap_or("(not in provisioning mode)");
                    eprintln!("  {id:<12} {code}");
                }
            }
        });
    }

    /// Today's headless flow: the CLI signs in and pairs the first monitor
    /// from its QR; at a terminal, the others can then be paired by code.
    fn pair_with_cli(&self, stay: bool) -> Result<(), Failure> {
        process::say("signing the technician CLI in");
        let mut setup = self.zpair();
        setup
            .args(["setup", "--station", &self.world.station_url(), "--ca-file"])
            .arg(&self.world.ca_file);
        process::run(&mut setup)?;
        let mut login = self.zpair();
        login.args(["login", "--username", TECHNICIAN.0, "--password-stdin"]);
        world::run_with_stdin(&mut login, TECHNICIAN.1)?;

        self.world.print_banner()?;

        let first = MONITORS[0].0;
        process::say(&format!("pairing {first} from the QR code on its screen"));
        let mut pair = self.zpair();
        pair.args(["pair", "--qr-json"])
            .arg(self.world.monitor_dir(first).join("screen").join("qr.json"));
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

    fn zpair(&self) -> Command {
        let mut cmd = self.world.tool("zpair");
        cmd.env("XDG_CONFIG_HOME", self.dir.join("cli-config"))
            .env("XDG_DATA_HOME", self.dir.join("cli-data"));
        cmd
    }
}
