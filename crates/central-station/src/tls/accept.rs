//! The hand-written accept loop: TLS with tokio-rustls, HTTP/1.1 or HTTP/2
//! with hyper-util, the axum router as the service. Written by hand (instead
//! of `axum::serve`) so each connection can take the current `ServerConfig`
//! and so its client certificate can ride along in request extensions.
//!
//! Bounded (see [`crate::edge`]): connections past the caps are answered 503
//! on an overflow lane or closed; a client gets a fixed time for its TLS
//! handshake and its request headers (HTTP/1) or to answer pings (HTTP/2).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::{ClientIdentity, TlsServer};
use crate::edge::EdgeLimits;
use crate::edge::connections::{Admission, ConnectionLimits, ConnectionPermit};
use crate::http::HttpError;

/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests one HTTP/2 connection may carry at once.
const HTTP2_STREAMS: u32 = 64;
/// Largest request head: a few headers and a bearer token.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// How long open connections get to finish after shutdown is asked.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves once shutdown is asked (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

/// Serves until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<TlsServer>,
    router: Router,
    limits: EdgeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = ConnectionLimits::new(limits);
    let busy = Router::new().fallback(|| async { HttpError::Overloaded });
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let (router, permit) = match connections.admit(peer.ip()) {
                        Admission::Served(permit) => (router.clone(), permit),
                        Admission::Overloaded(permit) => {
                            tracing::debug!(%peer, "connection cap reached: answering 503");
                            (busy.clone(), permit)
                        }
                        Admission::Dropped => {
                            tracing::debug!(%peer, "connection cap reached: closed");
                            continue;
                        }
                    };
                    let acceptor = TlsAcceptor::from(tls.current());
                    let served = Served { peer, acceptor, router, limits, _permit: permit };
                    tokio::spawn(connection(stream, served, shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// What one accepted connection is served with.
struct Served {
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    limits: EdgeLimits,
    /// Its slot under the connection caps, freed when it closes.
    _permit: ConnectionPermit,
}

async fn connection(stream: TcpStream, served: Served, mut shutdown: watch::Receiver<bool>) {
    let Served {
        peer,
        acceptor,
        router,
        limits,
        _permit,
    } = served;
    // An answer leaves as several writes (TLS records, an HTTP head and
    // body). With Nagle's algorithm each write after the first waits for
    // the client's delayed acknowledgement, about 40 ms on Linux.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "TCP_NODELAY could not be set");
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let identity = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(ClientIdentity::from_certificate);
    if let Some(id) = &identity {
        tracing::debug!(%peer, device_id = %id.device_id, "client certificate accepted");
    }
    let dispatched = Arc::new(AtomicBool::new(false));
    let first = dispatched.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        first.store(true, Ordering::Relaxed);
        // The audit log and the sign-in limits see where each request came from.
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(id) = &identity {
            request.extensions_mut().insert(id.clone());
        }
        router.clone().oneshot(request)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout)
        .max_concurrent_streams(HTTP2_STREAMS)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    tokio::pin!(conn);
    // HTTP/1 has its own header timeout; this one also bounds an HTTP/2
    // client that never completes the headers of its first request.
    let first_request = tokio::time::sleep(limits.header_timeout);
    tokio::pin!(first_request);
    let mut awaiting_first = true;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = &mut first_request, if awaiting_first => {
                if !dispatched.load(Ordering::Relaxed) {
                    tracing::debug!(%peer, "no complete request within the header timeout: closed");
                    return;
                }
                awaiting_first = false;
            }
            _ = stopped(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
                return;
            }
        }
    }
}
