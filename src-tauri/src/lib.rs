//! ZPair, the technician's app: a thin Tauri shell over `zpair-core`.
//!
//! - [`commands`]: the IPC contract's commands, a few lines each.
//! - [`camera`]: the app's own camera on the Scan screen.
//! - [`ipc`]: the types they exchange, and the UI's TypeScript bindings.
//! - [`state`]: the one managed [`state::AppState`]: station setup, session,
//!   pairings, history.
//! - [`pairings`]: pairings followed in the background, announced as events.
//! - [`events`]: `pairing://status` and `session://expired`.
//! - [`history`]: the local log of what the technician did.
//! - [`media`]: the web view's camera, for the app's own pages only.
//! - [`rendering`]: how the web view draws, fitted to the machine's GPU.
//! - [`scan`]: QR codes read from frames, and the monitors found in them.
//! - `platforms`: every system's Tauri configuration, checked (tests only).

pub mod args;
pub mod camera;
pub mod commands;
pub mod events;
pub mod ipc;
pub mod media;
mod platforms;
pub mod rendering;
pub mod scan;
pub mod state;

use tauri::{Builder, Context, Manager, Runtime};
use tracing_subscriber::EnvFilter;

use crate::state::AppState;

/// The app's context: tauri.conf.json, the capabilities and the built UI.
/// Generic so tests can run the same context on the mock runtime.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

/// Plugins and commands, shared by [`run`] and the tests (which manage their
/// own [`AppState`] over a temporary folder and an in-memory secret store).
pub fn configure<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::new().build())
        .register_uri_scheme_protocol(camera::PREVIEW_SCHEME, |ctx, request| {
            match ctx.app_handle().try_state::<AppState>() {
                Some(state) => camera::respond(state.camera().previews(), request.uri().path()),
                None => camera::not_found(),
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::setup::get_setup,
            commands::setup::probe_station,
            commands::setup::trust_station_fingerprint,
            commands::setup::trust_station_ca,
            commands::account::get_account,
            commands::account::sign_in,
            commands::account::sign_out,
            commands::pairing::check_code,
            commands::pairing::start_pairing,
            commands::pairing::retry_pairing,
            commands::pairing::dismiss_pairing,
            commands::pairing::list_pairings,
            commands::devices::list_devices,
            commands::devices::device_status,
            commands::devices::reprovision,
            commands::history::history,
            commands::scan::scan_frame,
            commands::scan::pair_scanned,
            commands::scan::dismiss_scanned,
            commands::camera::list_cameras,
            commands::camera::start_camera,
            commands::camera::stop_camera,
            commands::admin::list_accounts,
            commands::admin::create_account,
            commands::admin::reset_password,
            commands::admin::unlock_account,
            commands::admin::disable_account,
            commands::admin::enable_account,
            commands::admin::end_account_sessions,
            commands::admin::change_password,
            commands::admin::search_devices,
            commands::admin::register_device,
            commands::admin::preview_import,
            commands::admin::commit_import,
            commands::admin::deprovision_device,
            commands::admin::readmit_device,
            commands::admin::audit_page,
            commands::admin::verify_audit,
            commands::admin::export_audit,
            commands::admin::pairing_report,
            commands::admin::export_report,
            commands::admin::certificate_overview,
        ])
}

/// Starts the app: logs to stderr, opens the state, shows the main window.
/// The command line is [`args::AppArgs`] (none on a tablet).
///
/// On desktops `main.rs` calls this; on Android and iOS the same function is
/// the library's entry point, which the Android activity and the iOS app
/// shell that `tauri android|ios build` generate load and call.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    init_logging();
    let args = match args::AppArgs::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("zpair-app: {e}");
            std::process::exit(2);
        }
    };
    let result = configure(tauri::Builder::default())
        .on_permission_request(|webview, kind| media::answer(&webview, kind))
        .setup(move |app| {
            let state = AppState::open(app.handle())?
                .with_camera(args.camera)
                .with_suggested_station(args.station);
            app.manage(state);
            if let Some(window) = app.get_webview_window("main") {
                media::enable_camera(&window)?;
                rendering::fit_to_machine(&window)?;
            }
            Ok(())
        })
        .run(context());
    if let Err(e) = result {
        tracing::error!(error = %e, "ZPair stopped");
        std::process::exit(1);
    }
}

/// `RUST_LOG` chooses what is logged (default `info`). Nothing logged
/// carries a pairing code, token or password: those stay in `Secret`s or
/// redacting `Debug` impls and are never passed to a log macro.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Only fails when a subscriber is already set, which then keeps logging.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    /// The policy ui/index.html declares for itself.
    fn index_html_csp() -> String {
        let html = include_str!("../../ui/index.html");
        let meta = html
            .split("<meta")
            .find(|tag| tag.contains("http-equiv=\"Content-Security-Policy\""))
            .expect("ui/index.html declares a CSP");
        let content = meta
            .split("content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the CSP meta tag has a content attribute");
        content.to_owned()
    }

    fn security() -> serde_json::Value {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json");
        conf["app"]["security"].clone()
    }

    #[test]
    fn the_app_enforces_the_policy_the_ui_declares() {
        assert_eq!(security()["csp"], index_html_csp());
    }

    #[test]
    fn the_dev_policy_only_adds_what_vite_dev_needs() {
        // ui/vite.config.ts: inline <style> tags and the hot-reload socket.
        let dev = index_html_csp()
            .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            .replace("connect-src ", "connect-src ws://localhost:5173 ");
        assert_eq!(security()["devCsp"], dev);
    }
}
