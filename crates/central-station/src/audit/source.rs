//! Where a request came from, for the audit log: the client's socket address,
//! which the TLS accept loop attaches to every request of a connection.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address, or none when the request did not come through the
/// accept loop (a router driven directly in a test).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Source(Option<SocketAddr>);

impl Source {
    /// `ip:port`, as stored.
    pub(crate) fn address(&self) -> Option<String> {
        self.0.map(|a| a.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Source(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| *peer),
        ))
    }
}
