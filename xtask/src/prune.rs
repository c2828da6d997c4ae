//! Keeps a shared target directory from filling the disk.
//!
//! CI builds every clean clone into one `CARGO_TARGET_DIR` outside it, so
//! the dependencies stay built between runs. The workspace's own crates do
//! not: cargo names their artifacts by a hash of the package's path, so a
//! clone in a new folder builds them afresh beside every earlier clone's
//! copies, and their incremental caches grow the same way — about 3 GB a
//! run, which once filled the disk mid-build. Dep-info names their sources
//! relative to the package, so which checkout built a copy is not recorded;
//! their age is. Before building, `cargo xtask test` removes the copies
//! nothing has written for [`STALE_AFTER`], or for [`STALE_WHEN_SHORT`] when
//! the disk has less than [`ROOM_WANTED`] free. A checkout tested again
//! within that time keeps its own; one tested later rebuilds only the
//! project's crates.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::json;
use crate::process::{self, Failure};

/// How long an artifact of a workspace crate is kept without being rebuilt.
/// Dependencies are never removed: they are what keeps a warm run warm.
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 24 * 60 * 60);

/// The same when the disk is short of room: a cold build of the project's
/// crates costs minutes, a full disk costs the run.
pub const STALE_WHEN_SHORT: Duration = Duration::from_secs(3 * 60 * 60);

/// Free space a run wants before it starts: a run from cold writes about
/// 15 GB (debug, release and the fuzzers' builds).
pub const ROOM_WANTED: u64 = 20_000_000_000;

/// What a pruning freed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Freed {
    pub entries: usize,
    pub bytes: u64,
}

/// Removes stale artifacts of the project's own crates (the workspace's and
/// the fuzzers') from every profile folder under `target`: `debug`,
/// `release`, and the fuzzers' `fuzz/<triple>/release` and the like.
pub fn stale_workspace_builds(target: &Path) -> Result<Freed, Failure> {
    let short = free_bytes(target).is_some_and(|free| free < ROOM_WANTED);
    let stale_after = if short { STALE_WHEN_SHORT } else { STALE_AFTER };
    let root = process::workspace_root();
    let mut crates = crate_names(&root.join("Cargo.toml"))?;
    let fuzz = root.join("fuzz/Cargo.toml");
    if fuzz.is_file() {
        crates.extend(crate_names(&fuzz)?);
    }
    let mut freed = Freed::default();
    let now = SystemTime::now();
    for profile in profile_folders(target, 3) {
        for folder in ["deps", "incremental", ".fingerprint", "build"] {
            let folder = profile.join(folder);
            prune_folder(&folder, &crates, now, stale_after, &mut freed);
        }
    }
    Ok(freed)
}

/// The folders under `dir`, at most `depth` levels down, that cargo built a
/// profile into (they hold a `.fingerprint` folder).
fn profile_folders(dir: &Path, depth: usize) -> Vec<std::path::PathBuf> {
    if dir.join(".fingerprint").is_dir() {
        return vec![dir.to_path_buf()];
    }
    if depth == 0 {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .flat_map(|entry| profile_folders(&entry.path(), depth - 1))
        .collect()
}

/// The names cargo gives a manifest's packages and targets in artifact
/// names: `central-station` in `.fingerprint` and `build`,
/// `central_station` in `deps` and `incremental`.
fn crate_names(manifest: &Path) -> Result<BTreeSet<String>, Failure> {
    let mut cmd = process::cargo();
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--manifest-path",
    ])
    .arg(manifest);
    let metadata = json::parse(&process::output(&mut cmd)?)
        .map_err(|e| Failure::Step(format!("cargo metadata: {e}")))?;
    let mut names = BTreeSet::new();
    for package in metadata.get("packages").as_array() {
        names.extend(package.get("name").as_str().map(str::to_owned));
        for target in package.get("targets").as_array() {
            // Every package's build script has this name, the dependencies' too.
            let is_build_script = target
                .get("kind")
                .as_array()
                .iter()
                .any(|kind| kind.as_str() == Some("custom-build"));
            if let Some(name) = target.get("name").as_str().filter(|_| !is_build_script) {
                names.insert(name.to_owned());
                names.insert(name.replace('-', "_"));
            }
        }
    }
    Ok(names)
}

