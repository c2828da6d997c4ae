//! `cargo xtask audit` against fixtures of known-bad dependencies, against
//! ZPair itself with the shared RustSec snapshot, and without a database;
//! and the notices against the app's build.
//!
//! The fixtures (`tests/fixtures/*`) are projects of their own (a
//! `[workspace]` table each), never built: the audit reads their lock files.
//! Tests that need the shared snapshot (`../shared/advisory-db/`) say so and
//! pass without it: the project must pass its tests without `shared/`.

#[path = "../src/json.rs"]
#[allow(dead_code)]
mod json;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// xtask's folder in the checkout under test: read when the test runs (cargo
/// sets it), since a compiled-in path may name another checkout.
fn xtask_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo test sets CARGO_MANIFEST_DIR")
}

fn workspace() -> PathBuf {
    xtask_dir()
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

fn shared_snapshot() -> Option<PathBuf> {
    let bundle = workspace().join("../shared/advisory-db/advisory-db.bundle");
    if bundle.is_file() {
        Some(bundle)
    } else {
        eprintln!(
            "skipped: no shared RustSec snapshot at {} (CI has one)",
            bundle.display()
        );
        None
    }
}

/// `xtask audit ARGS` with the given database (or none, and no fallback).
fn audit(args: &[&str], database: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("audit").args(args);
    match database {
        Some(db) => cmd.env("ZPAIR_ADVISORY_DB", db),
        None => cmd
            .env_remove("ZPAIR_ADVISORY_DB")
            .env("ZPAIR_ADVISORY_DB_NO_FALLBACK", "1"),
    };
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("xtask runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    println!("{text}");
    (status.success(), text)
}

fn fixture(name: &str) -> String {
    xtask_dir()
        .join("tests/fixtures")
        .join(name)
        .join("Cargo.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_dependency_with_a_known_vulnerability_fails_naming_the_advisory() {
    let Some(db) = shared_snapshot() else { return };
    let (passed, output) = audit(&["--manifest-path", &fixture("advisory")], Some(&db));
    assert!(!passed, "smallvec 1.6.0 passed the audit");
    assert!(
        output.contains("error[vulnerability]: RUSTSEC-2021-0003 smallvec"),
        "the advisory is not named"
    );
    assert!(output.contains("1 vulnerabilities"));
}

#[test]
fn a_gpl_dependency_fails_the_licence_check() {
    let db = shared_snapshot();
    let (passed, output) = audit(&["--manifest-path", &fixture("gpl")], db.as_deref());
    assert!(!passed);
    assert!(
        output.contains("error[rejected]") && output.contains("alass-core 2.0.0"),
        "the licence is not what failed"
    );
}

#[test]
fn a_git_dependency_fails_the_sources_check() {
    // A crate in a bare repository of our own: no network git.
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-git-fixture");
    let _ = std::fs::remove_dir_all(&scratch);
    let dep = scratch.join("dep");
    std::fs::create_dir_all(dep.join("src")).unwrap();
    std::fs::write(
        dep.join("Cargo.toml"),
        "[package]\nname = \"git-dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dep.join("src/lib.rs"), "").unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let status = Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&dep, &["init", "-q"]);
    git(&dep, &["add", "."]);
    git(&dep, &["commit", "-q", "-m", "dep"]);
    git(&scratch, &["clone", "-q", "--bare", "dep", "dep.git"]);
    let project = scratch.join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"audit-fixture-git\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\ngit-dep = {{ git = \"file://{}\" }}\n\n[workspace]\n",
            scratch.join("dep.git").display()
        ),
    )
    .unwrap();
    let locked = Command::new(env!("CARGO"))
        .current_dir(&project)
        .args(["generate-lockfile", "--quiet"])
        .status()
        .unwrap();
    assert!(locked.success());

    let db = shared_snapshot();
    let manifest = project.join("Cargo.toml");
    let (passed, output) = audit(
        &["--manifest-path", &manifest.to_string_lossy()],
        db.as_deref(),
    );
    assert!(!passed);
    assert!(
        output.contains("error[source-not-allowed]") && output.contains("git-dep"),
        "the git source is not what failed"
    );
}

#[test]
fn zpair_passes_with_the_shared_snapshot() {
    let Some(db) = shared_snapshot() else { return };
    let (passed, output) = audit(&[], Some(&db));
    assert!(passed, "the audit of ZPair failed");
    assert!(output.contains("commit bf5c0d2") || output.contains("advisory database: "));
    assert!(output.contains("advisories found: 0 vulnerabilities"));
    assert!(output.contains("exceptions in force: "));
}

#[test]
fn without_a_database_the_audit_fails_and_says_why() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-advisory-db.bundle");
    let (passed, output) = audit(&["--manifest-path", &fixture("advisory")], Some(&missing));
    assert!(!passed);
    assert!(output.contains("advisories were not checked: ZPAIR_ADVISORY_DB names"));
    assert!(output.contains("which does not exist"));

    let (passed, output) = audit(&["--manifest-path", &fixture("advisory")], None);
    assert!(!passed);
    assert!(output.contains("advisories were not checked: ZPAIR_ADVISORY_DB is not set"));
    assert!(output.contains("advisories: NOT CHECKED"));
}

/// Every crate the app's build pulls in on the `.deb`'s platform (normal
/// and build dependencies, from `cargo metadata`) is named in the notices.
#[test]
fn the_notices_name_every_crate_of_the_app() {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            "x86_64-unknown-linux-gnu",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let metadata = json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let packages = metadata.get("packages").as_array();
    let name_of = |id: &str| {
        let p = packages
            .iter()
            .find(|p| p.get("id").as_str() == Some(id))
            .unwrap();
        (
            p.get("name").as_str().unwrap().to_owned(),
            p.get("version").as_str().unwrap().to_owned(),
            p.get("source").as_str().is_some(),
        )
    };
    let nodes = metadata.get("resolve").get("nodes").as_array();
    let app = packages
        .iter()
        .find(|p| p.get("name").as_str() == Some("zpair-app"))
        .and_then(|p| p.get("id").as_str())
        .unwrap();
    let mut seen = BTreeSet::new();
    let mut stack = vec![app.to_owned()];
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let node = nodes
            .iter()
            .find(|n| n.get("id").as_str() == Some(&id))
            .unwrap();
        for dep in node.get("deps").as_array() {
            let shipped = dep
                .get("dep_kinds")
                .as_array()
                .iter()
                .any(|k| k.get("kind").as_str() != Some("dev"));
            if shipped {
                stack.push(dep.get("pkg").as_str().unwrap().to_owned());
            }
        }
    }
    let notices =
        std::fs::read_to_string(workspace().join("ui/third-party/THIRD-PARTY-NOTICES.txt"))
            .unwrap();
    let listed: BTreeSet<&str> = notices
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(' '))
        .collect();
    let crates: Vec<(String, String, bool)> = seen.iter().map(|id| name_of(id)).collect();
    let third_party: Vec<_> = crates.iter().filter(|(_, _, registry)| *registry).collect();
    assert!(third_party.len() > 400, "the app's closure is too small");
    let missing: Vec<String> = third_party
        .iter()
        .map(|(name, version, _)| format!("{name} {version}"))
        .filter(|entry| !listed.contains(entry.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in the notices: {missing:?}");
}

#[test]
fn the_committed_notices_match_the_lock_files() {
    let status = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["notices", "--check"])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "run `cargo xtask notices` and commit the result"
    );
}
