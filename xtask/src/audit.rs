//! `cargo xtask audit [--manifest-path PATH]`: what ZPair ships, checked as a
//! hospital's security and compliance reviewer would, offline.
//!
//! - The Rust workspace with cargo-deny and the policy in `deny.toml`:
//!   advisories (RustSec), licences, bans (duplicates reported), sources.
//! - The npm packages that ship in `ui/dist`: their licences on the same
//!   allow-list, and the lock files' sources (the npm registry only, every
//!   package with its integrity hash).
//! - The committed notices match the lock files (`cargo xtask notices`).
//!
//! The advisory database comes from `ZPAIR_ADVISORY_DB` (a git bundle or a
//! clone), else `../shared/advisory-db/advisory-db.bundle` beside the
//! repository, else a clone of its home on GitHub (disable both fallbacks
//! with `ZPAIR_ADVISORY_DB_NO_FALLBACK=1`). It is cloned into the target dir
//! under the folder name cargo-deny derives from its default URL, and
//! cargo-deny reads it with `--offline`. With `--manifest-path`, only the
//! Rust checks run, on that project, under ZPair's policy (the tests' fixtures).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::bootstrap;
use crate::json::{self, Value};
use crate::notices::{self, Notices};
use crate::process::{self, Failure};

/// Where the RustSec database lives.
const ADVISORY_DB_URL: &str = "https://github.com/RustSec/advisory-db";
/// The folder cargo-deny 0.20 derives from [`ADVISORY_DB_URL`] under `db-path`.
const ADVISORY_DB_FOLDER: &str = "advisory-db-3157b0e258782691";
/// The branch the database is published on.
const ADVISORY_DB_BRANCH: &str = "main";
/// The snapshot shared beside the repository (CI machines have it).
const SHARED_BUNDLE: &str = "../shared/advisory-db/advisory-db.bundle";
/// The crates registry, as `sources` allows it and Cargo.lock names it.
const NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// What the audit checked.
#[derive(Debug)]
pub enum Outcome {
    /// Every check ran, advisories included.
    Checked,
    /// Everything but advisories ran and passed: no database (why).
    NoDatabase(NoDatabase),
}

/// Why no advisory database could be had.
#[derive(Debug)]
pub enum NoDatabase {
    /// `ZPAIR_ADVISORY_DB` names nothing.
    Missing(PathBuf),
    /// Neither given nor allowed to be found or fetched.
    FallbacksOff,
    /// A bundle or clone without the database's branch.
    NoBranch(PathBuf),
    /// A file or folder operation failed.
    Io(std::io::Error),
    /// A git command failed.
    Git(Failure),
    /// Not given, no shared snapshot, and fetching the live one failed.
    FetchFailed(Box<NoDatabase>),
}

impl std::fmt::Display for NoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoDatabase::Missing(path) => write!(
                f,
                "ZPAIR_ADVISORY_DB names {}, which does not exist",
                path.display()
            ),
            NoDatabase::FallbacksOff => f.write_str(
                "ZPAIR_ADVISORY_DB is not set and ZPAIR_ADVISORY_DB_NO_FALLBACK turns off the shared snapshot and the fetch",
            ),
            NoDatabase::NoBranch(path) => {
                write!(f, "{} has no branch {ADVISORY_DB_BRANCH}", path.display())
            }
            NoDatabase::Io(e) => write!(f, "{e}"),
            NoDatabase::Git(e) => write!(f, "{e}"),
            NoDatabase::FetchFailed(e) => write!(
                f,
                "ZPAIR_ADVISORY_DB is not set, {SHARED_BUNDLE} is absent, and fetching {ADVISORY_DB_URL} failed: {e}"
            ),
        }
    }
}

/// `cargo xtask audit`: every check, and no database is a failure.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let manifest = match args {
        [] => None,
        [flag, path] if flag == "--manifest-path" => Some(PathBuf::from(path)),
        _ => {
            return Err(Failure::Usage(
                "usage: cargo xtask audit [--manifest-path PATH]".into(),
            ));
        }
    };
    match gate(manifest.as_deref())? {
        Outcome::Checked => Ok(()),
        Outcome::NoDatabase(why) => {
            Err(Failure::Step(format!("advisories were not checked: {why}")))
        }
    }
}

