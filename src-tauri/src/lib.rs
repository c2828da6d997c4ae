//! warm-up
pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| eprintln!("{e}"));
}
