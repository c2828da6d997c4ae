//! Pairing: the technician's pair request, the job that runs the mutual proof
//! with the monitor and pushes its configuration, and the live event streams.

mod events;
mod gate;
pub(crate) mod handlers;
pub(crate) mod job;
mod rate_limit;
pub(crate) mod request;
pub(crate) mod store;

pub(crate) use events::{EventHub, Topic};
pub(crate) use gate::Closed;
pub(crate) use handlers::{device_events, job_events, job_summary};
pub(crate) use rate_limit::RateLimiter;
pub(crate) use request::pair;

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinSet;

/// The running jobs, so shutdown can stop them (a restart then reports them
/// as `interrupted`).
#[derive(Debug, Default)]
pub(crate) struct JobTasks {
    set: Mutex<JoinSet<()>>,
}

impl JobTasks {
    /// Starts a job.
    pub(crate) fn spawn(&self, job: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the ones that finished.
        while set.try_join_next().is_some() {}
        set.spawn(job);
    }

    /// Stops every running job.
    pub(crate) fn abort_all(&self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .abort_all();
    }
}
