//! What ZPair ships, from its lock files: every Rust crate the app, the
//! Central Station, the monitor and the CLI are built from, and every npm
//! package bundled into `ui/dist`, each with its version, licence,
//! repository and the licence texts its package carries.
//!
//! - `cargo xtask notices [--check]` writes (or checks) the third-party
//!   notices the `.deb` installs and the app's licences view shows:
//!   `ui/third-party/THIRD-PARTY-NOTICES.txt` and `ui/third-party/licences.json`.
//! - `cargo xtask soup [PATH]` writes the SOUP list (CSV, default
//!   `target/soup.csv`).
//!
//! Generated here rather than with cargo-about: the inputs are all on the
//! machine already (`cargo metadata` names each crate's folder in the
//! registry cache, npm's lock file and `node_modules` each package's), so no
//! tool has to be compiled or fetched, nothing asks a network service about
//! licences, and one inventory feeds the notices, the UI's list and the SOUP
//! list alike. The texts are the files each package publishes (LICENSE*,
//! COPYING*, NOTICE*…), so the copyright lines are the authors' own; identical
//! texts are printed once. The files are committed, so `npm run build` works
//! in a fresh clone; `cargo xtask audit` fails when they no longer match the
//! lock files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::bootstrap;
use crate::json::{self, Value};
use crate::process::{self, Failure};
use crate::ui::NpmProject;

/// The workspace packages that ship, with what each is.
pub const PRODUCTS: &[(&str, &str)] = &[
    ("zpair-app", "app"),
    ("central-station", "station"),
    ("bedside-monitor", "monitor"),
    ("zpair-cli", "cli"),
];
/// The platforms ZPair is built for (`.github/workflows/release.yml`): the
/// notices name every crate any of their packages is built from, so the
/// Windows installer's copy lists the Windows crates too.
pub const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "x86_64-pc-windows-msvc",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "aarch64-apple-ios",
    "aarch64-linux-android",
    "armv7-linux-androideabi",
    "i686-linux-android",
    "x86_64-linux-android",
];
/// Packages Vite bundles into `ui/dist` although they are devDependencies
/// (the compiled components import them). `vite.config.ts` fails the build
/// when the bundle holds a package the notices do not name.
const BUNDLED_DEV_PACKAGES: &[&str] = &["svelte", "clsx"];
/// Files of a package that carry its licence, copyright or notices.
const LICENCE_FILE_PREFIXES: &[&str] = &[
    "LICENSE",
    "LICENCE",
    "COPYING",
    "COPYRIGHT",
    "NOTICE",
    "UNLICENSE",
];

/// One third-party package that ships.
#[derive(Debug, Clone)]
pub struct Component {
    pub ecosystem: &'static str,
    pub name: String,
    pub version: String,
    /// The SPDX expression the package declares.
    pub licence: String,
    pub repository: String,
    pub authors: String,
    /// Which products use it (`app`, `station`, …, `ui`).
    pub used_by: Vec<&'static str>,
    /// The package's folder, for its licence files.
    dir: PathBuf,
}

impl Component {
    /// A component with a name and version only, for tests of what is
    /// written from the inventory.
    #[cfg(test)]
    pub fn for_test(ecosystem: &'static str, name: &str, version: &str) -> Self {
        Self {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            licence: "MIT OR Apache-2.0".to_owned(),
            repository: String::new(),
            authors: String::new(),
            used_by: vec!["app"],
            dir: PathBuf::new(),
        }
    }

    /// Where the exact published source of this version is.
    pub fn source(&self) -> String {
        match self.ecosystem {
            "rust" => format!("https://crates.io/crates/{}/{}", self.name, self.version),
            _ => format!(
                "https://www.npmjs.com/package/{}/v/{}",
                self.name, self.version
            ),
        }
    }

    /// The licence files the package publishes, as (file name, text).
    fn licence_texts(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(String, String)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let upper = name.to_ascii_uppercase();
                LICENCE_FILE_PREFIXES
                    .iter()
                    .any(|p| upper.starts_with(p))
                    .then(|| {
                        let bytes = std::fs::read(e.path()).ok()?;
                        Some((name, String::from_utf8_lossy(&bytes).into_owned()))
                    })?
            })
            .collect();
        files.sort();
        files
    }
}

