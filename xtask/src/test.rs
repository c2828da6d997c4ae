//! `cargo xtask test`: every check the project has, in the order that fails
//! fastest — format, lints, the dependency audit, the whole test suite, the
//! UI in a browser, the real app through WebDriver, then the fuzzers for a
//! fixed number of runs.
//! `.ci/run` runs exactly this.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::audit::{self, Outcome};
use crate::bootstrap;
use crate::bundle;
use crate::e2e;
use crate::platforms;
use crate::process::{self, Failure};
use crate::prune;
use crate::ui::NpmProject;

/// Fuzz iterations per target: enough to reach the decoders' deep paths,
/// short enough for every CI run.
const FUZZ_RUNS: &str = "20000";

/// The most time one target runs, in seconds. The slow targets (the
/// scanner, the station's API, the monitor's provisioning) stop here
/// before their runs are done: 485 of a warm CI run's 1265 s went to them
/// with a 300 s bound. Their corpus is kept between runs (see
/// [`run_fuzzers`]), so each run starts where the last stopped and depth
/// still grows over time.
const FUZZ_SECONDS: &str = "60";

/// Where a run's time goes, phase by phase, printed at its end: CI's
/// budget (a warm run under 20 minutes) is kept by knowing which part grew.
#[derive(Default)]
struct Phases {
    done: Vec<(&'static str, Duration)>,
    current: Option<(&'static str, Instant)>,
}

impl Phases {
    /// Ends the phase running (if any) and starts `name`.
    fn start(&mut self, name: &'static str) {
        self.end();
        self.current = Some((name, Instant::now()));
    }

    fn end(&mut self) {
        if let Some((name, started)) = self.current.take() {
            self.done.push((name, started.elapsed()));
        }
    }

    /// The table of phases and their share of the run.
    fn report(mut self) -> String {
        self.end();
        let total: Duration = self.done.iter().map(|(_, d)| *d).sum();
        let mut table = String::from("where the run's time went:");
        for (name, took) in &self.done {
            let share = 100.0 * took.as_secs_f64() / total.as_secs_f64().max(f64::EPSILON);
            table.push_str(&format!(
                "\n  {:>6.0} s  {share:>3.0} %  {name}",
                took.as_secs_f64()
            ));
        }
        table.push_str(&format!("\n  {:>6.0} s  in all", total.as_secs_f64()));
        table
    }
}

/// `cargo xtask test [--no-fuzz]`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let fuzz_dir = process::workspace_root().join("fuzz");
    let fuzz = !args.iter().any(|a| a == "--no-fuzz") && fuzz_dir.join("fuzz_targets").is_dir();
    if let Some(unknown) = args.iter().find(|a| *a != "--no-fuzz") {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for test"
        )));
    }
    let mut phases = Phases::default();
    phases.start("tools and packages");
    let freed = prune::stale_workspace_builds(&process::target_dir())?;
    if freed.entries > 0 {
        process::say(&format!(
            "removed {} stale builds of the project's own crates from the target folder ({:.1} GB)",
            freed.entries,
            freed.bytes as f64 / 1e9
        ));
    }
    bootstrap::ensure_system_packages()?;
    bootstrap::ensure_cargo_tools(&[bootstrap::TAURI_DRIVER, bootstrap::CARGO_DENY])?;
    if fuzz {
        bootstrap::ensure_cargo_tools(&[bootstrap::CARGO_FUZZ])?;
    }
    bootstrap::ensure_node()?;

    // The app embeds the built UI at compile time, so it is built first.
    phases.start("the UI's build");
    let ui = NpmProject::ui();
    ui.build_ui(true)?;
    // The UI's type check and lint cover the WebDriver suite, which needs its own packages.
    NpmProject::e2e().install(false)?;

    phases.start("format and lints");
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
    phases.start("dependency audit and other systems");
    let audit = audit::gate(None)?;
    if let Outcome::NoDatabase(why) = &audit {
        process::say(&format!(
            "ADVISORIES WERE NOT CHECKED: {why}; licences, bans and sources were"
        ));
    }
    process::say("the other systems: dependency trees and keyring stores per target, icons");
    platforms::run(&[])?;
    phases.start("binaries for the cross-process tests");
    process::say("build the binaries the cross-process tests start");
    process::run(process::cargo().args(["build", "--workspace", "--bins"]))?;

    phases.start("unit and cross-component tests");
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

    // The same store tests again on the production database: the unit
    // tests of every store module and the station's own suite, each test on
    // a database of its own on a throwaway PostgreSQL server (a real one,
    // started from Debian's package in a temporary folder).
    phases.start("the store tests on PostgreSQL");
    process::say("the station's store tests again, on a throwaway PostgreSQL server");
    let station = process::workspace_root().join("crates/central-station");
    for binary in station_test_binaries()? {
        // Run as `cargo test` runs them: from the package, which they read
        // their committed files from.
        let mut run = std::process::Command::new(&binary);
        run.current_dir(&station)
            .env("CARGO_MANIFEST_DIR", &station)
            .env("ZPAIR_TEST_POSTGRES", "1");
        process::run(&mut run)?;
    }

    // The Linux packages from the debug build just made: the .rpm and .deb
    // listed and checked (the release ones: `cargo xtask bench app`).
    phases.start(".deb and .rpm");
    bundle::make(&bundle::Options {
        debug: true,
        ..bundle::Options::default()
    })?;

    phases.start("UI: type check, lint, browser tests");
    ui.check_and_test()?;
    phases.start("the real app through WebDriver");
    e2e::run_suite()?;
    if fuzz {
        phases.start("fuzzers");
        run_fuzzers(&fuzz_dir)?;
    }
    process::say(&phases.report());
    match audit {
        Outcome::Checked => process::say("all checks passed"),
        Outcome::NoDatabase(why) => process::say(&format!(
            "all checks passed, but ADVISORIES WERE NOT CHECKED: {why}"
        )),
    }
    Ok(())
}

