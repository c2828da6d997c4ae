//! The CLI's settings file: which station, trusted how. No secrets live
//! here (tokens are in the system keyring), but it decides whom the CLI
//! trusts, so it is written owner-only and atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zpair_core::client::StationTrust;

use zpair_core::error::ErrorCode;

use crate::failure::{Exit, Failure};

/// `$XDG_CONFIG_HOME/zpair/cli.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CliConfig {
    /// The station and its trust anchor.
    pub station: StationTrust,
}

/// Where the settings live: `$XDG_CONFIG_HOME/zpair/cli.json`, else
/// `$HOME/.config/zpair/cli.json`.
pub fn path() -> Result<PathBuf, Failure> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::StationNotSetUp,
                "Neither XDG_CONFIG_HOME nor HOME is set, so there is nowhere to keep the station settings. Set one of them.",
                Exit::TrustOrSession,
            )
        })?;
    Ok(base.join("zpair").join("cli.json"))
}

/// Reads the settings, or says to run `zpair setup`.
pub fn load() -> Result<CliConfig, Failure> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::new(
                ErrorCode::StationNotSetUp,
                "No Central Station is set up. Run `zpair setup --station URL --ca-file CA.pem` (or --fingerprint HEX, or --trust-on-first-use).",
                Exit::TrustOrSession,
            ));
        }
        Err(e) => {
            return Err(Failure::new(
                ErrorCode::StationNotSetUp,
                format!(
                    "The settings file {} could not be read ({e}). Run `zpair setup` again.",
                    path.display()
                ),
                Exit::TrustOrSession,
            ));
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::new(
            ErrorCode::StationNotSetUp,
            format!(
                "The settings file {} is damaged ({e}). Run `zpair setup` again.",
                path.display()
            ),
            Exit::TrustOrSession,
        )
    })
}

/// Writes the settings: directory 0700, file 0600, via a temporary file
/// that is synced and renamed, so a crash never leaves half a file.
pub fn save(config: &CliConfig) -> Result<PathBuf, Failure> {
    let path = path()?;
    write_private(
        &path,
        &serde_json::to_vec_pretty(config).map_err(|e| write_failure(&path, &e))?,
    )?;
    Ok(path)
}

fn write_failure(path: &Path, e: &dyn std::fmt::Display) -> Failure {
    Failure::new(
        ErrorCode::SettingsUnavailable,
        format!(
            "The settings could not be saved to {} ({e}). Check that the folder is writable.",
            path.display()
        ),
        Exit::Failed,
    )
}

/// Atomically, 0600, in a 0700 folder (see `zpair-files`).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: zpair_files::FileError| write_failure(path, &e.source);
    let dir = path.parent().ok_or_else(|| {
        write_failure(
            path,
            &std::io::Error::from(std::io::ErrorKind::InvalidInput),
        )
    })?;
    zpair_files::ensure_private_dir(dir).map_err(fail)?;
    zpair_files::write_private(path, bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_core::client::TrustAnchor;

    #[test]
    fn settings_are_written_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("zpair").join("cli.json");
        let config = CliConfig {
            station: StationTrust {
                url: "https://127.0.0.1:8443".into(),
                anchor: TrustAnchor::Fingerprint("ab".repeat(32)),
            },
        };
        write_private(&path, &serde_json::to_vec(&config).expect("json")).expect("write");
        write_private(&path, &serde_json::to_vec(&config).expect("json")).expect("overwrite");
        let back: CliConfig =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("parse");
        assert_eq!(back, config);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode =
                |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
        let leftovers = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