/// Runs every check that can run; fails on any finding. Without a database
/// it runs the others and says so in its [`Outcome`].
pub fn gate(manifest: Option<&Path>) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let root = process::workspace_root();
    bootstrap::ensure_cargo_tools(&[bootstrap::CARGO_DENY])?;
    let manifest = manifest.map_or_else(|| root.join("Cargo.toml"), Path::to_path_buf);

    process::say("audit: the advisory database");
    let database = AdvisoryDb::prepare(&root);
    let db_root = match &database {
        Ok(db) => {
            println!(
                "advisory database: {} (commit {}, {})",
                db.origin, db.commit, db.date
            );
            Some(db.root.clone())
        }
        Err(why) => {
            println!("advisory database: none ({why})");
            None
        }
    };

    // cargo-deny resolves the whole graph offline, so every platform's crates
    // must be in cargo's cache.
    process::say("audit: cargo fetch (every platform's crates, so the checks run offline)");
    let mut fetch = process::cargo();
    fetch.args(["fetch", "--locked", "--quiet", "--manifest-path"]);
    process::run(fetch.arg(&manifest))?;

    let policy = root.join("deny.toml");
    let mut findings = Vec::new();
    let deny = cargo_deny(&manifest, &policy, db_root.as_deref())?;
    findings.extend(deny.failures.iter().cloned());

    let mut npm_checked = 0;
    let own_workspace = manifest == root.join("Cargo.toml");
    if own_workspace {
        process::say("audit: the UI's npm packages (licences of what ships, lock file sources)");
        let allowed = allowed_licences(&policy)?;
        let ui = root.join("ui");
        let (count, npm_findings) = npm_checks(&ui, &allowed)?;
        npm_checked = count;
        findings.extend(npm_findings);
        let components = notices::inventory(&root)?;
        if let Err(stale) = notices::check_current(&Notices::render(&components), &root) {
            findings.push(stale.to_string());
        }
    }

    println!();
    println!("audit summary");
    println!(
        "  crates checked: {} (Cargo.lock, every platform){}",
        locked_crates(&manifest)?,
        if own_workspace {
            format!("; npm packages shipped in ui/dist: {npm_checked}")
        } else {
            String::new()
        }
    );
    match &database {
        Ok(db) => println!(
            "  advisories found: {} vulnerabilities, {} unsound, {} unmaintained (database of {})",
            deny.count("vulnerability"),
            deny.count("unsound"),
            deny.count("unmaintained"),
            db.date
        ),
        Err(_) => println!("  advisories: NOT CHECKED (no database)"),
    }
    println!(
        "  exceptions in force: {} advisories ignored with their reasons in deny.toml, {} crates under MPL-2.0 by name",
        deny.count("advisory-ignored"),
        licence_exceptions(&policy)?,
    );
    for (id, reason) in &deny.ignored {
        println!("    {id}: {reason}");
    }
    println!(
        "  duplicate versions (warnings): {}",
        deny.count("duplicate")
    );
    println!("  took {:.1} s", started.elapsed().as_secs_f64());

    if !findings.is_empty() {
        return Err(Failure::Step(format!(
            "audit failed:\n  {}",
            findings.join("\n  ")
        )));
    }
    Ok(match database {
        Ok(_) => Outcome::Checked,
        Err(why) => Outcome::NoDatabase(why),
    })
}

/// A local clone of the RustSec database that cargo-deny can read offline.
#[derive(Debug)]
struct AdvisoryDb {
    /// `db-path`: the folder holding [`ADVISORY_DB_FOLDER`].
    root: PathBuf,
    origin: String,
    commit: String,
    date: String,
}