/// The station's unit and station test binaries, as the workspace's test
/// build made them: the same features as `cargo test --workspace`, so
/// nothing is built twice (`cargo test -p central-station` would unify
/// features differently and rebuild most of the tree).
fn station_test_binaries() -> Result<Vec<std::path::PathBuf>, Failure> {
    let messages = process::output(process::cargo().args([
        "test",
        "--workspace",
        "--lib",
        "--test",
        "station",
        "--no-run",
        "--message-format=json",
    ]))?;
    let binaries = station_test_executables(&messages);
    if binaries.len() == 2 {
        Ok(binaries)
    } else {
        Err(Failure::Step(format!(
            "expected the station's unit and station test binaries, found {binaries:?}"
        )))
    }
}

/// The test executables of the central-station package among cargo's
/// JSON messages (not its binary, which the station suite starts).
fn station_test_executables(messages: &str) -> Vec<std::path::PathBuf> {
    messages
        .lines()
        .filter_map(|line| crate::json::parse(line).ok())
        .filter(|message| {
            message.get("reason").as_str() == Some("compiler-artifact")
                && message.get("profile").get("test").is_true()
                && message
                    .get("package_id")
                    .as_str()
                    .is_some_and(|id| id.contains("/central-station#"))
        })
        .filter_map(|message| message.get("executable").as_str().map(Into::into))
        .collect()
}

/// Runs every target in `fuzz/fuzz_targets` for [`FUZZ_RUNS`] iterations
/// or [`FUZZ_SECONDS`], whichever ends first,
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
        // The working corpus first: libFuzzer adds to it. It lives in the
        // target dir, beside the builds, so what one CI run found the next
        // starts from (a fresh clone's `fuzz/corpus` is empty every time).
        let corpus = process::target_dir().join("fuzz-corpus").join(&target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", corpus.display())))?;
        cmd.arg(&corpus);
        let seeds = fuzz_dir.join("seeds").join(&target);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.args([
            "--",
            &format!("-runs={FUZZ_RUNS}"),
            &format!("-max_total_time={FUZZ_SECONDS}"),
        ]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stations_test_executables_are_picked() {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/central-station#0.1.0","profile":{"test":true},"executable":"/t/deps/station-1"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/central-station#0.1.0","profile":{"test":true},"executable":"/t/deps/central_station-2"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/central-station#0.1.0","profile":{"test":false},"executable":"/t/central-station"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/zpair-core#0.1.0","profile":{"test":true},"executable":"/t/deps/zpair_core-3"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            station_test_executables(&messages),
            [
                std::path::PathBuf::from("/t/deps/station-1"),
                "/t/deps/central_station-2".into()
            ]
        );
    }

    #[test]
    fn the_report_lists_each_phase_with_its_share_and_the_total() {
        let phases = Phases {
            done: vec![
                ("format and lints", Duration::from_secs(30)),
                ("fuzzers", Duration::from_secs(90)),
            ],
            current: None,
        };
        let report = phases.report();
        assert!(report.contains("30 s   25 %  format and lints"), "{report}");
        assert!(report.contains("90 s   75 %  fuzzers"), "{report}");
        assert!(report.contains("120 s  in all"), "{report}");
    }
}
