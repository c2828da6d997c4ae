//! What a hospital puts in front of several station instances: one address
//! for technicians and monitors, each new TCP connection handed to the next
//! instance that accepts it (round robin, skipping one that is down). TLS
//! passes through untouched: every instance presents the same certificate.
//! The upstreams can change while it runs, as an instance restarted on
//! another port rejoins.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A round-robin TCP balancer on loopback; stops when dropped.
#[derive(Debug)]
pub struct Balancer {
    addr: SocketAddr,
    upstreams: Arc<Mutex<Vec<SocketAddr>>>,
    accepting: JoinHandle<()>,
}

impl Balancer {
    /// Starts one on a free loopback port in front of `upstreams`.
    pub async fn start(upstreams: Vec<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("balancer port");
        let addr = listener.local_addr().expect("balancer address");
        let upstreams = Arc::new(Mutex::new(upstreams));
        let accepting = tokio::spawn({
            let upstreams = Arc::clone(&upstreams);
            let next = Arc::new(AtomicUsize::new(0));
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (upstreams, next) = (Arc::clone(&upstreams), Arc::clone(&next));
                    tokio::spawn(async move {
                        if let Some(mut server) = connect_next(&upstreams, &next).await {
                            let mut client = client;
                            let _ = client.set_nodelay(true);
                            let _ = server.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }
        });
        Self {
            addr,
            upstreams,
            accepting,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://` and [`Self::addr`].
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Adds an upstream.
    pub fn add(&self, upstream: SocketAddr) {
        self.upstreams.lock().expect("upstreams").push(upstream);
    }

    /// Replaces upstream `old` (an instance restarted elsewhere) by `new`.
    pub fn replace(&self, old: SocketAddr, new: SocketAddr) {
        let mut upstreams = self.upstreams.lock().expect("upstreams");
        for upstream in upstreams.iter_mut().filter(|u| **u == old) {
            *upstream = new;
        }
    }
}

/// The next upstream, in turn, that accepts a connection; none if all refuse.
async fn connect_next(upstreams: &Mutex<Vec<SocketAddr>>, next: &AtomicUsize) -> Option<TcpStream> {
    let candidates = upstreams.lock().expect("upstreams").clone();
    for _ in 0..candidates.len() {
        let at = next.fetch_add(1, Ordering::Relaxed) % candidates.len();
        if let Ok(stream) = TcpStream::connect(candidates[at]).await {
            return Some(stream);
        }
    }
    None
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
