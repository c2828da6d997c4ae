//! `cargo xtask bundle [--debug] [--check-only] [--target TRIPLE]`: the Linux
//! packages, `.deb` and `.rpm`, made with the UI's prebuilt Tauri CLI and
//! then opened (`dpkg-deb --contents`, `rpm -qlp`): each must install the
//! app's binary, its desktop entry, its icons and the third-party notices.
//!
//! - By default a release build, `tauri build --bundles deb,rpm`: what
//!   `cargo xtask bench app` and the release workflow ship.
//! - `--debug` packages the debug build already made (`tauri bundle
//!   --debug`: nothing is compiled, a few seconds), which is how `cargo
//!   xtask test` lists a real `.rpm` and `.deb` on every run without a
//!   release build's many minutes. (`tauri build --debug` would rebuild the
//!   UI first, and the app with it, since it embeds `ui/dist`.)
//! - `--check-only` checks packages already built (the release workflow
//!   builds with `--target`, so they are under `target/TRIPLE/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bootstrap;
use crate::notices;
use crate::process::{self, Failure};

/// What each package must install, by path, with what it is.
pub const EXPECTED: &[(&str, &str)] = &[
    ("the app", "/usr/bin/zpair-app"),
    ("its desktop entry", "/usr/share/applications/ZPair.desktop"),
    (
        "its 32x32 icon",
        "/usr/share/icons/hicolor/32x32/apps/zpair-app.png",
    ),
    (
        "its 128x128 icon",
        "/usr/share/icons/hicolor/128x128/apps/zpair-app.png",
    ),
    (
        "its 256x256 (HiDPI) icon",
        "/usr/share/icons/hicolor/256x256@2/apps/zpair-app.png",
    ),
    (
        "the third-party notices",
        "/usr/share/doc/zpair/THIRD-PARTY-NOTICES.txt",
    ),
];

/// The packages made, for the callers that measure or publish them.
#[derive(Debug)]
pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

