//! `cargo xtask e2e`: the real app (the debug build of `zpair-app`, UI
//! embedded) driven through WebDriver — tauri-driver in front of
//! WebKitWebDriver, under Xvfb — against the demo's world: a real station
//! and three simulated monitors, on their own folder and ports.
//!
//! The app runs in a fresh session keyring (the kernel keyring, as in use)
//! with `XDG_*` pointed at a throwaway home. Two scripts, each against a
//! world and an app of its own: the technician's (`ui/e2e/run.mjs`), then
//! the administrator's (`ui/e2e/admin.mjs`, with a spare monitor to import).
//! Each ends with `N passed, N failed` and saves screenshots of its screens.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bootstrap;
use crate::process::{self, Failure};
use crate::secrets;
use crate::ui::NpmProject;
use crate::world::{self, ADMINISTRATOR, MONITORS, SPARE, Site, TECHNICIAN, World};

/// The world's ports: clear of the demo's 8443/9443, so both can run at once.
const STATION_PORT: u16 = 18443;
const MONITOR_PORT: u16 = 19443;

/// A script of `ui/e2e` and what it drives: the app binary, and the folder
/// its world, home, screenshots and logs go to.
pub struct Drive<'a> {
    pub script: &'a str,
    pub app: PathBuf,
    pub dir: PathBuf,
    pub station_port: u16,
    pub monitor_port: u16,
    /// `RUST_LOG` for the app, when the run sets one.
    pub app_log_filter: Option<&'a str>,
    /// The world's spare monitor runs too, unregistered (for an import).
    pub spare: bool,
}

/// `cargo xtask e2e [--no-build]`: installs and builds what the suite
/// needs (unless told to use what is built already), then runs it.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let build = !args.iter().any(|a| a == "--no-build");
    if let Some(unknown) = args.iter().find(|a| *a != "--no-build") {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for e2e"
        )));
    }
    bootstrap::ensure_system_packages()?;
    bootstrap::ensure_cargo_tools(&[bootstrap::TAURI_DRIVER])?;
    bootstrap::ensure_node()?;
    if build {
        NpmProject::ui().build_ui(true)?;
        process::say("building the app, the station and the monitor simulator");
        world::build_binaries(&["zpair-app"])?;
    }
    NpmProject::e2e().install(false)?;
    run_suite()
}

/// The suite on binaries already built and its npm packages installed (as
/// `cargo xtask test` has them).
pub fn run_suite() -> Result<(), Failure> {
    let root = process::target_dir().join("e2e");
    let technician = suite("the technician's", "run.mjs", root.clone(), false);
    // The administrator's script runs even when the technician's failed: it has a world of its own.
    let administrator = suite("the administrator's", "admin.mjs", root.join("admin"), true);
    match (technician, administrator) {
        (Err(first), Err(second)) => Err(Failure::Step(format!(
            "the technician's scenario: {first}; the administrator's: {second}"
        ))),
        (first, second) => first.and(second),
    }
}

/// One script of the suite through WebDriver at trace level, then its
/// app's log searched for every secret that went through the app.
fn suite(whose: &str, script: &str, dir: PathBuf, spare: bool) -> Result<(), Failure> {
    process::say(&format!(
        "{whose} scenario in the real app through WebDriver (tauri-driver, WebKitWebDriver, Xvfb)"
    ));
    drive(&Drive {
        script,
        app: process::target_dir().join("debug/zpair-app"),
        dir: dir.clone(),
        station_port: STATION_PORT,
        monitor_port: MONITOR_PORT,
        // Every line the app can write, so the search below covers them all.
        app_log_filter: Some("trace"),
        spare,
    })?;
    process::say("the app's trace-level log, searched for every secret of the run");
    secrets::check_log(&dir.join("app.log"), &dir.join("secrets.json"))
}

