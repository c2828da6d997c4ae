//! Running commands visibly: every step says what it runs before it runs it.

use std::fmt;
use std::process::{Command, ExitCode};

/// Why an xtask command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The command line was wrong.
    Usage(String),
    /// A step failed; the message says which and what to do.
    Step(String),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Step(_) => ExitCode::FAILURE,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Step(m) => f.write_str(m),
        }
    }
}

/// `cargo`, as the one that runs xtask (so rustup's toolchain choice holds).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prints the command, runs it with inherited output, fails if it fails.
pub fn run(cmd: &mut Command) -> Result<(), Failure> {
    say(&format!("$ {}", describe(cmd)));
    let status = cmd
        .status()
        .map_err(|e| Failure::Step(format!("could not start `{}`: {e}", describe(cmd))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Step(format!(
            "`{}` failed ({status})",
            describe(cmd)
        )))
    }
}

/// Runs a command quietly and returns its standard output.
pub fn output(cmd: &mut Command) -> Result<String, Failure> {
    let out = cmd
        .output()
        .map_err(|e| Failure::Step(format!("could not start `{}`: {e}", describe(cmd))))?;
    if !out.status.success() {
        return Err(Failure::Step(format!(
            "`{}` failed ({}): {}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A progress line from xtask itself, set apart from the tools' output.
pub fn say(line: &str) {
    eprintln!("\x1b[1m==> {line}\x1b[0m");
}

/// The command as a person would type it.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `program ARGS… cmd…`: runs `cmd` under a wrapper such as `keyctl
/// session -` or `xvfb-run`, with `cmd`'s environment and folder.
pub fn wrapped(program: &str, args: &[&str], cmd: &Command) -> Command {
    let mut wrapped = Command::new(program);
    wrapped
        .args(args)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => wrapped.env(key, v),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// Points `cmd`'s settings, data and cache (`XDG_*`) at folders under
/// `home`, creating them, so it never reads or writes a real profile.
pub fn with_home(cmd: &mut Command, home: &std::path::Path) -> Result<(), Failure> {
    for (var, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ] {
        let dir = home.join(sub);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))?;
        cmd.env(var, dir);
    }
    Ok(())
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The workspace xtask acts on, found when it runs — never where it was
/// compiled: one target directory serves several checkouts, and cargo counts
/// the xtask built in one as fresh in another, so a compiled-in path would
/// make `cargo xtask` in checkout B format, lint and test checkout A.
///
/// `cargo xtask` is `cargo run -p xtask`, which sets `CARGO_MANIFEST_DIR` to
/// xtask's folder in the checkout it was run in; run any other way, it is the
/// nearest folder up from the current one whose `Cargo.toml` has a
/// `[workspace]`.
pub fn workspace_root() -> std::path::PathBuf {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .and_then(|xtask| xtask.parent().map(std::path::Path::to_path_buf));
    let cwd = std::env::current_dir().unwrap_or_default();
    from_cargo
        .or_else(|| {
            cwd.ancestors()
                .find(|dir| declares_workspace(dir))
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or(cwd)
}

fn declares_workspace(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
}

/// Says which checkout this command acts on (so a log shows what was
/// tested), or fails when that is not a ZPair checkout.
pub fn announce_workspace() -> Result<(), Failure> {
    let root = workspace_root();
    if !root.join("xtask").join("Cargo.toml").is_file() {
        return Err(Failure::Usage(format!(
            "{} is not a ZPair checkout: run `cargo xtask` inside one",
            root.display()
        )));
    }
    say(&format!("workspace {}", root.display()));
    Ok(())
}
