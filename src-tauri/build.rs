//! Tauri's build step, with one `allow-<command>` permission generated per
//! app command, so capabilities/main.json can grant the main window exactly
//! the contract's commands.

/// The contract's commands; the same list `zpair_app::commands::COMMANDS` reads.
const COMMANDS: &[&str] = include!("src/commands/names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/commands/names.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports by failing; the message says what to fix.
        panic!("tauri-build failed: {e:#}");
    }
}
