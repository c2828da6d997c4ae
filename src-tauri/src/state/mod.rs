//! The app's one managed state: which station is trusted (saved), the
//! technician's session with it (tokens in the keyring), this run's
//! pairings, and the local history.

mod secrets;
mod settings;

pub use secrets::system_secret_store;
pub use settings::{SettingsError, SettingsStore, StationSetup};

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use zpair_core::error::ErrorCode;

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;
use zpair_core::client::StationClient;
use zpair_core::secret_store::SecretStore;
use zpair_core::session::{SessionError, TechnicianSession};
use zpair_core::trust::TrustedStation;
use zpair_proto::user_facing::UserFacing;
use zpair_scanner::Scanner;

use crate::events::{self, Notifier};
use crate::ipc::{AppError, SetupState};
use crate::scan::Sightings;
use zpair_camera::CameraDesk;
use zpair_core::history::History;
use zpair_core::pairings::Pairings;

/// Why a command cannot go on with the state as it is.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// No station has been set up yet.
    #[error("No Central Station is set up yet. Open Settings and set up the station IT gave you.")]
    NoStation,
}

impl UserFacing for StateError {
    fn code(&self) -> ErrorCode {
        match self {
            StateError::NoStation => ErrorCode::StationNotSetUp,
        }
    }
}

/// Why the app could not open its state at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The platform has no data folder for the app.
    #[error("the app data folder could not be found: {0}")]
    DataDir(#[from] tauri::Error),
    /// The data folder could not be created.
    #[error("the app data folder {path} could not be created: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The settings store could not be opened.
    #[error("the settings in {path} could not be opened: {source}")]
    Settings {
        /// The store file.
        path: PathBuf,
        /// Why.
        source: tauri_plugin_store::Error,
    },
}

/// The trusted station and the session with it; replaced as a whole when the
/// technician trusts another station.
#[derive(Debug)]
struct Station {
    setup: StationSetup,
    session: Arc<TechnicianSession>,
}

/// Everything the commands share.
pub struct AppState {
    settings: Arc<dyn SettingsStore>,
    secrets: Arc<dyn SecretStore>,
    notifier: Arc<dyn Notifier>,
    /// Read for every command, written only by setup; never held across an await.
    station: RwLock<Option<Arc<Station>>>,
    pairings: Pairings,
    history: Arc<History>,
    scanner: Scanner,
    sightings: Sightings,
    camera: Arc<CameraDesk>,
    /// The station address `--station` gave, shown on the setup screen.
    suggested_station: Option<String>,
    /// Where exported files go ([`crate::ipc::export_dir`] unless a test chose).
    export_dir: Option<PathBuf>,
    /// Which system store keeps the sign-in, for Settings.
    kept_in: Option<String>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("station", &self.station)
            .field("pairings", &self.pairings)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The app's state: its data folder, the system keyring under the app's
    /// identifier, events to the app's windows.
    pub fn open<R: Runtime>(app: &AppHandle<R>) -> Result<Self, StartupError> {
        let data_dir = app.path().app_data_dir()?;
        let (secrets, kept_in) = system_secret_store(&app.config().identifier);
        let mut state = Self::open_with(app, data_dir, secrets)?;
        state.kept_in = kept_in;
        Ok(state)
    }

