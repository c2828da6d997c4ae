//! The npm projects: the web UI in `ui/` (which the app embeds) and its
//! WebDriver suite in `ui/e2e/`.

use std::path::PathBuf;
use std::process::Command;

use crate::process::{self, Failure};

/// An npm project of the repository.
#[derive(Debug)]
pub struct NpmProject {
    pub dir: PathBuf,
}

impl NpmProject {
    /// The web UI, `ui/`.
    pub fn ui() -> Self {
        Self {
            dir: process::workspace_root().join("ui"),
        }
    }

    /// The real app's WebDriver suite, `ui/e2e/`.
    pub fn e2e() -> Self {
        Self {
            dir: process::workspace_root().join("ui").join("e2e"),
        }
    }

    /// `npm ARGS` in the project's folder.
    pub fn npm(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("npm");
        cmd.current_dir(&self.dir).args(args);
        cmd
    }

    /// Exact dependencies from the lock file. Install scripts are skipped
    /// where `scripts` is false: the WebDriver client's optional browser
    /// drivers would try to download binaries this project never uses.
    pub fn install(&self, scripts: bool) -> Result<(), Failure> {
        let mut ci = self.npm(&["ci", "--no-audit", "--no-fund"]);
        if !scripts {
            ci.arg("--ignore-scripts");
        }
        process::run(&mut ci)
    }

    /// Installs the UI's dependencies and builds it, as the app embeds it.
    /// With `fresh`, always from the lock file (CI); otherwise only when
    /// nothing is installed yet, so the demo starts faster the second time.
    pub fn build_ui(&self, fresh: bool) -> Result<(), Failure> {
        process::say("UI: install and build (the app embeds it)");
        if fresh || !self.dir.join("node_modules").is_dir() {
            self.install(true)?;
        }
        process::run(&mut self.npm(&["run", "build"]))
    }

    /// Type check, lint, and the Playwright suite in Debian's Chromium.
    pub fn check_and_test(&self) -> Result<(), Failure> {
        process::say("UI: type check, lint, browser tests");
        process::run(&mut self.npm(&["run", "check"]))?;
        process::run(&mut self.npm(&["run", "lint"]))?;
        process::run(&mut self.npm(&["test"]))
    }
}