/// Free bytes on the file system holding `path` (`df`, which every Linux
/// has), or `None` when that cannot be told.
fn free_bytes(path: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-Pk"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let available_kb: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(available_kb * 1024)
}

fn prune_folder(
    folder: &Path,
    crates: &BTreeSet<String>,
    now: SystemTime,
    stale_after: Duration,
    freed: &mut Freed,
) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(artifact_crate) else {
            continue;
        };
        if !crates.contains(owner) {
            continue;
        }
        let path = entry.path();
        if newest_write(&path).is_some_and(|at| is_stale(at, now, stale_after)) {
            let bytes = size_of(&path);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if removed.is_ok() {
                freed.entries += 1;
                freed.bytes += bytes;
            }
        }
    }
}

/// The crate an artifact belongs to: `libcentral_station-0123456789abcdef.rlib`,
/// `central_station-0123456789abcdef.d`, the folder
/// `central-station-0123456789abcdef` and the incremental cache
/// `central_station-0kut64pvo8h5t` all give their name before the hash
/// (16 hexadecimal digits, or 13 base-36 ones for a cache); anything else
/// gives `None` and is left alone.
fn artifact_crate(file_name: &str) -> Option<&str> {
    let stem = file_name.strip_prefix("lib").unwrap_or(file_name);
    let (name, rest) = stem.rsplit_once('-')?;
    let hash = rest.split('.').next()?;
    let hex = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    let base36 = hash.len() == 13
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    (hex || base36).then_some(name)
}

fn is_stale(written: SystemTime, now: SystemTime, stale_after: Duration) -> bool {
    now.duration_since(written)
        .is_ok_and(|age| age > stale_after)
}

/// The latest modification time in `path` (a file, or a folder and what it
/// holds), so an incremental cache written to yesterday counts as in use.
fn newest_write(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let own = meta.modified().ok()?;
    if !meta.is_dir() {
        return Some(own);
    }
    let inner = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|entry| newest_write(&entry.path()))
        .max();
    Some(inner.map_or(own, |inner| inner.max(own)))
}

fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_named_by_their_crate() {
        assert_eq!(
            artifact_crate("libcentral_station-0123456789abcdef.rlib"),
            Some("central_station")
        );
        assert_eq!(
            artifact_crate(
                "central_station-fb48944059f78d4f.7423bp5mgtznnglgo8c3zwpbc.1nnwv7c.rcgu.o"
            ),
            Some("central_station")
        );
        assert_eq!(
            artifact_crate("central-station-fb48944059f78d4f"),
            Some("central-station")
        );
        assert_eq!(
            artifact_crate("central_station-0kut64pvo8h5t"),
            Some("central_station")
        );
        assert_eq!(artifact_crate("central-station"), None);
        assert_eq!(artifact_crate("libzpair_app.so"), None);
        assert_eq!(artifact_crate("zpair-app-notahash0000000"), None);
    }

    #[test]
    fn free_space_is_read_from_df() {
        let free = free_bytes(&std::env::temp_dir()).expect("df reads the temp folder");
        assert!(free > 0);
    }

    #[test]
    fn only_stale_artifacts_of_the_workspace_are_removed() {
        let target = std::env::temp_dir().join(format!("xtask-prune-{}", std::process::id()));
        let deps = target.join("debug/deps");
        std::fs::create_dir_all(&deps).unwrap();
        let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        let write = |name: &str, at: SystemTime| {
            let path = deps.join(name);
            std::fs::write(&path, b"artifact").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        };
        write("libcentral_station-0123456789abcdef.rlib", old);
        write(
            "libcentral_station-fedcba9876543210.rlib",
            SystemTime::now(),
        );
        write("libtokio-0123456789abcdef.rlib", old);
        let crates = BTreeSet::from(["central_station".to_owned()]);
        let mut freed = Freed::default();
        prune_folder(&deps, &crates, SystemTime::now(), STALE_AFTER, &mut freed);
        let left: BTreeSet<String> = std::fs::read_dir(&deps)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        std::fs::remove_dir_all(&target).unwrap();
        assert_eq!(
            freed,
            Freed {
                entries: 1,
                bytes: 8
            }
        );
        assert_eq!(
            left,
            BTreeSet::from([
                "libcentral_station-fedcba9876543210.rlib".to_owned(),
                "libtokio-0123456789abcdef.rlib".to_owned(),
            ])
        );
    }
}
