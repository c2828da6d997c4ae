//! A fault-injecting TCP proxy for the path between the station and one
//! monitor: it forwards bytes both ways, records how the exchange is cut
//! into messages, and on the connection it is armed for, acts after an
//! exact number of bytes in one direction: cuts it — optionally telling the
//! test, which then kills or restarts a party at that very point — or
//! partitions it (nothing crosses for a while, as when a ward switch goes
//! down; TCP then delivers what was held, unless a side gave up). It can
//! also delay every message, as a slow link between buildings does.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bedside_monitor::Monitor;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zpair_proto::device::RegistrationRecord;

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Station → monitor (requests).
    Up,
    /// Monitor → station (answers).
    Down,
}

/// Where to cut: after `after` bytes have gone `direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CutPoint {
    /// The direction counted.
    pub direction: Direction,
    /// Bytes forwarded that way before the cut.
    pub after: usize,
}

impl std::fmt::Display for CutPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = match self.direction {
            Direction::Up => "up",
            Direction::Down => "down",
        };
        write!(f, "{arrow} after {} B", self.after)
    }
}

/// One uninterrupted run of bytes in one direction: a message, or the part
/// of a TLS flight that crossed before the other side answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Its direction.
    pub direction: Direction,
    /// Bytes sent that way before it.
    pub start: usize,
    /// Its length.
    pub len: usize,
}

/// Handed to the test when an armed cut is reached: the connection is held
/// exactly there (nothing more forwarded) until this is dropped, so the test
/// can kill or restart a party at that very byte before the cut lands.
#[derive(Debug)]
pub struct Hold(#[allow(dead_code)] oneshot::Sender<()>);

/// What the proxy does when an armed point is reached.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Closes both connections at once.
    Cut,
    /// Closes both once the test drops the [`Hold`].
    HeldCut,
    /// Forwards nothing either way for this long, then goes on.
    Partition(Duration),
}

/// The fault armed for the next connection, and who to tell when it happens.
struct Armed {
    at: CutPoint,
    fired: Option<oneshot::Sender<Hold>>,
    fault: Fault,
}

#[derive(Default)]
struct Shared {
    armed: Option<Armed>,
    /// Connections still to drop as soon as they are accepted (a monitor
    /// rebooting: the station's connection is reset).
    drop_next: usize,
    /// Connections dropped that way so far.
    dropped: usize,
    /// The runs of the last connection.
    runs: Vec<Run>,
    /// Added to every message, each way.
    latency: Duration,
}