/// Everything that ships: Rust crates then npm packages, each sorted.
pub fn inventory(root: &Path) -> Result<Vec<Component>, Failure> {
    let mut all = rust_components(root)?;
    all.extend(npm_components(&root.join("ui"))?);
    Ok(all)
}

/// The crates the products are built from on any of [`TARGETS`] (normal
/// and build dependencies: build scripts and macros put their code in the
/// binaries).
fn rust_components(root: &Path) -> Result<Vec<Component>, Failure> {
    let mut cmd = process::cargo();
    cmd.current_dir(root)
        .args(["metadata", "--format-version", "1", "--locked"]);
    for target in TARGETS {
        cmd.args(["--filter-platform", target]);
    }
    let metadata = json::parse(&process::output(&mut cmd)?)
        .map_err(|e| Failure::Step(format!("cargo metadata: {e}")))?;
    let packages: BTreeMap<&str, &Value> = metadata
        .get("packages")
        .as_array()
        .iter()
        .filter_map(|p| Some((p.get("id").as_str()?, p)))
        .collect();
    let workspace: BTreeSet<&str> = metadata
        .get("workspace_members")
        .as_array()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let graph = DependencyGraph::new(&metadata);
    let mut used_by: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
    for (product, label) in PRODUCTS {
        let root_id = workspace
            .iter()
            .find(|id| packages[**id].get("name").as_str() == Some(product))
            .ok_or_else(|| Failure::Step(format!("no workspace package `{product}`")))?;
        for id in graph.closure(root_id) {
            if !workspace.contains(id) {
                used_by.entry(id).or_default().push(label);
            }
        }
    }
    let mut components: Vec<Component> = used_by
        .into_iter()
        .map(|(id, used_by)| {
            let p = packages[id];
            let text = |key: &str| p.get(key).as_str().unwrap_or_default().to_owned();
            let manifest = PathBuf::from(text("manifest_path"));
            Component {
                ecosystem: "rust",
                name: text("name"),
                version: text("version"),
                licence: text("license"),
                repository: text("repository"),
                authors: p
                    .get("authors")
                    .as_array()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                used_by,
                dir: manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
            }
        })
        .collect();
    components.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(components)
}

/// `cargo metadata`'s resolve graph, platform-filtered, without dev edges.
struct DependencyGraph<'a> {
    edges: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> DependencyGraph<'a> {
    fn new(metadata: &'a Value) -> Self {
        let edges = metadata
            .get("resolve")
            .get("nodes")
            .as_array()
            .iter()
            .filter_map(|node| {
                let deps = node
                    .get("deps")
                    .as_array()
                    .iter()
                    .filter(|dep| {
                        dep.get("dep_kinds")
                            .as_array()
                            .iter()
                            .any(|k| k.get("kind").as_str() != Some("dev"))
                    })
                    .filter_map(|dep| dep.get("pkg").as_str())
                    .collect();
                Some((node.get("id").as_str()?, deps))
            })
            .collect();
        Self { edges }
    }

    fn closure(&self, root: &'a str) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(self.edges.get(id).into_iter().flatten());
            }
        }
        seen
    }
}

/// The npm packages in `ui/dist`: the production dependencies in the lock
/// file and [`BUNDLED_DEV_PACKAGES`]. Repository and licence texts come
/// from `node_modules` (installed by `npm ci`).
fn npm_components(ui: &Path) -> Result<Vec<Component>, Failure> {
    // Licence texts and repositories come from the installed packages.
    if !ui.join("node_modules").is_dir() {
        bootstrap::ensure_node()?;
        NpmProject::ui().install(true)?;
    }
    let lock = read_json(&ui.join("package-lock.json"))?;
    let mut components = Vec::new();
    for (path, entry) in shipped_npm_entries(&lock) {
        let dir = ui.join(&path);
        let manifest = read_json(&dir.join("package.json"))
            .map_err(|e| Failure::Step(format!("{e} (run `npm ci` in ui/ first)")))?;
        let repository = match manifest.get("repository") {
            Value::String(url) => url.clone(),
            other => other.get("url").as_str().unwrap_or_default().to_owned(),
        };
        let author = match manifest.get("author") {
            Value::String(name) => name.clone(),
            other => other.get("name").as_str().unwrap_or_default().to_owned(),
        };
        components.push(Component {
            ecosystem: "npm",
            name: npm_name(&path).to_owned(),
            version: entry.get("version").as_str().unwrap_or_default().to_owned(),
            licence: entry.get("license").as_str().unwrap_or_default().to_owned(),
            repository: clean_repository(&repository),
            authors: author,
            used_by: vec!["app"],
            dir,
        });
    }
    components.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(components)
}

