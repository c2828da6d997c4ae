//! Pairing: the technician's pair request, the job that runs the mutual proof
//! with the monitor and pushes its configuration, and the live event streams.

mod events;
mod gate;
pub(crate) mod handlers;
pub(crate) mod job;
pub(crate) mod lease;
mod rate_limit;
pub(crate) mod request;
pub(crate) mod store;

pub(crate) use events::{EventHub, Topic};
pub(crate) use gate::Closed;
pub(crate) use handlers::{device_events, job_events, job_summary};
pub(crate) use request::pair;

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

/// The running jobs: a stopping station lets them finish (see
/// [`JobTasks::drain`]) or, past its bound, stops them (a restart then
/// reports them as `interrupted`).
#[derive(Debug, Default)]
pub(crate) struct JobTasks {
    set: Mutex<JoinSet<()>>,
    /// Set once the station is stopping: pair requests are refused.
    draining: AtomicBool,
    /// Set once the jobs were stopped: none starts after that.
    stopped: AtomicBool,
}

impl JobTasks {
    fn set(&self) -> std::sync::MutexGuard<'_, JoinSet<()>> {
        self.set.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a job — unless the station has stopped its jobs already: one
    /// started after that would outlive the station (its row stays in
    /// PAIRING, and the next start reports it interrupted).
    pub(crate) fn spawn(&self, job: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set();
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        // Forget the ones that finished.
        while set.try_join_next().is_some() {}
        set.spawn(job);
    }

    /// Whether the station is stopping and takes no new jobs.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Refuses new jobs from now on, then waits until every running job has
    /// ended or `grace` has passed; past it, the jobs still running are
    /// stopped (as they are if this future is dropped). Returns how many
    /// were stopped.
    ///
    /// A request that passed the draining check just before it was set may
    /// still start its job: each round takes whatever the set holds, so such
    /// a job is waited for in the next round.
    pub(crate) async fn drain(&self, grace: Duration) -> usize {
        self.draining.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + grace;
        loop {
            // Dropping a JoinSet aborts what it still holds.
            let mut running = std::mem::take(&mut *self.set());
            if running.is_empty() {
                return 0;
            }
            let all_ended = async { while running.join_next().await.is_some() {} };
            if tokio::time::timeout_at(deadline, all_ended).await.is_err() {
                return running.len();
            }
        }
    }

    /// Stops every running job, and any started later.
    pub(crate) fn abort_all(&self) {
        let mut set = self.set();
        self.stopped.store(true, Ordering::SeqCst);
        set.abort_all();
    }
}