/// A running proxy; stops when dropped.
#[allow(missing_debug_implementations)] // holds a task and a lock
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on `ip:port` and forwards every connection to `monitor`.
    pub async fn start(ip: IpAddr, port: u16, monitor: SocketAddr) -> Self {
        let listener = TcpListener::bind((ip, port)).await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((station, _)) = listener.accept().await {
                    {
                        let mut shared = lock(&shared);
                        if shared.drop_next > 0 {
                            shared.drop_next -= 1;
                            shared.dropped += 1;
                            // Closed at once with nothing read: the TLS
                            // handshake fails, the request was never sent.
                            drop(station);
                            continue;
                        }
                    }
                    let (armed, latency) = {
                        let mut shared = lock(&shared);
                        shared.runs.clear();
                        (shared.armed.take(), shared.latency)
                    };
                    tokio::spawn(forward(station, monitor, armed, latency, shared.clone()));
                }
            }
        });
        Self { addr, shared, task }
    }

    /// A proxy on a fresh loopback address in front of `monitor`, and the
    /// monitor's registration record pointing the station at the proxy.
    pub async fn in_front_of(monitor: &Monitor) -> (Self, RegistrationRecord) {
        let proxy = Self::start(
            crate::unique_ip(),
            monitor.local_addr().port(),
            monitor.local_addr(),
        )
        .await;
        let mut record = monitor.registration_record();
        record.ip_address = Some(proxy.addr().ip().to_string());
        (proxy, record)
    }

    /// Where the station should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts the next connection at `at`. The receiver hears when the point
    /// was reached (its [`Hold`] holds nothing); it hears nothing (an error)
    /// if the exchange never got that far.
    pub fn arm(&self, at: CutPoint) -> oneshot::Receiver<Hold> {
        self.arm_with(at, Fault::Cut)
    }

    /// Like [`Self::arm`], but the connection is held at `at` until the
    /// [`Hold`] is dropped, and only then cut.
    pub fn arm_held(&self, at: CutPoint) -> oneshot::Receiver<Hold> {
        self.arm_with(at, Fault::HeldCut)
    }

    /// Partitions the next connection at `at`: nothing crosses either way
    /// for `lasting`, then what each side sent meanwhile (its close
    /// included) goes on, as TCP delivers it once a link is back. The
    /// receiver hears when the partition began.
    pub fn arm_partition(&self, at: CutPoint, lasting: Duration) -> oneshot::Receiver<Hold> {
        self.arm_with(at, Fault::Partition(lasting))
    }

    fn arm_with(&self, at: CutPoint, fault: Fault) -> oneshot::Receiver<Hold> {
        let (fired, heard) = oneshot::channel();
        lock(&self.shared).armed = Some(Armed {
            at,
            fired: Some(fired),
            fault,
        });
        heard
    }

    /// Delays every message of every later connection by `latency`, each
    /// way (a message is what one side sends before it waits for the other).
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared).latency = latency;
    }

    /// Drops the next `n` connections as soon as they arrive.
    pub fn drop_next(&self, n: usize) {
        lock(&self.shared).drop_next = n;
    }

    /// How many connections [`Self::drop_next`] dropped so far.
    pub fn dropped(&self) -> usize {
        lock(&self.shared).dropped
    }

    /// How the last connection's bytes went, run by run.
    pub fn runs(&self) -> Vec<Run> {
        lock(&self.shared).runs.clone()
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits (30 s at most) for an armed point to be reached and returns its
/// [`Hold`]; panics naming the point if the exchange never got there.
pub async fn reached(point: CutPoint, fired: oneshot::Receiver<Hold>) -> Hold {
    tokio::time::timeout(std::time::Duration::from_secs(30), fired)
        .await
        .unwrap_or_else(|_| panic!("{point}: the exchange never reached it"))
        .unwrap_or_else(|_| panic!("{point}: the exchange ended before it"))
}

/// Cut points over an exchange recorded as `runs`: each boundary between
/// runs (and a byte either side of it), and every `step` bytes, both ways.
pub fn sweep(runs: &[Run], step: usize) -> Vec<CutPoint> {
    let mut points = std::collections::BTreeSet::new();
    for direction in [Direction::Up, Direction::Down] {
        let mine: Vec<&Run> = runs.iter().filter(|r| r.direction == direction).collect();
        let total = mine.last().map_or(0, |r| r.start + r.len);
        for run in &mine {
            for after in [run.start.saturating_sub(1), run.start, run.start + 1] {
                points.insert((direction == Direction::Down, after));
            }
        }
        for after in (step..total).step_by(step) {
            points.insert((direction == Direction::Down, after));
        }
    }
    points
        .into_iter()
        .filter(|&(_, after)| after > 0)
        .map(|(down, after)| CutPoint {
            direction: if down { Direction::Down } else { Direction::Up },
            after,
        })
        .collect()
}

async fn forward(
    station: TcpStream,
    monitor: SocketAddr,
    mut armed: Option<Armed>,
    latency: Duration,
    shared: Arc<Mutex<Shared>>,
) {
    let Ok(monitor) = TcpStream::connect(monitor).await else {
        return;
    };
    let _ = station.set_nodelay(true);
    let _ = monitor.set_nodelay(true);
    let (mut station_read, mut station_write) = station.into_split();
    let (mut monitor_read, mut monitor_write) = monitor.into_split();
    let mut sent = [0usize; 2];
    let mut last = None;
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    loop {
        let (direction, n) = tokio::select! {
            read = station_read.read(&mut up) => (Direction::Up, read.unwrap_or(0)),
            read = monitor_read.read(&mut down) => (Direction::Down, read.unwrap_or(0)),
        };
        if n == 0 {
            // One side closed: close the other, as a router would pass it on.
            let _ = station_write.shutdown().await;
            let _ = monitor_write.shutdown().await;
            return;
        }
        let index = usize::from(direction == Direction::Down);
        // Forward all of it, or only up to the armed point.
        let act_here = armed
            .as_ref()
            .filter(|a| a.at.direction == direction && sent[index] + n >= a.at.after)
            .map(|a| a.at.after - sent[index]);
        let take = act_here.unwrap_or(n);
        // A message's first bytes wait; the rest follow at once.
        if !latency.is_zero() && take > 0 && last != Some(direction) {
            tokio::time::sleep(latency).await;
        }
        last = Some(direction);
        let (read, to) = match direction {
            Direction::Up => (&up[..n], &mut monitor_write),
            Direction::Down => (&down[..n], &mut station_write),
        };
        if pass(to, &read[..take], &shared, direction, &mut sent[index])
            .await
            .is_err()
        {
            return;
        }
        let Some(Armed { fired, fault, .. }) = act_here.and_then(|_| armed.take()) else {
            continue;
        };
        let (release, released) = oneshot::channel();
        let told = fired.is_some_and(|fired| fired.send(Hold(release)).is_ok());
        match fault {
            // Both connections go, with what was forwarded delivered.
            Fault::Cut => return,
            // The same, once the test has done what it does at this point.
            Fault::HeldCut => {
                if told {
                    let _ = released.await;
                }
                return;
            }
            Fault::Partition(lasting) => {
                // The rest of this read is held with everything else.
                tokio::time::sleep(lasting).await;
                if pass(to, &read[take..], &shared, direction, &mut sent[index])
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Forwards `bytes` to `to` and records them as sent `direction`, after
/// the `sent` bytes before them.
async fn pass(
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    bytes: &[u8],
    shared: &Mutex<Shared>,
    direction: Direction,
    sent: &mut usize,
) -> std::io::Result<()> {
    if !bytes.is_empty() {
        to.write_all(bytes).await?;
    }
    record(shared, direction, *sent, bytes.len());
    *sent += bytes.len();
    Ok(())
}

fn record(shared: &Mutex<Shared>, direction: Direction, start: usize, len: usize) {
    if len == 0 {
        return;
    }
    let mut shared = lock(shared);
    match shared.runs.last_mut() {
        Some(last) if last.direction == direction => last.len += len,
        _ => shared.runs.push(Run {
            direction,
            start,
            len,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_covers_every_boundary_and_steps_through_both_directions() {
        let runs = [
            Run {
                direction: Direction::Up,
                start: 0,
                len: 500,
            },
            Run {
                direction: Direction::Down,
                start: 0,
                len: 300,
            },
            Run {
                direction: Direction::Up,
                start: 500,
                len: 700,
            },
        ];
        let points = sweep(&runs, 400);
        let has = |direction, after| points.contains(&CutPoint { direction, after });
        for after in [1, 499, 500, 501, 400, 800] {
            assert!(has(Direction::Up, after), "up {after}");
        }
        assert!(has(Direction::Down, 1));
        assert!(!has(Direction::Up, 0), "a cut before anything is no cut");
        assert!(!has(Direction::Down, 400), "past the end of the down bytes");
    }
}
