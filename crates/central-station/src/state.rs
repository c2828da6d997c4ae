//! The state every handler shares: the database, the keys, the TLS
//! configuration, the event hub, the limits and the running jobs.

use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;

use crate::accounts::{PasswordCheck, Revocations};
use crate::clock;
use crate::config::StationConfig;
use crate::db::{Connection, Db, Dialect, Notification, channel};
use crate::edge::streams::StreamSlots;
use crate::error::StationError;
use crate::pairing::{EventHub, JobTasks, store};
use crate::pki::{CertificateAuthority, Crl, StationIdentity, certificates};
use crate::tls::TlsServer;
use zpair_proto::api::JobEvent;

/// Argon2 verifications allowed at once (each takes ~19 MiB).
const PARALLEL_PASSWORD_CHECKS: usize = 4;
/// Revoked certificates presented at the handshake, waiting to be raised on
/// their device's status; more at once are dropped (the next heartbeat
/// brings them again).
const REFUSED_CERTIFICATE_QUEUE: usize = 64;

/// Shared by every request; cheap to clone. Built by [`crate::Station::start`].
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: StationConfig,
    public_url: String,
    db: Db,
    identity: StationIdentity,
    tls: Arc<TlsServer>,
    crl_pem: RwLock<String>,
    /// Re-signings asked for so far, numbered: see `AppState::refresh_crl_covering`.
    crl_asked: std::sync::atomic::AtomicU64,
    /// Held while the CRL is re-signed; holds the last request number the
    /// current list covers.
    crl_update: tokio::sync::Mutex<u64>,
    hub: Arc<EventHub>,
    jobs: JobTasks,
    passwords: PasswordCheck,
    revocations: Revocations,
    exchanges: tokio::sync::Semaphore,
    streams: Arc<StreamSlots>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.0.public_url)
            .field("db", &self.0.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Signs the first CRL and builds the TLS configuration around it.
    pub(crate) async fn build(
        config: StationConfig,
        public_url: String,
        db: Db,
        identity: StationIdentity,
    ) -> Result<Self, StationError> {
        let crl = sign_crl(&db, &identity.ca).await?;
        let (refused, refusals) = tokio::sync::mpsc::channel(REFUSED_CERTIFICATE_QUEUE);
        let tls = TlsServer::new(
            identity.ca.der(),
            identity.server.certificate(),
            identity.server.key(),
            crl.der,
            refused,
        )?;
        tokio::spawn(crate::devices::record_refused_certificates(
            db.clone(),
            refusals,
        ));
        let state = Self(Arc::new(Inner {
            streams: StreamSlots::new(config.edge.max_streams_per_user),
            exchanges: tokio::sync::Semaphore::new(config.parallel_exchanges.max(1)),
            config,
            public_url,
            db,
            identity,
            tls: Arc::new(tls),
            crl_pem: RwLock::new(crl.pem),
            crl_asked: std::sync::atomic::AtomicU64::new(0),
            crl_update: tokio::sync::Mutex::new(0),
            hub: Arc::new(EventHub::default()),
            jobs: JobTasks::default(),
            passwords: PasswordCheck::new(PARALLEL_PASSWORD_CHECKS),
            revocations: Revocations::default(),
        }));
        state.listen_to_other_instances()?;
        Ok(state)
    }

    /// On PostgreSQL, what any instance on the database commits reaches
    /// this one: job steps to its live streams (the only way they reach
    /// them there, so each stream sees one order: the commits'), revoked
    /// certificates to its CRL and TLS, revoked sessions to its streams.
    fn listen_to_other_instances(&self) -> Result<(), StationError> {
        let inner = Arc::downgrade(&self.0);
        let wanted = {
            let inner = inner.clone();
            move || inner.strong_count() > 0
        };
        let runtime = tokio::runtime::Handle::current();
        self.db().listen(wanted, move |conn, batch| {
            if let Some(inner) = inner.upgrade() {
                AppState(inner).heard(conn, batch, &runtime);
            }
        })?;
        Ok(())
    }

    /// Streams a committed job step to this instance's followers. On
    /// PostgreSQL the commit's notification does that ([`Self::heard`]), for
    /// every instance alike: one path, so each stream sees the commits' order.
    pub(crate) fn stream_committed(&self, seq: i64, event: &JobEvent) {
        if self.db().dialect() == Dialect::Sqlite {
            self.hub().publish(seq, event);
        }
    }

    /// What the listener heard (on its own thread, with its own connection).
    fn heard(&self, conn: &Connection, batch: &[Notification], runtime: &tokio::runtime::Handle) {
        let on = |name: &'static str| batch.iter().filter(move |n| n.channel == name);
        for heard in on(channel::JOB_EVENTS) {
            match heard.payload.parse().map(|seq| store::event(conn, seq)) {
                Ok(Ok(Some((seq, event)))) => self.hub().publish(seq, &event),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot read a committed job step"),
                Err(_) => {
                    tracing::warn!(payload = %heard.payload, "a job step notification without its id")
                }
            }
        }
        let missed = on(channel::MISSED).next().is_some();
        if missed {
            self.hub().missed();
        }
        if missed || on(channel::CERTIFICATES).next().is_some() {
            let state = self.clone();
            runtime.spawn(async move { state.revocations_changed().await });
        }
        if missed || on(channel::SESSIONS).next().is_some() {
            self.revocations().announce();
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.0.db
    }

    pub(crate) fn config(&self) -> &StationConfig {
        &self.0.config
    }

    /// The `serverUrl` monitors are configured with.
    pub(crate) fn public_url(&self) -> &str {
        &self.0.public_url
    }

    pub(crate) fn ca(&self) -> &CertificateAuthority {
        &self.0.identity.ca
    }

    pub(crate) fn provisioning_key(&self) -> &SigningKey {
        &self.0.identity.provisioning_key
    }

    /// The provisioning key's public half, base64url.
    pub(crate) fn station_public_key(&self) -> String {
        zpair_proto::crypto::public_key_text(&self.0.identity.provisioning_key.verifying_key())
    }

    /// SHA-256 of the server certificate, lowercase hex.
    pub(crate) fn server_fingerprint(&self) -> &str {
        self.0.identity.server.fingerprint()
    }

    pub(crate) fn tls(&self) -> Arc<TlsServer> {
        self.0.tls.clone()
    }

    /// The per-user cap on live event streams.
    pub(crate) fn streams(&self) -> &Arc<StreamSlots> {
        &self.0.streams
    }

    pub(crate) fn hub(&self) -> &Arc<EventHub> {
        &self.0.hub
    }

    pub(crate) fn jobs(&self) -> &JobTasks {
        &self.0.jobs
    }

    pub(crate) fn passwords(&self) -> &PasswordCheck {
        &self.0.passwords
    }

    /// Where revocations are announced to the event streams they may end.
    pub(crate) fn revocations(&self) -> &Revocations {
        &self.0.revocations
    }

    /// Slots for jobs exchanging with monitors.
    pub(crate) fn exchanges(&self) -> &tokio::sync::Semaphore {
        &self.0.exchanges
    }

    /// The current CRL, PEM.
    pub(crate) fn crl_pem(&self) -> String {
        match self.0.crl_pem.read() {
            Ok(pem) => pem.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Numbers a request to re-sign the CRL (see
    /// [`Self::refresh_crl_covering`]).
    fn ask_for_crl(&self) -> u64 {
        self.0
            .crl_asked
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// Re-signs the CRL from the database and makes the API port enforce
    /// it, unless a signing since covered request `asked`.
    ///
    /// Requests that pile up behind one signing share the next: a burst of
    /// revocations (a ward de-provisioned, a listener catching up) costs two
    /// signings, not one each. Each request is numbered when made, after its
    /// revocation committed; a signing covers every request numbered before
    /// it read the database, so a request a later signing covers returns
    /// at once, its revocation enforced.
    async fn refresh_crl_covering(&self, asked: u64) -> Result<(), StationError> {
        // One at a time, so an older list never replaces a newer one.
        let mut covered = self.0.crl_update.lock().await;
        if *covered >= asked {
            return Ok(());
        }
        let covers = self.0.crl_asked.load(std::sync::atomic::Ordering::SeqCst);
        let crl = sign_crl(&self.0.db, self.ca()).await?;
        self.0.tls.rebuild(crl.der)?;
        match self.0.crl_pem.write() {
            Ok(mut pem) => *pem = crl.pem,
            Err(poisoned) => *poisoned.into_inner() = crl.pem,
        }
        *covered = covers;
        Ok(())
    }

    /// Called after any revocation. A failure is logged: heartbeats still
    /// check revocation in the database, so a revoked monitor stays out.
    /// The list is re-signed even if the caller is dropped meanwhile (a
    /// request whose client hung up): the revocation is committed.
    pub(crate) async fn revocations_changed(&self) {
        let state = self.clone();
        let asked = self.ask_for_crl();
        match tokio::spawn(async move { state.refresh_crl_covering(asked).await }).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not re-sign the revocation list"),
            Err(e) => tracing::error!(error = %e, "could not re-sign the revocation list"),
        }
    }
}

async fn sign_crl(db: &Db, ca: &CertificateAuthority) -> Result<Crl, StationError> {
    let now = clock::now();
    let (revoked, number) = db
        .call(move |c| {
            let tx = c.transaction()?;
            let revoked = certificates::revoked(&tx, now)?;
            let number = certificates::next_crl_number(&tx)?;
            tx.commit()?;
            Ok((revoked, number))
        })
        .await?;
    Ok(ca.crl(&revoked, number, now)?)
}

#[cfg(test)]
pub(crate) mod testing {
    use std::net::SocketAddr;
    use std::path::Path;

    use super::AppState;
    use crate::config::StationConfig;
    use crate::db::Db;

    /// A station's shared state on `dir`, without its servers: for tests of
    /// what handlers and jobs do with it.
    pub(crate) async fn state(dir: &Path, configure: impl FnOnce(&mut StationConfig)) -> AppState {
        let mut config =
            StationConfig::new(dir.to_path_buf(), SocketAddr::from(([127, 0, 0, 1], 0)));
        config.database = crate::db::testing::database(dir);
        configure(&mut config);
        let db = Db::start(dir, &config.database, &config.instance_id).expect("database");
        let identity =
            crate::pki::load_or_create(dir, Some(&["localhost".to_owned()])).expect("identity");
        AppState::build(config, "https://localhost".into(), db, identity)
            .await
            .expect("state")
    }
}

#[cfg(test)]
mod tests {
    use super::testing;

    /// The CRL number the station last signed, from the database.
    async fn crl_number(state: &super::AppState) -> i64 {
        state
            .db()
            .call(|c| {
                c.query_row(
                    "SELECT value FROM station_meta WHERE key = 'crl_number'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .expect("the CRL number")
    }

    /// Twenty revocations announced at once cost one signing: every request
    /// was made (its revocation committed) before the first signing read
    /// the database, so that list covers them all.
    #[tokio::test]
    async fn revocations_announced_together_share_one_signing() {
        let dir = tempfile::tempdir().expect("temp");
        let state = testing::state(dir.path(), |_| {}).await;
        let before = crl_number(&state).await;
        futures_util::future::join_all((0..20).map(|_| state.revocations_changed())).await;
        assert_eq!(crl_number(&state).await - before, 1);
        // One announced later is signed anew.
        state.revocations_changed().await;
        assert_eq!(crl_number(&state).await - before, 2);
    }
}
