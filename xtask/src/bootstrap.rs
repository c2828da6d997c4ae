//! Installs what the other commands need on a fresh Debian or Ubuntu machine,
//! and only what is missing, saying so as it goes.

use std::path::PathBuf;
use std::process::Command;

use crate::process::{self, Failure};

/// Debian packages the build, the demo and the tests use, with why.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    (
        "keyutils",
        "the Linux kernel keyring the CLI keeps session tokens in (`keyctl`)",
    ),
    ("pkg-config", "locating system libraries for -sys crates"),
    (
        "chromium",
        "the real browser the UI tests drive (Playwright uses Debian's, never a download)",
    ),
    (
        "libwebkit2gtk-4.1-dev",
        "the web view the Tauri app renders its UI in",
    ),
    ("libxdo-dev", "Tauri's keyboard and window helpers on Linux"),
    ("libssl-dev", "TLS for Tauri's build tooling"),
    (
        "libayatana-appindicator3-dev",
        "Tauri's tray support on Linux",
    ),
    ("librsvg2-dev", "SVG rendering for the app's icons"),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver, which tauri-driver drives the real app through",
    ),
    ("xvfb", "a virtual display for the app's WebDriver tests"),
    ("xauth", "display authorisation for xvfb-run"),
    (
        "poppler-utils",
        "pdftotext, which reads the pairing report's PDF back in zpair-core's and the CLI's tests",
    ),
    (
        "libclang-dev",
        "bindgen for the camera crate's V4L2 bindings (nokhwa)",
    ),
    (
        "libdbus-1-dev",
        "libdbus, which the desktop keyring's client (dbus-secret-service) and Tauri's Linux runtime link",
    ),
    (
        "rpm",
        "`rpm -qlp`, listing the .rpm `cargo xtask bundle` makes (tauri-bundler writes it without rpmbuild)",
    ),
    (
        "postgresql",
        "a real PostgreSQL server (initdb, pg_ctl) that the station's store tests and the benchmark start in a throwaway folder",
    ),
    (
        "gnome-keyring",
        "a real Secret Service for zpair-core's test of the desktop keyring's session collection",
    ),
    (
        "dbus-daemon",
        "a private D-Bus session bus for that test, as a desktop login has",
    ),
    (
        "dbus-bin",
        "`dbus-send`, which that test asks whether GNOME Keyring is on its bus",
    ),
];

/// Fuzzing the scanner and the QR parser.
pub const CARGO_FUZZ: CargoTool = CargoTool {
    name: "cargo-fuzz",
    why: "fuzzing the scanner and the QR parser",
};
/// The dependency gate: advisories, licences, bans and sources.
pub const CARGO_DENY: CargoTool = CargoTool {
    name: "cargo-deny",
    why: "checking every dependency for advisories, licences, bans and sources (`cargo xtask audit`)",
};
/// The WebDriver server for Tauri apps, in front of WebKitWebDriver.
pub const TAURI_DRIVER: CargoTool = CargoTool {
    name: "tauri-driver",
    why: "driving the real app through WebDriver (it runs WebKitWebDriver)",
};

/// A tool `cargo install --locked` installs, by crate name (which is also
/// the binary's name), with why it is needed.
#[derive(Debug, Clone, Copy)]
pub struct CargoTool {
    pub name: &'static str,
    pub why: &'static str,
}

/// The Node.js the UI's toolchain (Vite 8) needs at least.
const NODE_MAJOR: u32 = 20;

/// `cargo xtask bootstrap`.
pub fn run() -> Result<(), Failure> {
    ensure_system_packages()?;
    ensure_cargo_tools(&[CARGO_DENY, CARGO_FUZZ, TAURI_DRIVER])?;
    ensure_node()
}

/// Checks for Node.js ≥ 20 with npm: Debian's own package is older, so a
/// missing or old one is reported with where to get it rather than installed.
pub fn ensure_node() -> Result<(), Failure> {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let major = version.as_deref().and_then(|v| {
        v.trim_start_matches('v')
            .split('.')
            .next()?
            .parse::<u32>()
            .ok()
    });
    match major {
        Some(m) if m >= NODE_MAJOR && has_program("npm") => Ok(()),
        _ => Err(Failure::Step(format!(
            "the UI needs Node.js {NODE_MAJOR} or later with npm (found {}): install it from your distribution's NodeSource or nvm packages",
            version.as_deref().unwrap_or("none")
        ))),
    }
}

/// Installs the missing [`SYSTEM_PACKAGES`] with apt-get.
pub fn ensure_system_packages() -> Result<(), Failure> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(name, _)| !is_installed(name))
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for (name, why) in SYSTEM_PACKAGES.iter().filter(|(n, _)| missing.contains(n)) {
        process::say(&format!("installing {name}: {why}"));
    }
    if !has_program("apt-get") {
        return Err(Failure::Step(format!(
            "missing system packages {missing:?} and no apt-get here: install them with your package manager"
        )));
    }
    let sudo = !is_root();
    if sudo && !has_program("sudo") {
        return Err(Failure::Step(format!(
            "missing system packages {missing:?}: run `apt-get install -y {}` as root",
            missing.join(" ")
        )));
    }
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    process::run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    process::run(&mut install)
}

/// Installs the missing `tools` with `cargo install --locked`.
pub fn ensure_cargo_tools(tools: &[CargoTool]) -> Result<(), Failure> {
    for tool in tools {
        let present = match tool.name.strip_prefix("cargo-") {
            Some(subcommand) => process::cargo()
                .args([subcommand, "--version"])
                .output()
                .is_ok_and(|o| o.status.success()),
            None => has_program(tool.name),
        };
        if !present {
            process::say(&format!("installing {}: {}", tool.name, tool.why));
            process::run(process::cargo().args(["install", "--locked", tool.name]))?;
        }
    }
    Ok(())
}

/// Runs `cmd` inside a fresh session keyring (`keyctl session -`), so the
/// tokens tests and the demo store never touch the user's own keyring and
/// every process of the run shares one.
pub fn in_session_keyring(cmd: &Command) -> Command {
    process::wrapped("keyctl", &["session", "-"], cmd)
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn has_program(name: &str) -> bool {
    find_program(name).is_some()
}

/// Where `name` is: on `PATH`, or in cargo's own `bin` folder, where `cargo
/// install` puts tools even when that folder is not on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin"));
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(cargo_bin)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
