//! Installs what the other commands need on a fresh Debian or Ubuntu machine,
//! and only what is missing, saying so as it goes.

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
];

/// Cargo subcommands the test command uses.
const CARGO_TOOLS: &[(&str, &str)] = &[("cargo-fuzz", "fuzzing the scanner and the QR parser")];

/// The Node.js the UI's toolchain (Vite 8) needs at least.
const NODE_MAJOR: u32 = 20;

/// `cargo xtask bootstrap`.
pub fn run() -> Result<(), Failure> {
    ensure_system_packages()?;
    ensure_cargo_tools()?;
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

/// Installs the missing [`CARGO_TOOLS`] with `cargo install --locked`.
pub fn ensure_cargo_tools() -> Result<(), Failure> {
    for (tool, why) in CARGO_TOOLS {
        let subcommand = tool.trim_start_matches("cargo-");
        let present = process::cargo()
            .args([subcommand, "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            process::say(&format!("installing {tool}: {why}"));
            process::run(process::cargo().args(["install", "--locked", tool]))?;
        }
    }
    Ok(())
}

/// Runs `cmd` inside a fresh session keyring (`keyctl session -`), so the
/// tokens tests and the demo store never touch the user's own keyring and
/// every process of the run shares one.
pub fn in_session_keyring(cmd: &Command) -> Command {
    let mut wrapped = Command::new("keyctl");
    wrapped
        .args(["session", "-"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => wrapped.env(key, v),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn has_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
