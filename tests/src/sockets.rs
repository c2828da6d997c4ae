//! The server side of a loopback connection, found among this process's own
//! descriptors, so a test can read the options a server set on the socket
//! it accepted (which no client can see).

use std::io;
use std::net::SocketAddr;

use rustix::net::sockopt::tcp_nodelay;
use rustix::net::{SocketAddrAny, getpeername, getsockname};
use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

/// Whether the socket this process accepted at `server` for the client at
/// `client` has `TCP_NODELAY` set; `None` while it is not accepted yet.
pub fn accepted_nodelay(server: SocketAddr, client: SocketAddr) -> io::Result<Option<bool>> {
    let (server, client) = (SocketAddrAny::from(server), SocketAddrAny::from(client));
    // Each descriptor is copied through a pidfd of this process: a copy
    // shares the socket and its options, and needs no raw descriptor.
    let this_process = pidfd_open(getpid(), PidfdFlags::empty())?;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(number) = entry?.file_name().to_string_lossy().parse() else {
            continue;
        };
        let Ok(socket) = pidfd_getfd(&this_process, number, PidfdGetfdFlags::empty()) else {
            continue;
        };
        if getsockname(&socket).ok() == Some(server.clone())
            && getpeername(&socket).ok().flatten() == Some(client.clone())
        {
            return Ok(Some(tcp_nodelay(&socket)?));
        }
    }
    Ok(None)
}
