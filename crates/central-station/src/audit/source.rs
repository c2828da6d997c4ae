//! Where a request came from, for the audit log: the client's socket address,
//! which the TLS accept loop attaches to every request of a connection.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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

    /// The client's IP: what sign-in attempts are counted against, besides
    /// the account. A request served in process (no address) counts as
    /// `0.0.0.0`.
    pub(crate) fn ip(&self) -> IpAddr {
        self.0.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
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
