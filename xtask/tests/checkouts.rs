//! Two checkouts of one commit sharing one target folder, as CI's clones do:
//! `cargo xtask` in the second must act on the second.
//!
//! Both copies are made before either builds, so the second's sources are
//! older than the xtask the first builds and cargo counts that build fresh
//! there. A workspace path compiled into xtask would then name the first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The checkout under test, found at run time like xtask's own.
fn workspace() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|xtask| xtask.parent().map(Path::to_path_buf))
        .expect("cargo test sets CARGO_MANIFEST_DIR")
}

/// Copies the files git would check out (tracked, and new ones not ignored)
/// from `from` into `to`.
fn copy_checkout(from: &Path, to: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(from)
        .output()
        .expect("git lists the checkout's files");
    assert!(listed.status.success(), "git ls-files failed");
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let relative = Path::new(std::str::from_utf8(name).expect("UTF-8 file names"));
        let source = from.join(relative);
        if !source.is_file() {
            continue; // deleted in the work tree, still in the index
        }
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a file has a folder"))
            .expect("create folder");
        std::fs::copy(&source, &target).expect("copy file");
    }
}

/// `cargo xtask help` in `checkout`, built into `target`: what it printed.
fn xtask_help(checkout: &Path, target: &Path) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["xtask", "help"])
        .current_dir(checkout)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "cargo xtask help failed:\n{text}");
    text
}

#[test]
fn xtask_acts_on_the_checkout_it_runs_in() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("two-checkouts");
    let _ = std::fs::remove_dir_all(&scratch);
    let (first, second, target) = (
        scratch.join("first"),
        scratch.join("second"),
        scratch.join("target"),
    );
    copy_checkout(&workspace(), &first);
    copy_checkout(&workspace(), &second);

    let said = xtask_help(&first, &target);
    assert!(
        said.contains(&format!("workspace {}", first.display())),
        "{said}"
    );
    let said = xtask_help(&second, &target);
    assert!(
        said.contains(&format!("workspace {}", second.display())),
        "xtask in the second checkout must name it:\n{said}"
    );
    assert!(!said.contains(&first.display().to_string()), "{said}");
}
