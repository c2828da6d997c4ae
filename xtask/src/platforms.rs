//! `cargo xtask platforms`: what this Linux machine can check of the
//! systems it cannot build for (no Windows, Apple or Android standard
//! library here; the release workflow builds them). Part of `cargo xtask
//! test`, a few seconds:
//!
//! - each system's dependency tree resolves (`cargo tree --target …`), with
//!   that system's keyring store in zpair-core and no other system's, and
//!   the app's tree with the native camera only on desktops;
//! - the icons in `icons/` are exactly what `tauri icon icons/icon.svg`
//!   makes, for every system.
//!
//! Every system's Tauri configuration is checked by zpair-app's own tests
//! (`src-tauri/src/platforms.rs`, Tauri's loader and types), and that every
//! `cfg` branch of the secret store names its store by zpair-core's.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::process::{self, Failure};

/// A system the app is built for: a target triple, the keyring-store
/// crates zpair-core must pull there, and whether the app has its own
/// (nokhwa) camera there or scans through the web view's only.
#[derive(Debug)]
pub struct System {
    pub name: &'static str,
    pub target: &'static str,
    pub stores: &'static [&'static str],
    pub native_camera: bool,
}

pub const SYSTEMS: &[System] = &[
    System {
        name: "Linux",
        target: "x86_64-unknown-linux-gnu",
        stores: &["linux-keyutils-keyring-store", "dbus-secret-service"],
        native_camera: true,
    },
    System {
        name: "Windows",
        target: "x86_64-pc-windows-msvc",
        stores: &["windows-native-keyring-store"],
        native_camera: true,
    },
    System {
        name: "macOS",
        target: "aarch64-apple-darwin",
        stores: &["apple-native-keyring-store"],
        native_camera: true,
    },
    System {
        name: "iOS",
        target: "aarch64-apple-ios",
        stores: &["apple-native-keyring-store"],
        native_camera: false,
    },
    System {
        name: "Android",
        target: "aarch64-linux-android",
        stores: &["android-native-keyring-store"],
        native_camera: false,
    },
];

/// `cargo xtask platforms`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    if let Some(unknown) = args.first() {
        return Err(Failure::Usage(format!(
            "unknown option `{unknown}` for platforms"
        )));
    }
    for system in SYSTEMS {
        let core = tree(system.target, "zpair-core")?;
        let app = tree(system.target, "zpair-app")?;
        check(system, &core, &app).map_err(Failure::Step)?;
        process::say(&format!(
            "{} ({}): {} crates in zpair-core's tree, {} in the app's; store {}",
            system.name,
            system.target,
            core.len(),
            app.len(),
            system.stores.join(" + ")
        ));
    }
    icons()
}

/// The crate names in `package`'s normal dependency tree for `target`.
fn tree(target: &str, package: &str) -> Result<BTreeSet<String>, Failure> {
    let listing = process::output(process::cargo().args([
        "tree", "--locked", "--target", target, "-p", package, "-e", "normal", "--prefix", "none",
        "--format", "{p}",
    ]))?;
    Ok(crate_names(&listing))
}

