//! `cargo xtask …`: the project's own commands, in Rust so they run the same
//! on every machine with only Rust installed.
//!
//! - `cargo xtask demo`  — the main job on the embedded defaults.
//! - `cargo xtask test`  — every test (what `.ci/run` runs).
//! - `cargo xtask e2e`   — the real app through WebDriver, on its own.
//! - `cargo xtask bench pairing|renewal|admin|scanner|app [ARGS]` — the benchmarks.
//! - `cargo xtask audit` — dependencies checked for advisories, licences,
//!   bans and sources (cargo-deny, and the UI's npm packages).
//! - `cargo xtask sbom [DIR]` — the CycloneDX software bill of materials;
//! - `cargo xtask notices [--check]` / `soup [PATH]` — the third-party
//!   notices and the SOUP list, from the lock files.
//! - `cargo xtask bundle` — the Linux packages (.deb, .rpm), built and checked.
//! - `cargo xtask platforms` — what can be checked here of the other systems:
//!   each target's dependency tree and keyring store, every system's Tauri
//!   configuration, the icons generated from `icons/icon.svg`.
//! - `cargo xtask bootstrap` — install what the others need, and nothing else.

mod audit;
mod bench_app;
mod bootstrap;
mod bundle;
mod demo;
mod e2e;
mod json;
mod notices;
mod platforms;
mod process;
mod prune;
mod sbom;
mod secrets;
mod test;
mod ui;
mod world;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = process::announce_workspace().and_then(|()| match command {
        "bootstrap" => bootstrap::run(),
        "demo" => demo::run(rest),
        "test" => test::run(rest),
        "e2e" => e2e::run(rest),
        "bench" => bench(rest),
        "audit" => audit::run(rest),
        "notices" => notices::run(rest),
        "soup" => notices::soup(rest),
        "sbom" => sbom::run(rest),
        "bundle" => bundle::run(rest),
        "platforms" => platforms::run(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(process::Failure::Usage(format!(
            "unknown command `{other}`\n\n{HELP}"
        ))),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask: {failure}");
            failure.exit_code()
        }
    }
}

const HELP: &str = "\
usage: cargo xtask <command>

  demo [--exit]              station + three simulated monitors, and the app open on them
                             (no display or --exit: the CLI pairs one live)
  test [--no-fuzz]           every test: format, lints, unit, cross-component, UI, app, fuzz
  e2e [--no-build]           the real app through WebDriver against a real station
  bench pairing [ARGS]       pair request -> PROVISIONED latency and N at once
  bench renewal [ARGS]       certificate renewal of 100 monitors at once, none lost
  bench admin [ARGS]         filtered audit pages over 100,000 rows; 10,000-monitor CSV import
  bench scanner [DIR] [--peers]  QR scanner on a photo folder or generated frames
  bench app [--runs N] [--no-deb] [--no-build]  cold start, memory, .deb size, cost of each screen
  audit [--manifest-path PATH]  advisories, licences, bans, sources of every dependency
  notices [--check]          write (or check) the third-party notices the app ships
  soup [PATH]                write the SOUP list as CSV (default target/soup.csv)
  sbom [DIR]                 write the CycloneDX SBOM (default target/sbom/zpair.cdx.json)
  bundle [--debug] [--check-only] [--target T]  build the .deb and .rpm and check their contents
  platforms                  each system's dependency tree, keyring store, Tauri config, icons
  bootstrap                  install system packages and tools the others need
";

/// `cargo xtask bench NAME ARGS`: benches are release builds of their own
/// targets, so xtask stays small and never links the product.
fn bench(args: &[String]) -> Result<(), process::Failure> {
    let (name, rest) = args.split_first().ok_or_else(|| {
        process::Failure::Usage(
            "bench needs a name: pairing, renewal, admin, scanner or app".into(),
        )
    })?;
    let (package, bench) = match name.as_str() {
        "app" => return bench_app::run(rest),
        "pairing" => ("zpair-tests", "pairing"),
        "renewal" => ("zpair-tests", "renewal"),
        "admin" => ("zpair-tests", "admin"),
        "scanner" => ("zpair-scanner", "scanner"),
        other => return Err(process::Failure::Usage(format!("unknown bench `{other}`"))),
    };
    bootstrap::ensure_system_packages()?;
    if name == "pairing" {
        // `--swarm` starts the monitors' swarm binary from the bench's
        // target folder (`zpair_tests::binary`): built with the same profile.
        let mut build = process::cargo();
        build.args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "bedside-monitor",
            "--bins",
        ]);
        process::run(&mut build)?;
    }
    let mut cmd = process::cargo();
    cmd.args(["bench", "--quiet", "-p", package, "--bench", bench, "--"])
        .args(rest.iter().map(|arg| absolute_if_path(arg)));
    process::run(&mut cmd)
}

/// `arg` as an absolute path when it names an existing file or folder:
/// cargo runs a bench from its crate's folder, where a path relative to the
/// caller's (such as `../shared/qr-samples`) would name something else.
fn absolute_if_path(arg: &str) -> std::ffi::OsString {
    let path = std::path::Path::new(arg);
    match path.exists().then(|| std::path::absolute(path)) {
        Some(Ok(absolute)) => absolute.into_os_string(),
        _ => arg.into(),
    }
}