/// How to make them.
#[derive(Debug, Default)]
pub struct Options {
    /// From the debug build (tests) rather than a release build.
    pub debug: bool,
    /// Only check what is already built.
    pub check_only: bool,
    /// A target triple given to `tauri build --target`.
    pub target: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, Failure> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--debug" => options.debug = true,
                "--check-only" => options.check_only = true,
                "--target" => {
                    let triple = args
                        .next()
                        .ok_or_else(|| Failure::Usage("--target needs a triple".into()))?;
                    options.target = Some(triple.clone());
                }
                other => {
                    return Err(Failure::Usage(format!(
                        "unknown option `{other}` for bundle (--debug, --check-only, --target TRIPLE)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// Where tauri-bundler puts them.
    fn bundle_dir(&self) -> PathBuf {
        let mut dir = process::target_dir();
        if let Some(target) = &self.target {
            dir.push(target);
        }
        dir.join(if self.debug { "debug" } else { "release" })
            .join("bundle")
    }
}

/// `cargo xtask bundle ARGS`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    let packages = make(&options)?;
    for package in [&packages.deb, &packages.rpm] {
        let size = std::fs::metadata(package).map(|m| m.len()).unwrap_or(0);
        process::say(&format!(
            "{} ({:.2} MiB)",
            package.display(),
            size as f64 / (1024.0 * 1024.0)
        ));
    }
    Ok(())
}

/// Builds the packages (unless `check_only`) and checks both.
pub fn make(options: &Options) -> Result<Packages, Failure> {
    if !options.check_only {
        build(options)?;
    }
    let dir = options.bundle_dir();
    let packages = Packages {
        deb: find(&dir.join("deb"), "deb")?,
        rpm: find(&dir.join("rpm"), "rpm")?,
    };
    check(
        &packages.deb,
        &parse_deb_contents(&process::output(
            Command::new("dpkg-deb")
                .arg("--contents")
                .arg(&packages.deb),
        )?),
    )?;
    check(
        &packages.rpm,
        &parse_rpm_list(&process::output(
            Command::new("rpm").arg("-qlp").arg(&packages.rpm),
        )?),
    )?;
    Ok(packages)
}

fn build(options: &Options) -> Result<(), Failure> {
    bootstrap::ensure_system_packages()?;
    bootstrap::ensure_node()?;
    let root = process::workspace_root();
    let tauri = root.join("ui/node_modules/.bin/tauri");
    if !tauri.is_file() {
        process::say("UI: install (the prebuilt Tauri CLI comes with it)");
        crate::ui::NpmProject::ui().install(true)?;
    }
    let mut cmd = Command::new(tauri);
    cmd.current_dir(root.join("src-tauri"));
    if options.debug {
        // The debug binary as built, with the notices as committed (the
        // audit has already checked them against the lock files).
        cmd.args(["bundle", "--debug", "--bundles", "deb,rpm"]);
    } else {
        // The packages install the notices: written from the lock files first.
        notices::run(&[])?;
        cmd.args(["build", "--bundles", "deb,rpm"]);
    }
    if let Some(target) = &options.target {
        cmd.args(["--target", target]);
    }
    process::say(&format!(
        "{} .deb and .rpm",
        if options.debug {
            "the debug build packaged as"
        } else {
            "release build and"
        }
    ));
    process::run(&mut cmd)
}

fn find(dir: &Path, extension: &str) -> Result<PathBuf, Failure> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::Step(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    // The newest, should an older version's package still be there.
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found
        .pop()
        .ok_or_else(|| Failure::Step(format!("no .{extension} in {}", dir.display())))
}

/// The paths in `dpkg-deb --contents` output (`-rw-r--r-- 0/0 123
/// 2026-01-01 00:00 usr/bin/zpair-app`; dpkg writes `./usr/…`, tauri-bundler
/// `usr/…`), as absolute paths; files only, as `rpm -qlp` lists them.
pub fn parse_deb_contents(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|line| !line.starts_with('d'))
        .filter_map(|line| line.split_whitespace().nth(5))
        .map(|path| {
            path.trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/')
        })
        .filter(|path| !path.is_empty() && *path != ".")
        .map(|path| format!("/{path}"))
        .collect()
}

/// The paths in `rpm -qlp` output: one absolute path a line.
pub fn parse_rpm_list(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

/// What of [`EXPECTED`] `paths` lacks.
pub fn missing(paths: &[String]) -> Vec<(&'static str, &'static str)> {
    EXPECTED
        .iter()
        .filter(|(_, path)| !paths.iter().any(|p| p == path))
        .copied()
        .collect()
}

fn check(package: &Path, paths: &[String]) -> Result<(), Failure> {
    let missing = missing(paths);
    if missing.is_empty() {
        // The listing itself, so the log shows what the package installs.
        process::say(&format!(
            "{}: {} entries, with the app, its desktop entry, icons and notices:\n  {}",
            package.file_name().unwrap_or_default().to_string_lossy(),
            paths.len(),
            paths.join("\n  ")
        ));
        return Ok(());
    }
    let list: Vec<String> = missing
        .iter()
        .map(|(what, path)| format!("{what} ({path})"))
        .collect();
    Err(Failure::Step(format!(
        "{} lacks {}",
        package.display(),
        list.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_expected() -> Vec<String> {
        EXPECTED.iter().map(|(_, p)| (*p).to_owned()).collect()
    }

    #[test]
    fn reads_dpkg_deb_listings() {
        let listing = "\
drwxr-xr-x 0/0               0 2026-12-07 09:00 ./
drwxr-xr-x 0/0               0 2026-12-07 09:00 ./usr/bin/
-rwxr-xr-x 0/0        41234567 2026-12-07 09:00 ./usr/bin/zpair-app
-rw-r--r-- 0/0             250 2026-12-07 09:00 usr/share/applications/ZPair.desktop
";
        assert_eq!(
            parse_deb_contents(listing),
            [
                "/usr/bin/zpair-app",
                "/usr/share/applications/ZPair.desktop"
            ]
        );
    }

    #[test]
    fn reads_rpm_listings() {
        let listing = "/usr/bin/zpair-app\n/usr/share/doc/zpair/THIRD-PARTY-NOTICES.txt\n(contains no files)\n";
        assert_eq!(
            parse_rpm_list(listing),
            [
                "/usr/bin/zpair-app",
                "/usr/share/doc/zpair/THIRD-PARTY-NOTICES.txt"
            ]
        );
    }

    #[test]
    fn a_package_without_its_notices_or_icon_is_refused() {
        assert!(missing(&all_expected()).is_empty());
        let without: Vec<String> = all_expected()
            .into_iter()
            .filter(|p| !p.ends_with("NOTICES.txt") && !p.contains("32x32"))
            .collect();
        let lacking: Vec<&str> = missing(&without).iter().map(|(what, _)| *what).collect();
        assert_eq!(lacking, ["its 32x32 icon", "the third-party notices"]);
        assert_eq!(missing(&[]).len(), EXPECTED.len());
    }

    #[test]
    fn options_name_where_the_packages_are() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let release = Options::parse(&[]).expect("no options");
        assert!(release.bundle_dir().ends_with("release/bundle"));
        let cross = Options::parse(&args(&[
            "--check-only",
            "--target",
            "x86_64-unknown-linux-gnu",
        ]))
        .expect("options");
        assert!(cross.check_only);
        assert!(
            cross
                .bundle_dir()
                .ends_with("x86_64-unknown-linux-gnu/release/bundle")
        );
        assert!(Options::parse(&args(&["--target"])).is_err());
        assert!(Options::parse(&args(&["--rpm"])).is_err());
    }
}
