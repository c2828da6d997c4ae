//! A running station: opens (and migrates) the database, makes the CA and
//! keys on first run, fails the jobs a crash left behind, binds and serves.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::StationConfig;
use crate::db::Db;
use crate::edge;
use crate::error::StationError;
use crate::pairing::lease;
use crate::pairing::store::{self, Orphaned};
use crate::state::AppState;
use crate::{clock, pki, routes, tls};

/// How often the CRL is re-signed even when nothing was revoked (it is
/// announced as current for a week).
const CRL_REFRESH: Duration = Duration::from_secs(24 * 60 * 60);

/// A station serving HTTPS.
#[derive(Debug)]
pub struct Station {
    state: AppState,
    local_addr: SocketAddr,
    url: String,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    maintenance: JoinHandle<()>,
}

/// The host of an `https://` URL, for the server certificate.
fn url_host(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if parsed.scheme() != "https" {
        return None;
    }
    let host = parsed.host_str()?;
    // IPv6 hosts come bracketed.
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
}

/// The names the server certificate must cover.
fn server_names(config: &StationConfig) -> Result<Vec<String>, StationError> {
    let mut names: Vec<String> = pki::DEFAULT_SERVER_NAMES
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    if !config.listen.ip().is_unspecified() {
        names.push(config.listen.ip().to_string());
    }
    names.extend(config.hostnames.iter().cloned());
    if let Some(url) = &config.public_url {
        names.push(url_host(url).ok_or_else(|| StationError::PublicUrl(url.clone()))?);
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The address a local client reaches a bound socket at.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

impl Station {
    /// Starts a station on `config`.
    pub async fn start(config: StationConfig) -> Result<Station, StationError> {
        if !crate::config::is_instance_id(&config.instance_id) {
            return Err(StationError::Startup(format!(
                "instance id {:?}: use 1 to 64 letters, digits, '.', '_' or '-'",
                config.instance_id
            )));
        }
        let names = server_names(&config)?;
        let dir = config.data_dir.clone();
        let (database, instance_id) = (config.database.clone(), config.instance_id.clone());
        let (db, identity) = tokio::task::spawn_blocking(move || {
            let db = Db::start(&dir, &database, &instance_id)?;
            let identity = pki::load_or_create(&dir, Some(&names))?;
            Ok::<_, StationError>((db, identity))
        })
        .await
        .map_err(|e| StationError::Startup(e.to_string()))??;

        let owner = config.instance_id.clone();
        let recovered = db
            .call(move |c| store::recover(c, clock::now(), &owner, Orphaned::MineToo))
            .await?;
        if recovered.interrupted > 0 {
            tracing::warn!(
                interrupted = recovered.interrupted,
                "pairing jobs left running by the last run were marked failed"
            );
        }

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StationError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StationError::Bind {
            addr: config.listen,
            source,
        })?;
        let url = format!("https://{}", reachable(local_addr));
        let public_url = config.public_url.clone().unwrap_or_else(|| url.clone());

        // Room for the connection cap under the open-file limit, raised first.
        let edge = edge::descriptors::fit(config.edge, edge::descriptors::raise_open_file_limit());
        let state = AppState::build(config, public_url, db, identity).await?;
        lease::adopt(&state, recovered.confirming);
        let (shutdown, stop) = watch::channel(false);
        let server = tokio::spawn(tls::serve(
            listener,
            state.tls(),
            routes::app(state.clone()),
            edge,
            stop,
        ));
        let maintenance = tokio::spawn({
            let state = state.clone();
            async move {
                let crl = async {
                    loop {
                        tokio::time::sleep(CRL_REFRESH).await;
                        state.revocations_changed().await;
                    }
                };
                tokio::join!(crl, lease::keep(state.clone()));
            }
        });
        tracing::info!(
            %url,
            public_url = %state.public_url(),
            fingerprint = %state.server_fingerprint(),
            "central station listening"
        );
        Ok(Station {
            state,
            local_addr,
            url,
            shutdown,
            server,
            maintenance,
        })
    }

    /// What its handlers share.
    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }

    /// `https://127.0.0.1:PORT` (the bound address).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The hospital CA, PEM: what clients and monitors trust.
    pub fn ca_certificate_pem(&self) -> String {
        self.state.ca().pem().to_owned()
    }

    /// SHA-256 of the server certificate's DER, lowercase hex.
    pub fn server_certificate_fingerprint(&self) -> String {
        self.state.server_fingerprint().to_owned()
    }

    /// The Ed25519 provisioning key, base64url: what monitors trust configurations from.
    pub fn station_public_key(&self) -> String {
        self.state.station_public_key()
    }

    /// Passwords hashed and compared since start (wrong, right and decoy
    /// alike): what bursts of guesses actually got checked.
    pub fn password_checks(&self) -> u64 {
        self.state.passwords().checked()
    }

    /// Where the station keeps its records.
    pub fn database(&self) -> &crate::db::Database {
        self.state.db().database()
    }

    /// Stops taking pair requests (they answer 503 `station_busy`, as does
    /// `/healthz`) and waits until the running jobs have ended or `grace`
    /// has passed; everything else is still served meanwhile, so their
    /// event streams reach the technicians. Jobs still running past `grace`
    /// are stopped (the next start reports them `interrupted`). Returns how
    /// many were. Follow with [`Station::shutdown`].
    pub async fn drain(&self, grace: Duration) -> usize {
        let stopped = self.state.jobs().drain(grace).await;
        tracing::info!(stopped, "central station drained");
        stopped
    }

    /// Stops accepting, stops running jobs (the next start reports them
    /// `interrupted`), and gives open connections a moment to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.state.jobs().abort_all();
        self.maintenance.abort();
        let _ = self.server.await;
        // The name is free for the instance that replaces this one.
        let db = self.state.db().clone();
        let _ = tokio::task::spawn_blocking(move || db.release_name()).await;
        tracing::info!("central station stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_covers_the_public_url_host_and_configured_names() {
        let mut config = StationConfig::new(
            std::path::PathBuf::from("/tmp/x"),
            SocketAddr::from(([10, 0, 0, 5], 8443)),
        );
        config.hostnames = vec!["station.ward".into()];
        config.public_url = Some("https://monitoring.hospital.example:8443".into());
        let names = server_names(&config).expect("names");
        for name in [
            "localhost",
            "127.0.0.1",
            "10.0.0.5",
            "station.ward",
            "monitoring.hospital.example",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        config.public_url = Some("http://plain.example".into());
        assert!(matches!(
            server_names(&config),
            Err(StationError::PublicUrl(_))
        ));
    }

    #[test]
    fn unspecified_listen_addresses_are_reached_on_loopback() {
        let addr = reachable(SocketAddr::from(([0, 0, 0, 0], 8443)));
        assert_eq!(addr.to_string(), "127.0.0.1:8443");
    }
}
