//! The Tauri commands of the IPC contract (notes/ipc.md), one per entry,
//! each a few lines over zpair-core and [`crate::state::AppState`].
//! Every one rejects with [`crate::ipc::AppError`].

pub mod account;
pub mod admin;
pub mod camera;
pub mod devices;
pub mod history;
pub mod pairing;
pub mod scan;
pub mod setup;

/// Every command's IPC name, as registered in `crate::configure` and
/// permitted (`allow-<command>`) in `capabilities/main.json`.
pub const COMMANDS: &[&str] = include!("names.rs");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::COMMANDS;

    /// What the main window's capability grants.
    fn granted() -> (Vec<String>, BTreeSet<String>) {
        let text = include_str!("../../capabilities/main.json");
        let json: serde_json::Value = serde_json::from_str(text).expect("capability JSON");
        let windows = json["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .map(|w| w.as_str().expect("window label").to_owned())
            .collect();
        let permissions = json["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| p.as_str().expect("plain permission identifiers").to_owned())
            .collect();
        (windows, permissions)
    }

    #[test]
    fn the_main_window_may_call_exactly_the_app_commands_and_listen() {
        let (windows, permissions) = granted();
        assert_eq!(windows, ["main"]);
        let mut expected: BTreeSet<String> = COMMANDS
            .iter()
            .map(|command| format!("allow-{}", command.replace('_', "-")))
            .collect();
        expected.insert("core:event:allow-listen".into());
        expected.insert("core:event:allow-unlisten".into());
        assert_eq!(
            permissions, expected,
            "capabilities/main.json must allow every command in commands/names.rs and nothing else"
        );
    }

    #[test]
    fn command_names_are_unique_snake_case() {
        let unique: BTreeSet<&str> = COMMANDS.iter().copied().collect();
        assert_eq!(unique.len(), COMMANDS.len());
        for command in COMMANDS {
            assert!(
                command.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{command}"
            );
        }
    }
}
