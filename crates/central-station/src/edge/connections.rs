//! Caps on open connections: in all, and per client address so that one
//! host opening connections in a loop cannot lock other users out. A
//! connection past a cap gets a short answer (503 with `Retry-After`) on a
//! small overflow lane; past that too, it is closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::EdgeLimits;

/// Connections being told "503, retry later" at once; more are just closed.
const OVERFLOW_LANE: usize = 32;

/// Where an accepted connection may go.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Served; the slot is freed when the permit drops.
    Served(ConnectionPermit),
    /// Over a cap: answered 503 with `Retry-After` and closed.
    Overloaded(ConnectionPermit),
    /// Over a cap and the overflow lane is full: closed unanswered.
    Dropped,
}

/// Counts open connections.
#[derive(Debug)]
pub(crate) struct ConnectionLimits {
    limits: EdgeLimits,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    overflow: usize,
    per_peer: HashMap<IpAddr, usize>,
}

impl ConnectionLimits {
    /// Limits as configured.
    pub(crate) fn new(limits: EdgeLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection from `peer`, or sends it to the overflow lane.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> Admission {
        let mut counts = self.counts();
        let from_peer = counts.per_peer.get(&peer).copied().unwrap_or(0);
        if counts.total < self.limits.max_connections
            && from_peer < self.limits.max_connections_per_peer
        {
            counts.total += 1;
            *counts.per_peer.entry(peer).or_default() += 1;
            return Admission::Served(ConnectionPermit {
                limits: self.clone(),
                peer: Some(peer),
            });
        }
        if counts.overflow < OVERFLOW_LANE {
            counts.overflow += 1;
            return Admission::Overloaded(ConnectionPermit {
                limits: self.clone(),
                peer: None,
            });
        }
        Admission::Dropped
    }
}

/// One open connection's slot (`peer` is `None` on the overflow lane).
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    peer: Option<IpAddr>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.limits.counts();
        let Some(peer) = self.peer else {
            counts.overflow -= 1;
            return;
        };
        counts.total -= 1;
        if let Some(n) = counts.per_peer.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                counts.per_peer.remove(&peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_peer: usize) -> Arc<ConnectionLimits> {
        ConnectionLimits::new(EdgeLimits {
            max_connections: total,
            max_connections_per_peer: per_peer,
            ..EdgeLimits::default()
        })
    }

    #[test]
    fn one_peer_cannot_take_every_slot_and_slots_come_back() {
        let limits = limits(4, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = limits.admit(a);
        let _second = limits.admit(a);
        assert!(matches!(limits.admit(a), Admission::Overloaded(_)));
        assert!(matches!(limits.admit(b), Admission::Served(_)));
        drop(first);
        assert!(matches!(limits.admit(a), Admission::Served(_)));
    }

    #[test]
    fn past_the_overflow_lane_connections_are_dropped() {
        let limits = limits(0, 0);
        let peer: IpAddr = [10, 0, 0, 1].into();
        let held: Vec<_> = (0..OVERFLOW_LANE).map(|_| limits.admit(peer)).collect();
        assert!(held.iter().all(|a| matches!(a, Admission::Overloaded(_))));
        assert!(matches!(limits.admit(peer), Admission::Dropped));
        drop(held);
        assert!(matches!(limits.admit(peer), Admission::Overloaded(_)));
    }
}