/// The lock file's entries that ship in `ui/dist`, as (path, entry).
pub fn shipped_npm_entries(lock: &Value) -> Vec<(String, &Value)> {
    let Some(packages) = lock.get("packages").as_object() else {
        return Vec::new();
    };
    packages
        .iter()
        .filter(|(path, entry)| {
            !path.is_empty()
                && (!entry.get("dev").is_true()
                    || BUNDLED_DEV_PACKAGES
                        .iter()
                        .any(|name| **path == format!("node_modules/{name}")))
        })
        .map(|(path, entry)| (path.clone(), entry))
        .collect()
}

/// `node_modules/a/node_modules/@s/b` → `@s/b`.
pub fn npm_name(path: &str) -> &str {
    path.rsplit_once("node_modules/")
        .map_or(path, |(_, name)| name)
}

fn clean_repository(url: &str) -> String {
    let url = url.strip_prefix("git+").unwrap_or(url);
    let url = url.strip_suffix(".git").unwrap_or(url);
    match url.strip_prefix("github:") {
        Some(rest) => format!("https://github.com/{rest}"),
        None => url.to_owned(),
    }
}

pub fn read_json(path: &Path) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Step(format!("cannot read {}: {e}", path.display())))?;
    json::parse(&text).map_err(|e| Failure::Step(format!("{}: {e}", path.display())))
}

/// The generated files, under `ui/third-party/`.
pub struct Notices {
    pub text: String,
    pub list: String,
}

pub const NOTICES_FILE: &str = "ui/third-party/THIRD-PARTY-NOTICES.txt";
pub const LIST_FILE: &str = "ui/third-party/licences.json";

impl Notices {
    pub fn render(components: &[Component]) -> Self {
        Self {
            text: notices_text(components),
            list: licences_json(components),
        }
    }

    /// The files that differ from what is committed, by path.
    pub fn stale(&self, root: &Path) -> Vec<&'static str> {
        [(NOTICES_FILE, &self.text), (LIST_FILE, &self.list)]
            .into_iter()
            .filter(|(path, content)| {
                std::fs::read_to_string(root.join(path)).ok().as_ref() != Some(*content)
            })
            .map(|(path, _)| path)
            .collect()
    }

    pub fn write(&self, root: &Path) -> Result<(), Failure> {
        for (path, content) in [(NOTICES_FILE, &self.text), (LIST_FILE, &self.list)] {
            write_file(&root.join(path), content)?;
        }
        Ok(())
    }
}

pub fn write_file(path: &Path, content: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Step(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, content)
        .map_err(|e| Failure::Step(format!("cannot write {}: {e}", path.display())))
}

