//! `cargo xtask test`: every check the project has, in the order that fails
//! fastest — format, lints, the whole test suite, then the fuzzers for a fixed
//! number of runs. `.ci/run` runs exactly this.

use std::path::Path;

use crate::bootstrap;
use crate::process::{self, Failure};

/// Fuzz iterations per target: enough to reach the decoders' deep paths,
/// short enough for every CI run.
const FUZZ_RUNS: &str = "20000";

/// `cargo xtask test [--no-fuzz]`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let fuzz_dir = process::workspace_root().join("fuzz");
    let fuzz = !args.iter().any(|a| a == "--no-fuzz") && fuzz_dir.join("fuzz_targets").is_dir();
    if let Some(unknown) = args.iter().find(|a| *a != "--no-fuzz") {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for test"
        )));
    }
    bootstrap::ensure_system_packages()?;
    if fuzz {
        bootstrap::ensure_cargo_tools()?;
    }
    bootstrap::ensure_node()?;

    // The app embeds the built UI at compile time, so it is built first.
    let ui = UiProject::new();
    ui.install_and_build()?;

    process::say("format");
    process::run(process::cargo().args(["fmt", "--all", "--check"]))?;
    process::say("lints");
    process::run(process::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    process::say("build the binaries the cross-process tests start");
    process::run(process::cargo().args(["build", "--workspace", "--bins"]))?;

    process::say(
        "unit and cross-component tests (in a fresh session keyring, with a throwaway home)",
    );
    let home = process::target_dir().join("test-home");
    // A fresh home each run: tests never see a previous run's files.
    let _ = std::fs::remove_dir_all(&home);
    let mut tests = process::cargo();
    tests.args(["test", "--workspace", "--no-fail-fast"]);
    for (var, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ] {
        let dir = home.join(sub);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))?;
        tests.env(var, dir);
    }
    process::run(&mut bootstrap::in_session_keyring(&tests))?;

    ui.check_and_test()?;
    if fuzz {
        run_fuzzers(&fuzz_dir)?;
    }
    process::say("all checks passed");
    Ok(())
}

/// The web UI in `ui/`, driven through npm.
struct UiProject {
    dir: std::path::PathBuf,
}

impl UiProject {
    fn new() -> Self {
        Self {
            dir: process::workspace_root().join("ui"),
        }
    }

    fn npm(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new("npm");
        cmd.current_dir(&self.dir).args(args);
        cmd
    }

    /// Exact dependencies from the lock file, then the production build.
    fn install_and_build(&self) -> Result<(), Failure> {
        process::say("UI: install and build (the app embeds it)");
        process::run(&mut self.npm(&["ci", "--no-audit", "--no-fund"]))?;
        process::run(&mut self.npm(&["run", "build"]))
    }

    /// Type check, lint, and the Playwright suite in Debian's Chromium.
    fn check_and_test(&self) -> Result<(), Failure> {
        process::say("UI: type check, lint, browser tests");
        process::run(&mut self.npm(&["run", "check"]))?;
        process::run(&mut self.npm(&["run", "lint"]))?;
        process::run(&mut self.npm(&["test"]))
    }
}

/// Runs every target in `fuzz/fuzz_targets` for [`FUZZ_RUNS`] iterations.
/// cargo-fuzz needs nightly-only flags; `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain accept them, so the machine needs no second toolchain.
fn run_fuzzers(fuzz_dir: &Path) -> Result<(), Failure> {
    for target in fuzz_targets(&fuzz_dir.join("fuzz_targets"))? {
        process::say(&format!("fuzz {target} for {FUZZ_RUNS} runs"));
        let mut cmd = process::cargo();
        cmd.current_dir(fuzz_dir).env("RUSTC_BOOTSTRAP", "1").args([
            "fuzz",
            "run",
            &target,
            "--",
            &format!("-runs={FUZZ_RUNS}"),
            "-max_total_time=300",
        ]);
        process::run(&mut cmd)?;
    }
    Ok(())
}

fn fuzz_targets(dir: &Path) -> Result<Vec<String>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::Step(format!("cannot list {}: {e}", dir.display())))?;
    let mut targets: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    targets.sort();
    Ok(targets)
}
