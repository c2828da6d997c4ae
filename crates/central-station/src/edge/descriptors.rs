//! Room for connections in the process's open-file limit. A cap on
//! connections above what the limit allows would not be a cap: `accept`
//! would fail with "too many open files" long before, and clients would be
//! left hanging instead of answered 503. So the station raises its soft
//! limit to the hard one at start, and fits the cap under it.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use super::EdgeLimits;

/// Descriptors kept for everything but accepted connections: the database
/// and its journal, logs, listeners, and the connections the station opens
/// to monitors (64 exchanges at once, each with its own client).
const RESERVED: u64 = 512;

/// Raises the soft open-file limit to the hard one; returns the soft limit
/// now in force (`None`: unlimited, or unknown).
pub(crate) fn raise_open_file_limit() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(error) => {
            tracing::warn!(%error, "the open-file limit could not be raised");
            limit.current
        }
    }
}

/// `limits` with the total connection cap lowered, if need be, to what an
/// open-file limit of `open_files` leaves room for.
pub(crate) fn fit(limits: EdgeLimits, open_files: Option<u64>) -> EdgeLimits {
    let Some(open_files) = open_files else {
        return limits;
    };
    let room = usize::try_from(open_files.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
    if limits.max_connections <= room {
        return limits;
    }
    tracing::warn!(
        configured = limits.max_connections,
        open_file_limit = open_files,
        cap = room,
        "the connection cap is lowered to fit the open-file limit; raise the limit (LimitNOFILE) to serve more monitors"
    );
    EdgeLimits {
        max_connections: room,
        max_connections_per_peer: limits.max_connections_per_peer.min(room),
        ..limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_open_file_limit() {
        let configured = EdgeLimits::default();
        assert_eq!(fit(configured, None), configured);
        assert_eq!(fit(configured, Some(1 << 20)), configured);
        let fitted = fit(configured, Some(1024));
        assert_eq!(fitted.max_connections, 512);
        assert_eq!(
            fitted.max_connections_per_peer,
            configured.max_connections_per_peer
        );
        let tiny = fit(configured, Some(600));
        assert_eq!(
            (tiny.max_connections, tiny.max_connections_per_peer),
            (88, 88)
        );
        assert_eq!(fit(configured, Some(100)).max_connections, 0);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let hard = getrlimit(Resource::Nofile).maximum;
        assert_eq!(raise_open_file_limit(), hard);
        assert_eq!(getrlimit(Resource::Nofile).current, hard);
    }
}
