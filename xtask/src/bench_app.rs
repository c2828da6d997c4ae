//! `cargo xtask bench app [--runs N] [--no-deb] [--no-build]`: what a technician feels of
//! the app itself — cold start to the first interactive screen, resident
//! memory when idle, the size of the release `.deb`, and what each screen
//! costs in CPU and memory while it sits open, the Scan screen with its
//! camera on among them (`ui/e2e/bench.mjs`, through WebDriver, against the
//! demo's world).
//!
//! The release app is built with `tauri build --bundles deb,rpm` (the npm
//! package's prebuilt CLI, through `cargo xtask bundle`, which also checks
//! both packages' contents), so the binary measured is the one they ship. Each start gets a fresh profile (XDG folders) and its own session
//! keyring, under one Xvfb server the bench starts itself when there is no
//! display. "Interactive" is the UI's first IPC call, `get_setup`, which the
//! app logs at debug level: the first screen renders on its answer.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::bootstrap;
use crate::bundle;
use crate::e2e::{self, Drive};
use crate::process::{self, Failure};
use crate::ui::NpmProject;
use crate::world;

/// The line the app logs when the window first asks for its state.
const READY_MARKER: &str = "the window asked for its setup";
/// How long a start may take before the bench calls it failed.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the app sits idle on its first screen before memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// The screens phase's world: clear of the demo's and the WebDriver suite's ports.
const STATION_PORT: u16 = 28443;
const MONITOR_PORT: u16 = 29443;

/// `cargo xtask bench app ARGS`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    bootstrap::ensure_system_packages()?;
    bootstrap::ensure_cargo_tools(&[bootstrap::TAURI_DRIVER])?;
    bootstrap::ensure_node()?;
    let root = process::workspace_root();
    process::say("UI: install (the prebuilt Tauri CLI comes with it)");
    process::run(Command::new("npm").current_dir(root.join("ui")).args([
        "ci",
        "--no-audit",
        "--no-fund",
    ]))?;
    let deb = if !options.build {
        process::say("using the release build already made (--no-build)");
        None
    } else if options.deb {
        // The .deb and the .rpm, release build, their contents checked.
        let packages = bundle::make(&bundle::Options::default())?;
        // The bill of materials beside the package it describes.
        if let Some(dir) = packages.deb.parent() {
            crate::sbom::run(&[dir.display().to_string()])?;
        }
        Some(packages.deb)
    } else {
        process::say("release build (tauri build --no-bundle)");
        process::run(
            Command::new(root.join("ui/node_modules/.bin/tauri"))
                .current_dir(root.join("src-tauri"))
                .args(["build", "--no-bundle"]),
        )?;
        None
    };
    let app = process::target_dir().join("release/zpair-app");

    let display = Display::acquire()?;
    let scratch = process::target_dir().join("bench-app");
    let _ = std::fs::remove_dir_all(&scratch);
    let mut starts = Vec::with_capacity(options.runs);
    let mut memory = None;
    for run in 0..options.runs {
        let profile = scratch.join(format!("run-{run}"));
        let mut started = Started::launch(&app, &profile, display.name())?;
        starts.push(started.wait_ready()?);
        // Memory is read once, on the last start, after it has sat idle.
        if run + 1 == options.runs {
            std::thread::sleep(IDLE);
            memory = Some(Memory::of_tree(started.child.id()));
        }
        started.stop();
    }
    let _ = std::fs::remove_dir_all(&scratch);

    print_table(&starts, memory.as_ref(), deb.as_deref());
    drop(display);

    process::say(
        "what each screen costs while open (WebDriver, the station and monitors of the demo)",
    );
    if options.build {
        world::build_binaries(&[])?;
    }
    NpmProject::e2e().install(false)?;
    e2e::drive(&Drive {
        script: "bench.mjs",
        app,
        dir: process::target_dir().join("bench-app/screens"),
        station_port: STATION_PORT,
        monitor_port: MONITOR_PORT,
        // The app's own level: the bench measures it as it ships.
        app_log_filter: None,
        spare: false,
    })
}

struct Options {
    runs: usize,
    deb: bool,
    /// Off with `--no-build`: measure the binaries built last time.
    build: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, Failure> {
        let mut options = Self {
            runs: 10,
            deb: true,
            build: true,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--runs" => {
                    options.runs = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|&n| n > 0)
                        .ok_or_else(|| Failure::Usage("--runs takes a positive number".into()))?;
                }
                "--no-deb" => options.deb = false,
                "--no-build" => options.build = false,
                other => {
                    return Err(Failure::Usage(format!(
                        "unknown option `{other}` for bench app (--runs N, --no-deb, --no-build)"
                    )));
                }
            }
        }
        Ok(options)
    }
}