/// Runs `drive.script` with node against `drive.app` under its own Xvfb
/// server and session keyring, beside a fresh world of the debug station
/// and monitors.
pub fn drive(drive: &Drive<'_>) -> Result<(), Failure> {
    let suite = NpmProject::e2e();
    let tauri_driver = bootstrap::find_program("tauri-driver").ok_or_else(|| {
        Failure::Step("tauri-driver is not installed: run `cargo xtask bootstrap`".into())
    })?;

    let root = &drive.dir;
    let mut world = World::start(
        process::target_dir().join("debug"),
        Site {
            dir: root.join("world"),
            station_port: drive.station_port,
            monitor_port: drive.monitor_port,
        },
    )?;
    let spare = if drive.spare {
        Some(world.start_spare()?)
    } else {
        None
    };
    let home = root.join("home");
    let shots = root.join("screenshots");
    let exports = root.join("exports");
    for dir in [&home, &shots, &exports] {
        let _ = std::fs::remove_dir_all(dir);
    }

    let mut node = Command::new("node");
    node.arg(drive.script)
        .current_dir(&suite.dir)
        .env("ZPAIR_APP", &drive.app)
        .env("ZPAIR_TAURI_DRIVER", tauri_driver)
        .env("ZPAIR_STATION_URL", world.station_url())
        .env("ZPAIR_STATION_FINGERPRINT", &world.fingerprint)
        .env("ZPAIR_USERNAME", TECHNICIAN.0)
        .env("ZPAIR_PASSWORD", TECHNICIAN.1)
        .env("ZPAIR_ADMIN_USERNAME", ADMINISTRATOR.0)
        .env("ZPAIR_ADMIN_PASSWORD", ADMINISTRATOR.1)
        .env("ZPAIR_MONITORS", monitor_screens(&world))
        .env("ZPAIR_REGISTRY", world.registry_file())
        // The app writes its exports here (the scripts read them back), not into the home's Downloads.
        .env("ZPAIR_EXPORT_DIR", &exports)
        .env("ZPAIR_SCREENSHOTS", &shots)
        .env("ZPAIR_APP_LOG", root.join("app.log"))
        .env("ZPAIR_SECRETS", root.join("secrets.json"))
        // Xvfb's X display only: never a Wayland session the caller may have.
        .env_remove("WAYLAND_DISPLAY")
        .env("GDK_BACKEND", "x11")
        // Nor the caller's desktop keyring: without a session bus the app
        // keeps its session in this run's kernel keyring, where the suite
        // looks for it.
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    if let Some(record) = &spare {
        node.env(
            "ZPAIR_SPARE",
            format!(
                "{}={}",
                SPARE.0,
                world.monitor_dir(SPARE.0).join("screen").display()
            ),
        )
        .env("ZPAIR_SPARE_RECORD", record)
        .env("ZPAIR_SPARE_BUTTONS", world.buttons_path(SPARE.0));
    }
    if let Some(filter) = drive.app_log_filter {
        node.env("RUST_LOG", filter);
    }
    process::with_home(&mut node, &home)?;
    let keyring = bootstrap::in_session_keyring(&node);
    let outcome = process::run(&mut under_xvfb(root, &keyring));
    drop(world);
    outcome?;
    process::say(&format!("screenshots in {}", shots.display()));
    Ok(())
}

/// `cmd` under a fresh Xvfb server of xvfb-run.
fn under_xvfb(root: &Path, cmd: &Command) -> Command {
    // An auth file of the run's own, not xvfb-run's temporary folder in /tmp:
    // when that folder cannot be removed xvfb-run exits 5 and leaves Xvfb running.
    let auth = format!("--auth-file={}", root.join("Xauthority").display());
    let errors = format!("--error-file={}", root.join("xvfb.log").display());
    process::wrapped(
        "xvfb-run",
        &[
            "--auto-servernum",
            &auth,
            &errors,
            "--server-args=-screen 0 1280x900x24",
        ],
        cmd,
    )
}

/// `ID=SCREEN_DIR,…`: where the suite reads each monitor's current code.
fn monitor_screens(world: &World) -> String {
    MONITORS
        .iter()
        .map(|(id, ..)| format!("{id}={}", world.monitor_dir(id).join("screen").display()))
        .collect::<Vec<_>>()
        .join(",")
}