    /// The same with the data folder and the secret store chosen by the
    /// caller: tests use a temporary folder and memory.
    pub fn open_with<R: Runtime>(
        app: &AppHandle<R>,
        data_dir: PathBuf,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, StartupError> {
        create_private_dir(&data_dir)?;
        let path = data_dir.join(settings::FILE_NAME);
        // The store plugin reads an unreadable file as empty (the next save
        // replaces it): the app then opens without a station, to be set up again.
        let store = app
            .store(&path)
            .map_err(|source| StartupError::Settings { path, source })?;
        Ok(Self::new(
            &data_dir,
            store,
            secrets,
            Arc::new(events::WindowEvents(app.clone())),
        ))
    }

    /// The state over explicit parts, the saved station (if any) restored.
    pub fn new(
        data_dir: &Path,
        settings: Arc<dyn SettingsStore>,
        secrets: Arc<dyn SecretStore>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        let history = Arc::new(History::new(data_dir));
        let station =
            settings
                .load_setup()
                .and_then(|setup| match StationClient::new(setup.trust.clone()) {
                    Ok(client) => Some(Arc::new(Station {
                        session: Arc::new(TechnicianSession::new(client, secrets.clone())),
                        setup,
                    })),
                    Err(e) => {
                        tracing::warn!(error = %e, "saved station setup unusable; set it up again");
                        None
                    }
                });
        Self {
            pairings: Pairings::new(history.clone(), notifier.clone()),
            settings,
            secrets,
            notifier,
            station: RwLock::new(station),
            history,
            scanner: Scanner::default(),
            sightings: Sightings::default(),
            camera: CameraDesk::new(None),
            suggested_station: None,
            export_dir: crate::ipc::export_dir(),
            kept_in: None,
        }
    }

    fn station(&self) -> Option<Arc<Station>> {
        self.station
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the setup screens show.
    pub fn setup_state(&self) -> SetupState {
        let setup = self
            .station()
            .map(|station| station.setup.setup_state())
            .unwrap_or(SetupState {
                station_url: None,
                trust: None,
                suggested_station_url: None,
                sign_in_kept_in: None,
            });
        SetupState {
            suggested_station_url: self.suggested_station.clone(),
            ..self.with_store(setup)
        }
    }

    /// `setup` with where the sign-in is kept.
    fn with_store(&self, setup: SetupState) -> SetupState {
        SetupState {
            sign_in_kept_in: self.kept_in.clone(),
            ..setup
        }
    }

    /// The session with the trusted station, signed in or not.
    pub fn session(&self) -> Result<Arc<TechnicianSession>, StateError> {
        self.station()
            .map(|station| station.session.clone())
            .ok_or(StateError::NoStation)
    }

    /// The session, if a station is set up.
    pub fn current_session(&self) -> Option<Arc<TechnicianSession>> {
        self.station().map(|station| station.session.clone())
    }

    /// The session with someone signed in (restored from the keyring if
    /// this run has not signed in yet).
    pub async fn signed_in_session(&self) -> Result<Arc<TechnicianSession>, AppError> {
        let session = self.session()?;
        if session.account().await.is_some() {
            return Ok(session);
        }
        match session.restore().await {
            Ok(Some(_)) => Ok(session),
            Ok(None) => Err(SessionError::NotSignedIn.into()),
            Err(e) => Err(self.reject(e)),
        }
    }

    /// Saves `setup` and talks to that station from now on with `client`.
    /// Another station's session ends: its tokens are revoked and deleted.
    pub fn use_station(&self, trusted: TrustedStation) -> Result<SetupState, SettingsError> {
        let TrustedStation {
            trust,
            anchor,
            client,
        } = trusted;
        let setup = StationSetup {
            trust,
            fingerprint: anchor.fingerprint,
            subject: anchor.subject,
        };
        self.settings.save_setup(&setup)?;
        let shown = self.with_store(setup.setup_state());
        let url = setup.trust.url.clone();
        let station = Arc::new(Station {
            session: Arc::new(TechnicianSession::new(client, self.secrets.clone())),
            setup,
        });
        let previous = self
            .station
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .replace(station);
        if let Some(previous) = previous
            && previous.setup.trust.url != url
        {
            tracing::info!("station changed; ending the session with the previous one");
            tauri::async_runtime::spawn(async move {
                if let Err(e) = previous.session.logout().await {
                    tracing::warn!(error = %e, "previous station's session not revoked there");
                }
            });
        }
        Ok(shown)
    }

    /// This run's pairings.
    pub fn pairings(&self) -> &Pairings {
        &self.pairings
    }

    /// The local history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The QR scanner frames are decoded with (cheap to clone onto a
    /// blocking thread).
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// The same state suggesting the station `--station` named.
    #[must_use]
    pub fn with_suggested_station(mut self, url: Option<String>) -> Self {
        self.suggested_station = url;
        self
    }

    /// The same state exporting files into `dir` (tests: a temporary folder).
    #[must_use]
    pub fn with_export_dir(mut self, dir: PathBuf) -> Self {
        self.export_dir = Some(dir);
        self
    }

    /// Where exported files go, if this system has such a folder.
    pub fn export_dir(&self) -> Option<&Path> {
        self.export_dir.as_deref()
    }

    /// The same state using the camera `--camera` chose.
    #[must_use]
    pub fn with_camera(mut self, spec: Option<zpair_camera::CameraSpec>) -> Self {
        self.camera = CameraDesk::new(spec);
        self
    }

    /// The app's own camera and its session.
    pub fn camera(&self) -> &Arc<CameraDesk> {
        &self.camera
    }

    /// Monitors found by scanning and QR codes already sent.
    pub fn sightings(&self) -> &Sightings {
        &self.sightings
    }

    /// Turns any domain error into the command's rejection; a session the
    /// station refused to refresh is also announced as `session://expired`.
    pub fn reject<E: UserFacing>(&self, error: E) -> AppError {
        events::reject(self.notifier.as_ref(), error)
    }
}

fn create_private_dir(path: &Path) -> Result<(), StartupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|source| StartupError::CreateDir {
            path: path.to_owned(),
            source,
        })
}
