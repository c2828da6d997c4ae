//! The station's bounds at the network edge, so no client can hold more than
//! its share: body limits per route and a deadline on reading a body
//! ([`body`]), caps on connections in total and per client address
//! ([`connections`]) and on live event streams per user ([`streams`]).
//! Whoever goes past a bound is answered at once — 413, 429 or 503 with
//! `Retry-After` — never left hanging.

pub(crate) mod body;
pub(crate) mod connections;
pub(crate) mod descriptors;
pub(crate) mod streams;

use std::time::Duration;

/// The configurable bounds; [`EdgeLimits::default`] suits a hospital station.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeLimits {
    /// Open connections in all. Each paired monitor keeps one open for its
    /// heartbeats, so this bounds how many monitors the station serves:
    /// size it for the hospital's monitors, its technicians and a margin.
    /// The station lowers it at start if its open-file limit has no room.
    pub max_connections: usize,
    /// Open connections from one client address: a single host cannot take
    /// every slot.
    pub max_connections_per_peer: usize,
    /// Live event streams (SSE) one user may hold. As many as the station
    /// runs pairings at once: a technician may follow a ward's pairings
    /// together from the CLI.
    pub max_streams_per_user: usize,
    /// A client must have sent its request headers (HTTP/1) or answered a
    /// keep-alive ping (HTTP/2) within this.
    pub header_timeout: Duration,
    /// A request body must have arrived whole within this.
    pub body_timeout: Duration,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            max_connections: 8192,
            max_connections_per_peer: 128,
            max_streams_per_user: 64,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// What a refused client is told to wait, in seconds.
pub(crate) const RETRY_AFTER_SECONDS: u64 = 5;