/// The X display the app opens its window on: the session's own, or an
/// Xvfb server started for the bench and stopped with it.
struct Display {
    name: String,
    server: Option<Child>,
}

impl Display {
    fn acquire() -> Result<Self, Failure> {
        if let Some(name) = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()) {
            return Ok(Self { name, server: None });
        }
        process::say("no display: starting Xvfb for the bench");
        // -displayfd prints the display number Xvfb picked once it listens.
        let mut server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "1280x800x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Failure::Step(format!("could not start Xvfb (package xvfb): {e}")))?;
        let mut number = String::new();
        if let Some(out) = server.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut number);
        }
        let number = number.trim();
        if number.is_empty() {
            let _ = server.kill();
            return Err(Failure::Step("Xvfb did not report a display number".into()));
        }
        Ok(Self {
            name: format!(":{number}"),
            server: Some(server),
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// One start of the app on a fresh profile.
struct Started {
    child: Child,
    launched: Instant,
    lines: mpsc::Receiver<String>,
}

impl Started {
    fn launch(app: &Path, profile: &Path, display: &str) -> Result<Self, Failure> {
        let mut cmd = Command::new(app);
        process::with_home(&mut cmd, profile)?;
        cmd.env("DISPLAY", display)
            .env("RUST_LOG", "info,zpair_app=debug")
            .env_remove("WAYLAND_DISPLAY");
        // `keyctl session -` execs the app, so the child's pid is the app's.
        let mut cmd = bootstrap::in_session_keyring(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let launched = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| Failure::Step(format!("could not start {}: {e}", app.display())))?;
        let (send, lines) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Self {
            child,
            launched,
            lines,
        })
    }

    /// Time from launch to the ready marker.
    fn wait_ready(&mut self) -> Result<Duration, Failure> {
        let deadline = self.launched + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(READY_MARKER) => return Ok(self.launched.elapsed()),
                Ok(line) => seen.push(line),
                Err(_) => {
                    self.stop();
                    return Err(Failure::Step(format!(
                        "the app did not reach its first screen within {}s; its log:\n{}",
                        START_TIMEOUT.as_secs(),
                        seen.join("\n")
                    )));
                }
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of the app and the WebKit processes it started.
struct Memory {
    /// (process name, RSS kB, PSS kB), the app first.
    processes: Vec<(String, u64, u64)>,
}

impl Memory {
    fn of_tree(root: u32) -> Self {
        let mut processes = Vec::new();
        for pid in process_tree(root) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let name = program_name(pid)
                .unwrap_or_else(|| status_field(&status, "Name").unwrap_or("?").to_owned());
            let rss = kb(status_field(&status, "VmRSS"));
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            let pss = kb(status_field(&rollup, "Pss"));
            processes.push((name, rss, pss));
        }
        Self { processes }
    }

    fn total(&self) -> (u64, u64) {
        self.processes
            .iter()
            .fold((0, 0), |(r, p), (_, rss, pss)| (r + rss, p + pss))
    }
}

/// The file name of the program `pid` runs (the status file's name is cut
/// at 15 characters: "WebKitNetworkPr").
fn program_name(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let program = cmdline.split(|&b| b == 0).next()?;
    let program = String::from_utf8_lossy(program);
    let name = program.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// `root` and all its descendants, `root` first.
fn process_tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The name in parentheses may hold spaces; the ppid follows it.
            let after = stat.rsplit_once(')')?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut tree = vec![root];
    let mut next = 0;
    while next < tree.len() {
        let parent = tree[next];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        next += 1;
    }
    tree
}

/// The value of `Key:   value` in a /proc file.
fn status_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// `1234 kB` as 1234.
fn kb(value: Option<&str>) -> u64 {
    value
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn print_table(starts: &[Duration], memory: Option<&Memory>, deb: Option<&Path>) {
    let mut ms: Vec<f64> = starts.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!();
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| cold start to first screen, {} starts | p50 {:.0} ms, min {:.0} ms, max {:.0} ms |",
        ms.len(),
        at(0.5),
        ms[0],
        ms[ms.len() - 1]
    );
    if let Some(memory) = memory {
        for (name, rss, pss) in &memory.processes {
            println!(
                "| idle memory, {name} | RSS {:.1} MiB, PSS {:.1} MiB |",
                *rss as f64 / 1024.0,
                *pss as f64 / 1024.0
            );
        }
        let (rss, pss) = memory.total();
        println!(
            "| idle memory, all processes | RSS {:.1} MiB, PSS {:.1} MiB |",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0
        );
    }
    if let Some(deb) = deb {
        let size = std::fs::metadata(deb).map(|m| m.len()).unwrap_or(0);
        println!(
            "| release .deb ({}) | {:.2} MiB |",
            deb.file_name().unwrap_or_default().to_string_lossy(),
            size as f64 / (1024.0 * 1024.0)
        );
    }
}
