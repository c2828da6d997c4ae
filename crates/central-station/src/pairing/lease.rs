//! Jobs are leased by the station instance that runs them, so that when
//! several instances share one PostgreSQL database, the jobs of one that
//! dies are taken over by another within seconds: failed cleanly (their
//! certificate revoked) or, when the monitor may have committed, waited on
//! until their proof of commit or the end of their window.
//!
//! Every instance renews the leases of its running jobs every [`SWEEP`] and
//! looks for jobs whose lease ran out ([`store::recover`] with
//! [`Orphaned::Expired`]). A lease lasts [`LEASE`], several sweeps, so an
//! instance busy enough to renew late keeps its jobs.

use std::time::Duration;

use time::OffsetDateTime;

use super::job;
use super::store::{self, Orphaned};
use crate::clock;
use crate::db::{Connection, DbError, Dialect};
use crate::state::AppState;

/// How long a lease lasts without renewal.
pub(crate) const LEASE: Duration = Duration::from_secs(15);

/// How often an instance renews its leases and looks for expired ones.
pub(crate) const SWEEP: Duration = Duration::from_secs(3);

/// SQL for when a lease taken or renewed now runs out, in Unix
/// milliseconds. Leases are stamped and compared by the database's clock,
/// never the instances': one host's clock running ahead must not make it
/// take another's live jobs.
pub(crate) fn until(dialect: Dialect) -> String {
    format!("({} + {})", dialect.now_ms(), LEASE.as_millis())
}

/// Extends the lease of every running job `owner` holds. Under the write
/// lock, like the takeover it races: a sweep sees a lease either renewed or
/// not, never half-way.
pub(crate) fn renew(conn: &Connection, owner: &str) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let renewed = tx.execute(
        &format!(
            "UPDATE jobs SET lease_until_ms = {}
             WHERE owner = ?1 AND state NOT IN ('PROVISIONED', 'FAILED')",
            until(tx.dialect())
        ),
        [owner],
    )?;
    tx.commit()?;
    Ok(renewed)
}

/// One sweep: renews this instance's leases, then takes over the jobs whose
/// lease ran out. Those that asked their monitor to commit are waited on
/// here; the others are failed as `interrupted`.
pub(crate) async fn sweep(state: &AppState) -> Result<(), DbError> {
    let owner = state.config().instance_id.clone();
    let recovered = state
        .db()
        .call(move |c| {
            renew(c, &owner)?;
            store::recover(c, clock::now(), &owner, Orphaned::Expired)
        })
        .await?;
    if recovered.interrupted > 0 {
        tracing::warn!(
            interrupted = recovered.interrupted,
            "pairing jobs of a station instance that stopped renewing their leases were marked failed"
        );
    }
    adopt(state, recovered.confirming);
    if recovered.revoked {
        state.revocations_changed().await;
    }
    Ok(())
}

/// Waits, on this instance, for the proof of commit of jobs taken over.
pub(crate) fn adopt(state: &AppState, confirming: Vec<(String, OffsetDateTime)>) {
    for (job_id, confirm_by) in confirming {
        tracing::info!(%job_id, "waiting for the proof of commit of a job taken over");
        let state_for_job = state.clone();
        state.jobs().spawn(async move {
            job::await_decision(&state_for_job, &job_id, confirm_by).await;
        });
    }
}

/// Sweeps every [`SWEEP`] until the task is dropped.
pub(crate) async fn keep(state: AppState) {
    loop {
        tokio::time::sleep(SWEEP).await;
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "cannot renew job leases");
        }
    }
}
