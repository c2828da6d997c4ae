//! The UI's `src/bindings/*.ts` are generated from the types of this module:
//! this test regenerates them into a temporary folder and fails when the
//! UI's copies differ, or when one is missing or left over.
//!
//! The types carry no `#[ts(export)]`: that would make every `cargo test`
//! overwrite the UI's files, and the comparison would then always pass.
//! To regenerate on purpose: `ZPAIR_WRITE_BINDINGS=1 cargo test -p zpair-app bindings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

use super::*;

/// Set to `1` to write the generated files into the UI instead of comparing.
const WRITE_VAR: &str = "ZPAIR_WRITE_BINDINGS";

/// The UI's copies in the checkout under test: found when the test runs (a
/// compiled-in path could name another checkout sharing the target folder).
fn ui_bindings_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo test sets CARGO_MANIFEST_DIR")
        .join("../ui/src/bindings")
}

/// Writes every type a command returns or an event carries, with the types
/// they use, one file each.
fn export(dir: &Path) -> Result<(), ts_rs::ExportError> {
    // Values cross the IPC boundary as JSON, where every integer is a JS
    // number: ts-rs' default `bigint` for u64 would be wrong.
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    AppError::export_all(&cfg)?;
    SetupState::export_all(&cfg)?;
    StationProbe::export_all(&cfg)?;
    Account::export_all(&cfg)?;
    CodeCheck::export_all(&cfg)?;
    Pairing::export_all(&cfg)?;
    DeviceSummary::export_all(&cfg)?;
    ConnectedStatus::export_all(&cfg)?;
    HistoryEntry::export_all(&cfg)?;
    ScanReport::export_all(&cfg)?;
    CameraChoice::export_all(&cfg)?;
    CameraStarted::export_all(&cfg)?;
    CameraEvent::export_all(&cfg)?;
    export_admin(&cfg)?;
    std::fs::write(dir.join("ErrorCatalogue.ts"), error_catalogue())?;
    Ok(())
}

/// The administrators' screens: the station's own wire types
/// (`zpair_proto::admin`, `api`), which cross the IPC boundary unchanged.
fn export_admin(cfg: &Config) -> Result<(), ts_rs::ExportError> {
    use zpair_proto::admin::{
        AccountRecord, AuditPage, AuditQuery, CertificateOverview, DevicePage, DeviceQuery,
        ImportDryRun, NewAccount, PairingReport, ReportQuery, TemporaryPassword,
    };
    use zpair_proto::api::{AuditVerification, DeviceImport, ImportReport};
    AccountRecord::export_all(cfg)?;
    NewAccount::export_all(cfg)?;
    TemporaryPassword::export_all(cfg)?;
    DeviceQuery::export_all(cfg)?;
    DevicePage::export_all(cfg)?;
    DeviceImport::export_all(cfg)?;
    ImportDryRun::export_all(cfg)?;
    ImportReport::export_all(cfg)?;
    AuditQuery::export_all(cfg)?;
    AuditPage::export_all(cfg)?;
    AuditVerification::export_all(cfg)?;
    ReportQuery::export_all(cfg)?;
    PairingReport::export_all(cfg)?;
    CertificateOverview::export_all(cfg)?;
    ExportedFile::export_all(cfg)?;
    ReportFormat::export_all(cfg)?;
    Ok(())
}

/// The error catalogue as data, for the UI tests' fake backend: each code's
/// status, next actions and message as Rust has them, so the fake cannot
/// answer with a message or an advice of its own.
fn error_catalogue() -> String {
    use zpair_core::error::ErrorCode;
    use zpair_core::pairing::Entry;

    let json = |value: serde_json::Value| value.to_string();
    let codes = ErrorCode::ALL
        .iter()
        .chain([&ErrorCode::Unrecognised])
        .map(|&code| {
            format!(
                "  {}: {{ status: {}, scanned: {}, typed: {}, message: {} }},\n",
                code.as_str(),
                json(code.http_status().into()),
                json(serde_json::json!(code.next_action(Entry::Scanned))),
                json(serde_json::json!(code.next_action(Entry::Typed))),
                json(code.message().into()),
            )
        })
        .collect::<String>();
    format!(
        "// Generated from zpair_proto::error_code by the app's bindings test. Do not edit.\n\n\
         import type {{ ErrorCode }} from './ErrorCode';\n\
         import type {{ NextAction }} from './NextAction';\n\n\
         export interface CatalogueEntry {{\n  status: number | null;\n  scanned: NextAction | null;\n  typed: NextAction | null;\n  message: string;\n}}\n\n\
         export const ERROR_CATALOGUE: Record<ErrorCode, CatalogueEntry> = {{\n{codes}}};\n"
    )
}

/// The `.ts` files of a folder, by name.
fn ts_files(dir: &Path) -> BTreeMap<String, String> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ts"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

#[test]
fn ui_bindings_match_the_rust_types() {
    let generated_dir = tempfile::tempdir().expect("temp dir");
    export(generated_dir.path()).expect("ts-rs export");
    let generated = ts_files(generated_dir.path());
    let ui_dir = ui_bindings_dir();

    if std::env::var(WRITE_VAR).as_deref() == Ok("1") {
        for (name, _) in ts_files(&ui_dir) {
            if !generated.contains_key(&name) {
                std::fs::remove_file(ui_dir.join(&name)).expect("remove a stale binding");
            }
        }
        for (name, text) in &generated {
            std::fs::write(ui_dir.join(name), text).expect("write a binding");
        }
        return;
    }

    let ui = ts_files(&ui_dir);
    let mut problems = Vec::new();
    for (name, text) in &generated {
        match ui.get(name) {
            None => problems.push(format!("{name}: missing from the UI")),
            Some(ui_text) if ui_text != text => problems.push(format!(
                "{name} differs:\n  UI:   {ui_text:?}\n  Rust: {text:?}"
            )),
            Some(_) => {}
        }
    }
    for name in ui.keys().filter(|name| !generated.contains_key(*name)) {
        problems.push(format!("{name}: in the UI but no Rust type generates it"));
    }
    assert!(
        problems.is_empty(),
        "ui/src/bindings is out of date with src-tauri/src/ipc:\n{}\n\
         If the Rust types are right, regenerate with `{WRITE_VAR}=1 cargo test -p zpair-app bindings` \
         and fix the UI where it breaks.",
        problems.join("\n")
    );
}
