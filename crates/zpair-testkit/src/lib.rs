//! What ZPair's tests share across crates (a dev-dependency only).

#[cfg(unix)]
pub mod postgres;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often [`eventually`] checks.
const POLL: Duration = Duration::from_millis(100);
/// How long [`eventually`] waits before failing the test: far beyond any
/// healthy wait, so it only fires on a real hang.
const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `check` until it holds; panics naming `what` after 20 s. A check
/// that needs no `.await` is written `|| std::future::ready(condition)`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A test server on loopback over real TLS; stops when dropped.
#[derive(Debug)]
pub struct TlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
}

impl TlsServer {
    /// Serves `app` with `tls` on a free loopback port (call inside a Tokio
    /// runtime).
    pub fn start(app: axum::Router, tls: rustls::ServerConfig) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let addr = listener.local_addr().expect("its address");
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(
            listener,
            axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls)),
        )
        .expect("a TLS server")
        .handle(handle.clone());
        tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        Self { addr, handle }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}