impl AdvisoryDb {
    /// Finds a database, clones it into the target dir, or says why not.
    fn prepare(workspace: &Path) -> Result<Self, NoDatabase> {
        let cache = process::target_dir().join("advisory-db");
        if let Some(source) = std::env::var_os("ZPAIR_ADVISORY_DB") {
            let source = std::path::absolute(PathBuf::from(source)).map_err(NoDatabase::Io)?;
            if !source.exists() {
                return Err(NoDatabase::Missing(source));
            }
            return Self::from_local(&source, &cache.join("local"));
        }
        let fallbacks = std::env::var_os("ZPAIR_ADVISORY_DB_NO_FALLBACK").is_none();
        let shared = workspace.join(SHARED_BUNDLE);
        if fallbacks && shared.is_file() {
            let shared = std::path::absolute(&shared).unwrap_or(shared);
            return Self::from_local(&shared, &cache.join("shared"));
        }
        if !fallbacks {
            return Err(NoDatabase::FallbacksOff);
        }
        Self::fetch(&cache.join("live")).map_err(|e| NoDatabase::FetchFailed(Box::new(e)))
    }

    /// A bundle or a clone on this machine, cloned once per commit into a
    /// folder of its own (`CACHE/<commit>/`), never replaced: parallel runs
    /// each see a whole clone.
    fn from_local(source: &Path, cache: &Path) -> Result<Self, NoDatabase> {
        let heads = git_output(
            Command::new("git")
                .arg("ls-remote")
                .arg(source)
                .arg(format!("refs/heads/{ADVISORY_DB_BRANCH}")),
        )?;
        let commit = heads
            .split_whitespace()
            .next()
            .ok_or_else(|| NoDatabase::NoBranch(source.to_path_buf()))?;
        let root = cache.join(commit);
        let clone = root.join(ADVISORY_DB_FOLDER);
        if !clone.join(".git").is_dir() {
            // Cloned beside, then moved in place in one step.
            let partial = cache.join(format!("partial-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&partial);
            git_output(
                Command::new("git")
                    .args(["clone", "-q", "--branch", ADVISORY_DB_BRANCH])
                    .arg(source)
                    .arg(&partial),
            )?;
            std::fs::create_dir_all(&root).map_err(NoDatabase::Io)?;
            if std::fs::rename(&partial, &clone).is_err() {
                // Another run put the same commit in place first.
                let _ = std::fs::remove_dir_all(&partial);
            }
        }
        Self::describe(&root, source.display().to_string())
    }

    /// A shallow clone of the live database, refreshed on every run.
    fn fetch(root: &Path) -> Result<Self, NoDatabase> {
        let clone = root.join(ADVISORY_DB_FOLDER);
        let result = if clone.join(".git").is_dir() {
            git_output(Command::new("git").arg("-C").arg(&clone).args([
                "fetch",
                "-q",
                "--depth",
                "1",
                "origin",
                ADVISORY_DB_BRANCH,
            ]))
            .and_then(|_| {
                git_output(Command::new("git").arg("-C").arg(&clone).args([
                    "reset",
                    "-q",
                    "--hard",
                    "FETCH_HEAD",
                ]))
            })
        } else {
            std::fs::create_dir_all(root).map_err(NoDatabase::Io)?;
            git_output(
                Command::new("git")
                    .args(["clone", "-q", "--depth", "1", ADVISORY_DB_URL])
                    .arg(&clone),
            )
        };
        result?;
        Self::describe(root, ADVISORY_DB_URL.to_owned())
    }

    fn describe(root: &Path, origin: String) -> Result<Self, NoDatabase> {
        let clone = root.join(ADVISORY_DB_FOLDER);
        let head = git_output(Command::new("git").arg("-C").arg(&clone).args([
            "log",
            "-1",
            "--format=%H %cs",
        ]))?;
        let (commit, date) = head.trim().split_once(' ').unwrap_or((head.trim(), "?"));
        Ok(Self {
            root: root.to_path_buf(),
            origin,
            commit: commit.to_owned(),
            date: date.to_owned(),
        })
    }
}

/// Runs a git command quietly (never prompting), its output or why it failed.
fn git_output(cmd: &mut Command) -> Result<String, NoDatabase> {
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    process::output(cmd).map_err(NoDatabase::Git)
}

/// What cargo-deny reported.
#[derive(Debug, Default)]
struct DenyReport {
    /// Diagnostic codes and how often each was seen.
    codes: BTreeMap<String, usize>,
    /// Errors, one line each.
    failures: Vec<String>,
    /// Advisories the policy ignores that the tree has, with their reasons.
    ignored: Vec<(String, String)>,
}

impl DenyReport {
    fn count(&self, code: &str) -> usize {
        self.codes.get(code).copied().unwrap_or(0)
    }
}

/// cargo-deny on `manifest` under `policy`; with a database, advisories too.
fn cargo_deny(manifest: &Path, policy: &Path, db: Option<&Path>) -> Result<DenyReport, Failure> {
    let policy_text = std::fs::read_to_string(policy)
        .map_err(|e| Failure::Step(format!("cannot read {}: {e}", policy.display())))?;
    // The database lives in the target dir: a copy of the policy names it.
    let config = process::target_dir()
        .join("advisory-db")
        .join(format!("deny-{}.toml", std::process::id()));
    let with_db = match db {
        Some(db) => policy_text.replacen(
            "[advisories]\n",
            &format!(
                "[advisories]\ndb-path = {}\n",
                json::quote(&db.to_string_lossy())
            ),
            1,
        ),
        None => policy_text.clone(),
    };
    if let Some(dir) = config.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(&config, with_db)
        .map_err(|e| Failure::Step(format!("cannot write {}: {e}", config.display())))?;

    let checks: &[&str] = match db {
        Some(_) => &["advisories", "licenses", "bans", "sources"],
        None => &["licenses", "bans", "sources"],
    };
    process::say(&format!("audit: cargo deny check {}", checks.join(" ")));
    let mut cmd = process::cargo();
    cmd.args([
        "deny",
        "--offline",
        "--locked",
        "--format",
        "json",
        "--log-level",
        "info",
    ])
    .arg("--manifest-path")
    .arg(manifest)
    .arg("--config")
    .arg(&config)
    .arg("check")
    .args(checks)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    println!("$ {}", process::describe(&cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::Step(format!("could not start cargo deny: {e}")))?;
    let mut report = DenyReport::default();
    let reasons = ignore_reasons(&policy_text);
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            report.read(&line, &reasons);
        }
    }
    let status = child
        .wait()
        .map_err(|e| Failure::Step(format!("cargo deny: {e}")))?;
    let _ = std::fs::remove_file(&config);
    if !status.success() && report.failures.is_empty() {
        report
            .failures
            .push(format!("cargo deny failed ({status}) without a finding"));
    }
    Ok(report)
}

impl DenyReport {
    /// One line of cargo-deny's JSON output: findings printed as they come.
    fn read(&mut self, line: &str, reasons: &BTreeMap<String, String>) {
        let Ok(event) = json::parse(line) else {
            // Not JSON: cargo-deny's own error, shown as it is.
            if !line.trim().is_empty() {
                eprintln!("{line}");
            }
            return;
        };
        if event.get("type").as_str() != Some("diagnostic") {
            return;
        }
        let fields = event.get("fields");
        let code = fields.get("code").as_str().unwrap_or("?").to_owned();
        let severity = fields.get("severity").as_str().unwrap_or("?");
        *self.codes.entry(code.clone()).or_default() += 1;
        let advisory = fields.get("advisory");
        let id = advisory.get("id").as_str().unwrap_or_default();
        let subject = match advisory.get("package").as_str() {
            Some(package) => format!(
                "{id} {package} ({}): {}",
                first_path(fields),
                advisory.get("title").as_str().unwrap_or_default()
            ),
            None => format!(
                "{} ({})",
                fields.get("message").as_str().unwrap_or_default(),
                first_path(fields)
            ),
        };
        match (severity, code.as_str()) {
            (_, "advisory-ignored") => {
                let ignored = fields
                    .get("labels")
                    .as_array()
                    .iter()
                    .find_map(|l| l.get("span").as_str())
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_owned();
                let reason = reasons.get(&ignored).cloned().unwrap_or_default();
                if !ignored.is_empty() && !self.ignored.iter().any(|(i, _)| *i == ignored) {
                    self.ignored.push((ignored, reason));
                }
            }
            ("error", _) => {
                println!("error[{code}]: {subject}");
                self.failures.push(format!("{code}: {subject}"));
            }
            ("warning", "duplicate") => {
                let versions: Vec<&str> = fields
                    .get("graphs")
                    .as_array()
                    .iter()
                    .filter_map(|g| g.get("Krate").get("version").as_str())
                    .collect();
                let name = fields
                    .get("graphs")
                    .as_array()
                    .first()
                    .map_or("?", |g| g.get("Krate").get("name").as_str().unwrap_or("?"));
                println!("warning[duplicate]: {name} {}", versions.join(", "));
            }
            ("warning", _) => println!("warning[{code}]: {subject}"),
            _ => {}
        }
    }
}

/// `crate version ← parent ← … ← root` along the first path of a diagnostic's graph.
fn first_path(fields: &Value) -> String {
    let mut names = Vec::new();
    let mut node = fields.get("graphs").as_array().first();
    while let Some(n) = node {
        let krate = n.get("Krate");
        names.push(format!(
            "{} {}",
            krate.get("name").as_str().unwrap_or("?"),
            krate.get("version").as_str().unwrap_or("?")
        ));
        node = n.get("parents").as_array().first();
    }
    names.join(" <- ")
}

/// `id = "…", reason = "…"` pairs of deny.toml's `ignore` list.
fn ignore_reasons(policy: &str) -> BTreeMap<String, String> {
    policy
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let id = quoted_after(line, "id = ")?;
            let reason = quoted_after(line, "reason = ")?;
            Some((id, reason))
        })
        .collect()
}