/// The first word of each `name vX.Y.Z (…)` line.
pub fn crate_names(listing: &str) -> BTreeSet<String> {
    listing
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Whether `core` (zpair-core's tree) holds exactly `system`'s stores among
/// all systems', and `app` (zpair-app's) the native camera where it should.
pub fn check(
    system: &System,
    core: &BTreeSet<String>,
    app: &BTreeSet<String>,
) -> Result<(), String> {
    let every_store: BTreeSet<&str> = SYSTEMS.iter().flat_map(|s| s.stores).copied().collect();
    for store in &every_store {
        let wanted = system.stores.contains(store);
        if core.contains(*store) != wanted {
            return Err(format!(
                "{} ({}): zpair-core {} {store}",
                system.name,
                system.target,
                if wanted {
                    "lacks its store"
                } else {
                    "pulls another system's store"
                }
            ));
        }
    }
    if !app.contains("zpair-core") || !app.contains("tauri") {
        return Err(format!("{}: the app's tree did not resolve", system.name));
    }
    if app.contains("nokhwa") != system.native_camera {
        return Err(format!(
            "{}: the native camera (nokhwa) is {} the app's tree",
            system.name,
            if system.native_camera {
                "missing from"
            } else {
                "in"
            }
        ));
    }
    if app.contains("webkit2gtk") != (system.name == "Linux") {
        return Err(format!(
            "{}: webkit2gtk is where it should not be",
            system.name
        ));
    }
    Ok(())
}

/// Regenerates the icons from `icons/icon.svg` into the target dir with the
/// UI's Tauri CLI and compares them with the committed ones.
fn icons() -> Result<(), Failure> {
    let root = process::workspace_root();
    let tauri = root.join("ui/node_modules/.bin/tauri");
    if !tauri.is_file() {
        crate::ui::NpmProject::ui().install(true)?;
    }
    let out = process::target_dir().join("icons-check");
    let _ = std::fs::remove_dir_all(&out);
    process::output(
        Command::new(tauri)
            .current_dir(&root)
            .args(["icon", "icons/icon.svg", "--output"])
            .arg(&out),
    )?;
    let committed = root.join("icons");
    let generated = files(&out, &out)?;
    let mut differ = Vec::new();
    for relative in &generated {
        let ours = std::fs::read(committed.join(relative)).unwrap_or_default();
        let made = std::fs::read(out.join(relative)).unwrap_or_default();
        let same = if relative.ends_with(".icns") {
            icns_chunks(&ours) == icns_chunks(&made)
        } else {
            ours == made
        };
        if !same {
            differ.push(relative.clone());
        }
    }
    let mut extra: Vec<String> = files(&committed, &committed)?
        .into_iter()
        .filter(|f| f != "icon.svg" && !generated.contains(f))
        .collect();
    extra.sort();
    if !differ.is_empty() || !extra.is_empty() {
        return Err(Failure::Step(format!(
            "icons/ is not what `tauri icon icons/icon.svg -o icons` makes: differ {differ:?}, not made {extra:?}"
        )));
    }
    process::say(&format!(
        "icons: all {} (Windows .ico, macOS .icns, Linux, Android, iOS) generated from icons/icon.svg",
        generated.len()
    ));
    Ok(())
}

/// Every file under `dir`, relative to `base`, with `/` separators.
fn files(dir: &Path, base: &Path) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::Step(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, base)?);
        } else if let Ok(relative) = path.strip_prefix(base) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(out)
}

/// An `.icns` file's chunks (type and bytes), sorted: `tauri icon` writes
/// the same chunks in a different order on each run.
pub fn icns_chunks(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut chunks = Vec::new();
    let mut at = 8;
    if bytes.get(..4)? != b"icns" {
        return None;
    }
    while at < bytes.len() {
        let kind = bytes.get(at..at + 4)?.to_vec();
        let len = u32::from_be_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        if len < 8 {
            return None;
        }
        chunks.push((kind, bytes.get(at + 8..at + len)?.to_vec()));
        at += len;
    }
    chunks.sort();
    Some(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reads_cargo_tree_lines() {
        let listing = "zpair-core v0.1.0 (/work/crates/zpair-core)\nkeyring-core v1.1.0\nkeyring-core v1.1.0 (*)\n";
        assert_eq!(crate_names(listing), names(&["keyring-core", "zpair-core"]));
    }

    #[test]
    fn each_system_must_have_its_store_and_no_other() {
        let windows = &SYSTEMS[1];
        let app = names(&["tauri", "zpair-core", "nokhwa"]);
        let core = names(&["keyring-core", "windows-native-keyring-store"]);
        assert_eq!(check(windows, &core, &app), Ok(()));
        let without = names(&["keyring-core"]);
        assert!(check(windows, &without, &app).is_err_and(|e| e.contains("lacks")));
        let both = names(&[
            "windows-native-keyring-store",
            "linux-keyutils-keyring-store",
        ]);
        assert!(check(windows, &both, &app).is_err_and(|e| e.contains("another")));
        let android = &SYSTEMS[4];
        let core = names(&["android-native-keyring-store"]);
        assert!(check(android, &core, &app).is_err_and(|e| e.contains("nokhwa")));
        assert_eq!(
            check(android, &core, &names(&["tauri", "zpair-core"])),
            Ok(())
        );
    }

    #[test]
    fn icns_chunks_compare_in_any_order() {
        let file = |chunks: &[(&[u8; 4], &[u8])]| {
            let mut body = Vec::new();
            for (kind, data) in chunks {
                body.extend_from_slice(*kind);
                body.extend_from_slice(&(8 + data.len() as u32).to_be_bytes());
                body.extend_from_slice(data);
            }
            let mut out = b"icns".to_vec();
            out.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
            out.extend(body);
            out
        };
        let a = file(&[(b"ic07", b"one"), (b"ic08", b"two")]);
        let b = file(&[(b"ic08", b"two"), (b"ic07", b"one")]);
        let c = file(&[(b"ic08", b"two"), (b"ic07", b"ONE")]);
        assert!(icns_chunks(&a).is_some());
        assert_eq!(icns_chunks(&a), icns_chunks(&b));
        assert_ne!(icns_chunks(&a), icns_chunks(&c));
        assert_eq!(icns_chunks(b"nope"), None);
    }
}
