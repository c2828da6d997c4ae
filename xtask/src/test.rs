//! `cargo xtask test`: every check the project has, in the order that fails
//! fastest — format, lints, the dependency audit, the whole test suite, the
//! UI in a browser, the real app through WebDriver, then the fuzzers for a
//! fixed number of runs.
//! `.ci/run` runs exactly this.

use std::path::Path;

use crate::audit::{self, Outcome};
use crate::bootstrap;
use crate::bundle;
use crate::e2e;
use crate::platforms;
use crate::process::{self, Failure};
use crate::ui::NpmProject;

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
    bootstrap::ensure_cargo_tools(&[bootstrap::TAURI_DRIVER, bootstrap::CARGO_DENY])?;
    if fuzz {
        bootstrap::ensure_cargo_tools(&[bootstrap::CARGO_FUZZ])?;
    }
    bootstrap::ensure_node()?;

    // The app embeds the built UI at compile time, so it is built first.
    let ui = NpmProject::ui();
    ui.build_ui(true)?;
    // The UI's type check and lint cover the WebDriver suite, which needs its own packages.
    NpmProject::e2e().install(false)?;

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
    // Without an advisory database (no ../shared snapshot, no network) the
    // other checks still run, and the run says plainly what it did not check.
    let audit = audit::gate(None)?;
    if let Outcome::NoDatabase(why) = &audit {
        process::say(&format!(
            "ADVISORIES WERE NOT CHECKED: {why}; licences, bans and sources were"
        ));
    }
    process::say("the other systems: dependency trees and keyring stores per target, icons");
    platforms::run(&[])?;
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
    process::with_home(&mut tests, &home)?;
    // Nor the caller's desktop keyring: the Secret Service test starts a
    // session bus of its own.
    tests.env_remove("DBUS_SESSION_BUS_ADDRESS");
    process::run(&mut bootstrap::in_session_keyring(&tests))?;

    // The Linux packages from the debug build just made: the .rpm and .deb
    // listed and checked (the release ones: `cargo xtask bench app`).
    bundle::make(&bundle::Options {
        debug: true,
        ..bundle::Options::default()
    })?;

    ui.check_and_test()?;
    e2e::run_suite()?;
    if fuzz {
        run_fuzzers(&fuzz_dir)?;
    }
    match audit {
        Outcome::Checked => process::say("all checks passed"),
        Outcome::NoDatabase(why) => process::say(&format!(
            "all checks passed, but ADVISORIES WERE NOT CHECKED: {why}"
        )),
    }
    Ok(())
}

/// Runs every target in `fuzz/fuzz_targets` for [`FUZZ_RUNS`] iterations,
/// starting from its committed seeds (`fuzz/seeds/<target>/`: inputs that
/// reach its assertions, which random bytes almost never do), with its
/// dictionary (`fuzz/dictionaries/<target>.dict`) and its own flags
/// (`fuzz/options/<target>.flags`) when it has them.
/// cargo-fuzz needs nightly-only flags; `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain accept them, so the machine needs no second toolchain. The
/// sanitized build goes beside the others in the target dir (not in
/// `fuzz/target` inside the clone), so CI's fresh clones stay incremental.
fn run_fuzzers(fuzz_dir: &Path) -> Result<(), Failure> {
    let target_dir = process::target_dir().join("fuzz");
    for target in fuzz_targets(&fuzz_dir.join("fuzz_targets"))? {
        process::say(&format!("fuzz {target} for {FUZZ_RUNS} runs"));
        let mut cmd = process::cargo();
        cmd.current_dir(fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--target-dir"]);
        cmd.arg(&target_dir).arg(&target);
        // The working corpus (ignored by git) first: libFuzzer adds to it.
        let corpus = fuzz_dir.join("corpus").join(&target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", corpus.display())))?;
        cmd.arg(&corpus);
        let seeds = fuzz_dir.join("seeds").join(&target);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.args(["--", &format!("-runs={FUZZ_RUNS}"), "-max_total_time=300"]);
        let dictionary = fuzz_dir.join("dictionaries").join(format!("{target}.dict"));
        if dictionary.is_file() {
            cmd.arg(format!("-dict={}", dictionary.display()));
        }
        cmd.args(target_flags(
            &fuzz_dir.join("options").join(format!("{target}.flags")),
        )?);
        process::run(&mut cmd)?;
    }
    Ok(())
}

/// A target's own libFuzzer flags (`fuzz/options/<target>.flags`, one per
/// line, `#` comments), or none.
fn target_flags(path: &Path) -> Result<Vec<String>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Failure::Step(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
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
