//! The app on Tauri's mock runtime with the app's real context
//! (capabilities included), its state over a temporary folder and an
//! in-memory secret store: what the command tests and the scan benchmark
//! drive. Each user takes the part it needs.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{Listener, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use zpair_app::events::{PAIRING_STATUS, SESSION_EXPIRED};
use zpair_app::ipc::{Account, AppError, Pairing, SetupState};
use zpair_app::state::AppState;
use zpair_core::secret_store::{MemorySecretStore, SecretStore};
use zpair_tests::{TECHNICIAN, World};

/// Test builds run under their own identifier, so nothing they do could
/// reach a real installation's keyring entries or folders.
pub const TEST_IDENTIFIER: &str = "com.zpair.app.test";

/// One running app: its main window, its data folder and its secret store.
pub struct App {
    /// Owns the window and the managed state; dropped with the test.
    _app: tauri::App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub secrets: Arc<MemorySecretStore>,
    events: Arc<Mutex<Vec<(&'static str, Value)>>>,
}

impl App {
    /// An app over `data_dir` with `secrets` standing in for the keyring.
    pub fn start_in(data_dir: &Path, secrets: Arc<MemorySecretStore>) -> Self {
        let mut context = zpair_app::context::<MockRuntime>();
        context.config_mut().identifier = TEST_IDENTIFIER.into();
        let app = zpair_app::configure(mock_builder())
            .build(context)
            .expect("the app builds");
        let store: Arc<dyn SecretStore> = secrets.clone();
        // Exports go to the test's folder, never a real download folder.
        let state = AppState::open_with(app.handle(), data_dir.to_owned(), store)
            .expect("state opens")
            .with_export_dir(data_dir.join("exports"));
        app.manage(state);
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in [PAIRING_STATUS, SESSION_EXPIRED] {
            let events = events.clone();
            app.listen_any(name, move |event| {
                let payload = serde_json::from_str(event.payload()).expect("event payload is JSON");
                events.lock().expect("events").push((name, payload));
            });
        }
        let window = WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
            .build()
            .expect("the main window opens");
        Self {
            _app: app,
            window,
            secrets,
            events,
        }
    }

    /// Invokes `command` as the UI does; the rejection as Tauri sends it.
    pub fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("app URL"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|body| body.deserialize().expect("JSON answer"))
    }

    /// Sends a grey frame to `scan_frame` as the UI sends an image file:
    /// raw bytes, size in headers.
    pub fn scan(&self, pixels: &[u8], width: u32, height: u32) -> Result<Value, Value> {
        self.scan_with(pixels, width, height, &[])
    }

    /// Sends a grey frame to `scan_frame` with `extra` headers besides its
    /// size (a camera frame's `x-frame-index`).
    pub fn scan_with(
        &self,
        pixels: &[u8],
        width: u32,
        height: u32,
        extra: &[(&'static str, &str)],
    ) -> Result<Value, Value> {
        let mut headers = tauri::http::HeaderMap::new();
        for (name, value) in [("x-frame-width", width), ("x-frame-height", height)] {
            headers.insert(name, value.to_string().parse().expect("header value"));
        }
        for (name, value) in extra {
            headers.insert(*name, value.parse().expect("header value"));
        }
        let request = InvokeRequest {
            cmd: "scan_frame".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("app URL"),
            body: InvokeBody::Raw(pixels.to_vec()),
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|body| body.deserialize().expect("JSON answer"))
    }

    pub fn ok<T: DeserializeOwned>(&self, command: &str, args: Value) -> T {
        match self.call(command, args) {
            Ok(value) => serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{command} answered {value}: {e}")),
            Err(error) => panic!("{command} failed: {error}"),
        }
    }

    pub fn err(&self, command: &str, args: Value) -> AppError {
        match self.call(command, args) {
            Ok(value) => panic!("{command} succeeded with {value}"),
            Err(error) => serde_json::from_value(error.clone())
                .unwrap_or_else(|_| panic!("{command} rejected with a non-AppError: {error}")),
        }
    }

    /// Polls `list_pairings` until the pairing is PROVISIONED or FAILED.
    pub fn finished(&self, pairing_id: &str) -> Pairing {
        for _ in 0..400 {
            let pairings: Vec<Pairing> = self.ok("list_pairings", json!({}));
            let pairing = pairings
                .into_iter()
                .find(|p| p.pairing_id == pairing_id)
                .expect("the pairing is listed");
            if pairing.state.is_finished() {
                return pairing;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pairing {pairing_id} did not finish");
    }

    /// The `pairing://status` payloads of one pairing, in order.
    pub fn status_events(&self, pairing_id: &str) -> Vec<Pairing> {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|(name, _)| *name == PAIRING_STATUS)
            .map(|(_, payload)| {
                serde_json::from_value::<Pairing>(payload.clone()).expect("a Pairing")
            })
            .filter(|p| p.pairing_id == pairing_id)
            .collect()
    }

    pub fn expiry_events(&self) -> Vec<Value> {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|(name, _)| *name == SESSION_EXPIRED)
            .map(|(_, payload)| payload.clone())
            .collect()
    }

    pub fn trust_ca(&self, world: &World) -> SetupState {
        self.ok(
            "trust_station_ca",
            json!({"stationUrl": world.station.url(), "caPem": world.station.ca_certificate_pem()}),
        )
    }

    pub fn sign_in(&self) -> Account {
        self.sign_in_as(TECHNICIAN)
    }

    pub fn sign_in_as(&self, (username, password): (&str, &str)) -> Account {
        self.ok(
            "sign_in",
            json!({"username": username, "password": password}),
        )
    }
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tauri::async_runtime::block_on(future)
}