fn quoted_after(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// The `[licenses] allow` list of deny.toml, which the npm side shares.
fn allowed_licences(policy: &Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(policy)
        .map_err(|e| Failure::Step(format!("cannot read {}: {e}", policy.display())))?;
    let section = text
        .split("\n[licenses]")
        .nth(1)
        .and_then(|s| s.split("allow = [").nth(1))
        .and_then(|s| s.split(']').next())
        .ok_or_else(|| Failure::Step("deny.toml has no [licenses] allow list".into()))?;
    Ok(section
        .lines()
        .filter_map(|l| quoted_after(l.trim(), ""))
        .collect())
}

/// How many `[[licenses.exceptions]]` deny.toml grants.
fn licence_exceptions(policy: &Path) -> Result<usize, Failure> {
    let text = std::fs::read_to_string(policy)
        .map_err(|e| Failure::Step(format!("cannot read {}: {e}", policy.display())))?;
    Ok(text.matches("[[licenses.exceptions]]").count())
}

/// The third-party crates in the lock file next to `manifest`.
fn locked_crates(manifest: &Path) -> Result<usize, Failure> {
    let lock = manifest.with_file_name("Cargo.lock");
    let text = std::fs::read_to_string(&lock)
        .map_err(|e| Failure::Step(format!("cannot read {}: {e}", lock.display())))?;
    Ok(text
        .split("[[package]]")
        .filter(|p| p.contains("\nsource = "))
        .count())
}

/// The npm side: licences of what ships in `ui/dist` (from the lock file,
/// cross-checked with the installed `package.json` when present), and the
/// sources of every package in the UI's lock files. Returns how many shipped
/// packages were checked and what failed.
fn npm_checks(ui: &Path, allowed: &[String]) -> Result<(usize, Vec<String>), Failure> {
    let mut findings = Vec::new();
    let lock = notices::read_json(&ui.join("package-lock.json"))?;
    let shipped = notices::shipped_npm_entries(&lock);
    for (path, entry) in &shipped {
        let name = notices::npm_name(path);
        let licence = entry.get("license").as_str().unwrap_or_default();
        if !spdx_allowed(licence, allowed) {
            findings.push(format!(
                "npm licence: {name} {} is under `{licence}`, not on deny.toml's allow-list",
                entry.get("version").as_str().unwrap_or_default()
            ));
        }
        if let Ok(manifest) = notices::read_json(&ui.join(path).join("package.json"))
            && manifest.get("license").as_str() != Some(licence)
        {
            findings.push(format!(
                "npm licence: {name}'s package.json says {:?}, the lock file `{licence}`",
                manifest.get("license")
            ));
        }
    }
    for lock_file in [
        ui.join("package-lock.json"),
        ui.join("e2e/package-lock.json"),
    ] {
        if lock_file.is_file() {
            findings.extend(npm_sources(&lock_file)?);
        }
    }
    for npmrc in [ui.join(".npmrc"), ui.join("e2e/.npmrc")] {
        let text = std::fs::read_to_string(&npmrc).unwrap_or_default();
        if text.lines().any(|l| l.trim_start().starts_with("registry")) {
            findings.push(format!(
                "npm sources: {} names a registry; packages come from {NPM_REGISTRY} only",
                npmrc.display()
            ));
        }
    }
    Ok((shipped.len(), findings))
}

/// Every package of a lock file from the npm registry, with its integrity
/// hash. npm leaves `resolved` out when it is the registry's own URL
/// (`omit-lockfile-registry-resolved`); where present it must be that registry.
fn npm_sources(lock_file: &Path) -> Result<Vec<String>, Failure> {
    let lock = notices::read_json(lock_file)?;
    let mut findings = Vec::new();
    let Some(packages) = lock.get("packages").as_object() else {
        return Ok(vec![format!("{}: no packages", lock_file.display())]);
    };
    for (path, entry) in packages.iter().filter(|(path, _)| !path.is_empty()) {
        let name = notices::npm_name(path);
        let problem = if entry.get("link").is_true() {
            Some("a link to a local folder".to_owned())
        } else if let Some(resolved) = entry.get("resolved").as_str()
            && !resolved.starts_with(NPM_REGISTRY)
        {
            Some(format!("resolved from {resolved}"))
        } else if entry.get("integrity").as_str().is_none() {
            Some("no integrity hash".to_owned())
        } else if let Some(version) = entry.get("version").as_str()
            && version.contains(':')
        {
            Some(format!("version `{version}` is not from the registry"))
        } else {
            None
        };
        if let Some(problem) = problem {
            findings.push(format!(
                "npm sources: {name} in {}: {problem}",
                lock_file.display()
            ));
        }
    }
    Ok(findings)
}

/// Whether an SPDX expression is satisfied by `allowed` (OR: any side, AND:
/// both; `X WITH Y` must be allowed as a whole). A malformed one is not.
pub fn spdx_allowed(expression: &str, allowed: &[String]) -> bool {
    let spaced = expression.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut at = 0;
    spdx_or(&tokens, &mut at, allowed).is_some_and(|ok| ok && at == tokens.len())
}

fn spdx_or(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let mut any = spdx_and(tokens, at, allowed)?;
    while tokens.get(*at) == Some(&"OR") {
        *at += 1;
        any |= spdx_and(tokens, at, allowed)?;
    }
    Some(any)
}

fn spdx_and(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let mut all = spdx_term(tokens, at, allowed)?;
    while tokens.get(*at) == Some(&"AND") {
        *at += 1;
        all &= spdx_term(tokens, at, allowed)?;
    }
    Some(all)
}

fn spdx_term(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let token = *tokens.get(*at)?;
    *at += 1;
    if token == "(" {
        let inner = spdx_or(tokens, at, allowed)?;
        (tokens.get(*at) == Some(&")")).then(|| *at += 1)?;
        return Some(inner);
    }
    if matches!(token, ")" | "AND" | "OR" | "WITH") {
        return None;
    }
    let mut licence = token.to_owned();
    if tokens.get(*at) == Some(&"WITH") {
        licence = format!("{licence} WITH {}", tokens.get(*at + 1)?);
        *at += 2;
    }
    Some(allowed.contains(&licence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_expressions() {
        let allowed: Vec<String> = ["MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception"]
            .map(String::from)
            .to_vec();
        assert!(spdx_allowed("MIT", &allowed));
        assert!(spdx_allowed("(MIT OR GPL-3.0-only)", &allowed));
        assert!(spdx_allowed(
            "Apache-2.0 WITH LLVM-exception OR GPL-3.0-only",
            &allowed
        ));
        assert!(!spdx_allowed("MIT AND GPL-3.0-only", &allowed));
        assert!(!spdx_allowed("GPL-3.0-only", &allowed));
        assert!(!spdx_allowed("", &allowed));
        assert!(!spdx_allowed("MIT OR", &allowed));
    }

    #[test]
    fn reads_the_policy() {
        let policy =
            "[advisories]\nignore = [\n  { id = \"RUSTSEC-1\", reason = \"because\" },\n]\n";
        assert_eq!(ignore_reasons(policy)["RUSTSEC-1"], "because");
    }
}
