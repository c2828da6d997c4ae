//! A running simulated monitor: its HTTPS listener, its provisioning timer
//! and its heartbeats, behind the [`Monitor`] handle.

mod commands;
pub(crate) mod core;
mod exchange_steps;
mod fail_safe;
mod heartbeat;
mod housekeeping;
mod mode;
mod renewal;
pub(crate) mod station_auth;

use axum::response::IntoResponse as _;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zpair_proto::device::{MonitorState, RegistrationRecord};

use self::core::Core;
use crate::identity::Identity;
use crate::paths::DataDir;
use crate::provisioning::screen::Screen;
use crate::startup::MonitorConfig;
use crate::station_configuration::AppliedConfiguration;
use crate::trusted_station::{self, Settings};
use crate::{MonitorError, patient_data, server, storage};

/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running monitor.
pub struct Monitor {
    core: Arc<Core>,
    local_addr: SocketAddr,
    server: axum_server::Handle<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("device_id", &self.core.identity.device_id)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// Starts a monitor: makes its identity on first run, resumes its
    /// persisted state, listens on `listen_ip:port` and starts its timers.
    pub async fn start(config: MonitorConfig) -> Result<Monitor, MonitorError> {
        let dir = DataDir::new(config.data_dir.clone());
        storage::ensure_data_dir(dir.root())?;
        let identity = Identity::load_or_create(&dir, &config.device_id, None)?;
        patient_data::ensure(&dir, &identity.device_id)?;
        let settings = Settings::load(&dir)?;
        let tls = server::tls::server_config(&identity, config.listen_ip)?;
        let requested = SocketAddr::new(config.listen_ip, config.port);
        let listener =
            std::net::TcpListener::bind(requested).map_err(|source| MonitorError::Bind {
                addr: requested,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| MonitorError::Bind {
            addr: requested,
            source,
        })?;
        let (shutdown, stopping) = watch::channel(false);
        let core = Arc::new(Core::resume(config, identity, &settings, stopping)?);
        if core.lock().confirming() {
            core.track_confirmation(tokio::spawn(fail_safe::confirm(core.clone())));
        }

        let handle = axum_server::Handle::new();
        // TCP_NODELAY on each accepted socket: an answer leaves as several
        // writes, and with Nagle's algorithm each after the first would wait
        // for the station's delayed acknowledgement (about 40 ms on Linux).
        let acceptor =
            RustlsAcceptor::new(RustlsConfig::from_config(tls)).acceptor(NoDelayAcceptor::new());
        let serve = axum_server::from_tcp(listener)
            .map_err(|source| MonitorError::Bind {
                addr: requested,
                source,
            })?
            .acceptor(acceptor)
            .handle(handle.clone())
            .serve(server::router(core.clone()).into_make_service());
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(error) = serve.await {
                    tracing::error!(%error, "the monitor's HTTPS server stopped");
                }
            }),
            tokio::spawn(housekeeping::run(core.clone(), shutdown.subscribe())),
            tokio::spawn(heartbeat::run(core.clone(), shutdown.subscribe())),
        ];
        tracing::info!(
            device_id = %core.identity.device_id,
            %local_addr,
            state = ?core.state(),
            "monitor started"
        );
        Ok(Monitor {
            core,
            local_addr,
            server: handle,
            shutdown,
            tasks,
        })
    }

    /// What the station's registry needs: device ID, serial, identity key,
    /// firmware and the address it listens on.
    pub fn registration_record(&self) -> RegistrationRecord {
        self.core.identity.registration_record(
            &self.core.config.firmware_version,
            Some(self.core.config.listen_ip.to_string()),
        )
    }

    /// Trusts the Central Station's provisioning key (base64url) from now on; persisted.
    pub fn trust_station(&self, station_key_b64: &str) -> Result<(), MonitorError> {
        let key = trusted_station::trust_station(&self.core.dir, station_key_b64)?;
        self.core.set_station_key(key);
        Ok(())
    }

    /// Enters provisioning mode (a new code and QR), or shows the current
    /// code again when already in it.
    pub async fn enter_provisioning_mode(&self) -> Result<Screen, MonitorError> {
        self.core.enter_provisioning_mode(OffsetDateTime::now_utc())
    }

    /// A new QR token for the same code (the 30-second refresh does this too).
    pub async fn regenerate_qr(&self) -> Result<Screen, MonitorError> {
        self.core.regenerate_qr(OffsetDateTime::now_utc())
    }

    /// Leaves provisioning mode; the code stops working.
    pub async fn cancel_provisioning(&self) -> Result<(), MonitorError> {
        self.core.cancel_provisioning()
    }

    /// What the monitor shows now; `None` when not in provisioning mode.
    pub fn screen(&self) -> Option<Screen> {
        self.core.screen()
    }

    /// The provisioning state now.
    pub fn state(&self) -> MonitorState {
        self.core.state()
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Where the monitor listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A receiver that sees every state change.
    pub fn watch_state(&self) -> watch::Receiver<MonitorState> {
        self.core.watch()
    }

    /// The committed configuration, if any.
    pub fn configuration(&self) -> Option<AppliedConfiguration> {
        self.core.configuration()
    }

    /// The message the screen shows about the last pairing (a rollback, a
    /// refused certificate), if any.
    pub fn notice(&self) -> Option<String> {
        crate::provisioning::screen::read_notice(&self.core.dir)
            .ok()
            .flatten()
    }

    /// The data directory's layout (screen files, event log, …).
    pub fn data_dir(&self) -> &DataDir {
        &self.core.dir
    }

    /// What the provisioning view shows now.
    pub fn view(&self) -> crate::provisioning::view::View {
        self.core.view()
    }

    /// Serves the provisioning view (seed 002 §9.1) as a page over plain
    /// HTTP on `127.0.0.1:port` (0 picks a free port), for as long as the
    /// monitor runs. Loopback only: it is the monitor's screen, shown to
    /// whoever sits at it. Returns where it listens.
    pub async fn serve_view(&mut self, port: u16) -> Result<SocketAddr, MonitorError> {
        let requested = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(requested)
            .await
            .map_err(|source| MonitorError::Bind {
                addr: requested,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MonitorError::Bind {
            addr: requested,
            source,
        })?;
        let core = self.core.clone();
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(move |headers: axum::http::HeaderMap| {
                let core = core.clone();
                async move {
                    // The page shows the pairing code and QR: only to a
                    // browser that asked for this loopback address, never
                    // to a page on another site rebound to 127.0.0.1.
                    if !is_own_host(&headers, addr.port()) {
                        return axum::http::StatusCode::FORBIDDEN.into_response();
                    }
                    let page =
                        crate::provisioning::view::render(&core.view(), OffsetDateTime::now_utc());
                    (
                        [(axum::http::header::CACHE_CONTROL, "no-store")],
                        axum::response::Html(page),
                    )
                        .into_response()
                }
            }),
        );
        let mut stopping = self.shutdown.subscribe();
        self.tasks.push(tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the provisioning view stopped");
            }
        }));
        tracing::info!(url = %format!("http://{addr}/"), "provisioning view");
        Ok(addr)
    }

    /// Stops listening and stops the timers; everything is already on disk.
    pub async fn shutdown(self) {
        self.shutdown.send_replace(true);
        self.server.graceful_shutdown(Some(SHUTDOWN_GRACE));
        for task in self.tasks.into_iter().chain(self.core.confirmation_task()) {
            let _ = task.await;
        }
        tracing::info!(device_id = %self.core.identity.device_id, "monitor stopped");
    }
}

/// Whether a request to the provisioning view named the view's own loopback
/// address (`127.0.0.1:PORT` or `localhost:PORT`) as its host.
fn is_own_host(headers: &axum::http::HeaderMap, port: u16) -> bool {
    headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| {
            host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}")
        })
}
