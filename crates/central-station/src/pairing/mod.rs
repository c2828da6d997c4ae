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

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

/// The running jobs: a stopping station lets them finish (see
/// [`JobTasks::drain`]) or, past its bound, stops them (a restart then
/// reports them as `interrupted`).
#[derive(Debug, Default)]
pub(crate) struct JobTasks {
    set: Mutex<JoinSet<()>>,
    /// The jobs whose task is running here: only their leases are renewed,
    /// so a job whose task ended without deciding it (a panic, an outcome
    /// the database would not take) is taken over once its lease runs out,
    /// on this instance or another, instead of staying open while this
    /// instance lives.
    live: Arc<Mutex<HashSet<String>>>,
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

    /// Starts the task of job `job_id` (see [`Self::spawn`]); the job counts
    /// as live here until the task ends, however it ends.
    pub(crate) fn spawn_job(&self, job_id: &str, job: impl Future<Output = ()> + Send + 'static) {
        let held = LiveJob::hold(&self.live, job_id);
        self.spawn(async move {
            let _held = held;
            job.await;
        });
    }

    /// The jobs whose task is running here.
    pub(crate) fn live(&self) -> Vec<String> {
        lock(&self.live).iter().cloned().collect()
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

fn lock(live: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    live.lock().unwrap_or_else(|p| p.into_inner())
}

/// A job counted live while this is held: dropped when its task ends,
/// panics or is aborted.
#[derive(Debug)]
struct LiveJob {
    live: Arc<Mutex<HashSet<String>>>,
    job_id: String,
}

impl LiveJob {
    fn hold(live: &Arc<Mutex<HashSet<String>>>, job_id: &str) -> Self {
        lock(live).insert(job_id.to_owned());
        Self {
            live: live.clone(),
            job_id: job_id.to_owned(),
        }
    }
}

impl Drop for LiveJob {
    fn drop(&mut self) {
        lock(&self.live).remove(&self.job_id);
    }
}

#[cfg(test)]
mod live_tests {
    use super::JobTasks;

    /// A job counts live while its task runs, and not after it ends, even
    /// by a panic.
    #[tokio::test]
    async fn a_job_is_live_while_its_task_runs_however_it_ends() {
        let tasks = JobTasks::default();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn_job("RUNS", async {
            let _ = finished.await;
        });
        tasks.spawn_job("PANICS", async { panic!("a bug in a job task") });
        tokio::task::yield_now().await;
        assert_eq!(tasks.live(), vec!["RUNS".to_owned()]);
        finish.send(()).expect("the task waits");
        assert_eq!(tasks.drain(std::time::Duration::from_secs(10)).await, 0);
        assert!(tasks.live().is_empty());
    }
}