fn notices_text(components: &[Component]) -> String {
    let rust = components.iter().filter(|c| c.ecosystem == "rust").count();
    let npm = components.len() - rust;
    let targets = TARGETS.join(", ");
    let mut out = String::new();
    let _ = write!(
        out,
        "ZPair: third-party software notices\n\
         ===================================\n\n\
         ZPair (the app, the Central Station, the bedside monitor simulator and the\n\
         zpair CLI) is licensed under Apache-2.0. It is built from {rust} Rust crates\n\
         (for any of {targets}) and {npm} npm packages, each under its own licence, listed\n\
         below with its version, licence (SPDX), where its source is, and the licence\n\
         texts its package publishes. Identical texts are printed once, at the end.\n\n\
         Generated by `cargo xtask notices` from Cargo.lock and ui/package-lock.json.\n"
    );
    let mut texts: Vec<(String, Vec<String>)> = Vec::new();
    let mut text_index: BTreeMap<String, usize> = BTreeMap::new();
    for (ecosystem, heading) in [("rust", "Rust crates"), ("npm", "npm packages")] {
        let _ = write!(out, "\n\n{heading}\n{}\n", "-".repeat(heading.len()));
        for c in components.iter().filter(|c| c.ecosystem == ecosystem) {
            let _ = write!(
                out,
                "\n{} {}\n  Licence: {}\n  Source: {}\n",
                c.name,
                c.version,
                c.licence,
                c.source()
            );
            if !c.repository.is_empty() {
                let _ = writeln!(out, "  Repository: {}", c.repository);
            }
            if !c.authors.is_empty() {
                let _ = writeln!(out, "  Authors: {}", c.authors);
            }
            let files = c.licence_texts();
            if files.is_empty() {
                let _ = writeln!(
                    out,
                    "  Licence texts: none in the published package; its licence is {} (https://spdx.org/licenses/)",
                    c.licence
                );
            }
            for (file, text) in files {
                let key = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let next = texts.len();
                let index = *text_index.entry(key).or_insert(next);
                if index == next {
                    texts.push((text, Vec::new()));
                }
                texts[index].1.push(format!("{} {}", c.name, c.version));
                let _ = writeln!(out, "  {file}: text [{}]", index + 1);
            }
        }
    }
    let _ = write!(out, "\n\nLicence texts\n-------------\n");
    for (i, (text, users)) in texts.iter().enumerate() {
        let _ = write!(
            out,
            "\n[{}] as published by {}\n\n{}\n",
            i + 1,
            users.join(", "),
            text.trim_end()
        );
    }
    out
}

fn licences_json(components: &[Component]) -> String {
    let mut out = String::from("{\n  \"target\": ");
    out.push_str(&json::quote(&TARGETS.join(", ")));
    out.push_str(",\n  \"packages\": [\n");
    let lines: Vec<String> = components
        .iter()
        .map(|c| {
            format!(
                "    {{\"ecosystem\": {}, \"name\": {}, \"version\": {}, \"licence\": {}, \"repository\": {}}}",
                json::quote(c.ecosystem),
                json::quote(&c.name),
                json::quote(&c.version),
                json::quote(&c.licence),
                json::quote(&c.repository)
            )
        })
        .collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

/// The SOUP list as CSV: one line per package.
pub fn soup_csv(components: &[Component]) -> String {
    let mut out = String::from("ecosystem,name,version,licence,repository,source,used_by\n");
    for c in components {
        let fields = [
            c.ecosystem.to_owned(),
            c.name.clone(),
            c.version.clone(),
            c.licence.clone(),
            c.repository.clone(),
            c.source(),
            c.used_by.join(" "),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// `cargo xtask notices [--check]`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            return Err(Failure::Usage(
                "usage: cargo xtask notices [--check]".into(),
            ));
        }
    };
    let root = process::workspace_root();
    let components = inventory(&root)?;
    let notices = Notices::render(&components);
    if check {
        return check_current(&notices, &root);
    }
    notices.write(&root)?;
    process::say(&format!(
        "wrote {NOTICES_FILE} and {LIST_FILE}: {}",
        counts(&components)
    ));
    Ok(())
}

/// Fails when the committed notices no longer match the lock files.
pub fn check_current(notices: &Notices, root: &Path) -> Result<(), Failure> {
    let stale = notices.stale(root);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(Failure::Step(format!(
            "{} no longer match the lock files: run `cargo xtask notices` and commit the result",
            stale.join(" and ")
        )))
    }
}

/// `cargo xtask soup [PATH]`.
pub fn soup(args: &[String]) -> Result<(), Failure> {
    let path = match args {
        [] => process::target_dir().join("soup.csv"),
        [path] if !path.starts_with('-') => PathBuf::from(path),
        _ => return Err(Failure::Usage("usage: cargo xtask soup [PATH]".into())),
    };
    let components = inventory(&process::workspace_root())?;
    write_file(&path, &soup_csv(&components))?;
    process::say(&format!(
        "wrote the SOUP list to {}: {}",
        path.display(),
        counts(&components)
    ));
    Ok(())
}

pub fn counts(components: &[Component]) -> String {
    let rust = components.iter().filter(|c| c.ecosystem == "rust").count();
    format!(
        "{rust} Rust crates, {} npm packages",
        components.len() - rust
    )
}
