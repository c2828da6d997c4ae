//! Jobs are leased by the station instance that runs them, so that when
//! several instances share one PostgreSQL database, the jobs of one that
//! dies are taken over by another within seconds: failed cleanly (their
//! certificate revoked) or, when the monitor may have committed, waited on
//! until their proof of commit or the end of their window.
//!
//! Every instance renews the leases of the jobs whose task runs there
//! (`JobTasks::live`: a job whose task ended without deciding it is left to
//! expire and be taken over, here or elsewhere) every [`SWEEP`], and
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

/// Job IDs renewed per statement: SQLite binds at most 32,766 parameters,
/// and ten thousand jobs at once stay a few statements.
const RENEWED_PER_STATEMENT: usize = 500;

/// Extends the lease of the running jobs `owner` holds whose task is
/// running (`live`): a job whose task ended without deciding it is left to
/// expire and be taken over. Under the write lock, like the takeover it
/// races: a sweep sees a lease either renewed or not, never half-way.
pub(crate) fn renew(conn: &Connection, owner: &str, live: &[String]) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let mut renewed = 0;
    for chunk in live.chunks(RENEWED_PER_STATEMENT) {
        let ids: Vec<String> = (2..chunk.len() + 2).map(|i| format!("?{i}")).collect();
        let values = std::iter::once(owner).chain(chunk.iter().map(String::as_str));
        renewed += tx.execute(
            &format!(
                "UPDATE jobs SET lease_until_ms = {}
                 WHERE owner = ?1 AND id IN ({}) AND state NOT IN ('PROVISIONED', 'FAILED')",
                until(tx.dialect()),
                ids.join(", ")
            ),
            crate::db::params_from_iter(values),
        )?;
    }
    tx.commit()?;
    Ok(renewed)
}

/// One sweep: renews this instance's leases, then takes over the jobs whose
/// lease ran out. Those that asked their monitor to commit are waited on
/// here; the others are failed as `interrupted`.
pub(crate) async fn sweep(state: &AppState) -> Result<(), DbError> {
    let owner = state.config().instance_id.clone();
    let live = state.jobs().live();
    let recovered = state
        .db()
        .call(move |c| {
            renew(c, &owner, &live)?;
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
        let live = job_id.clone();
        state.jobs().spawn_job(&live, async move {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::params;

    /// Two running jobs owned by `station`, their leases long run out.
    fn two_running_jobs() -> Connection {
        let conn = crate::db::testing::memory();
        conn.execute(
            "INSERT INTO devices (device_id, device_serial, identity_public_key, firmware_version,
                                  ip_address, device_label, bed_id, state, registered_at, updated_at)
             VALUES ('ZM-L-1', 'SN-1', 'key', '1.0', '127.0.0.1', 'Bed', 'B1', 'PAIRING', 0, 0)",
            [],
        )
        .expect("device");
        for job in ["LIVE", "ORPHAN"] {
            conn.execute(
                "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at,
                                   owner, lease_until_ms)
                 VALUES (?1, 'ZM-L-1', 'tech', 'PAIRING', 0, 0, 'station', 0)",
                params![job],
            )
            .expect("job");
        }
        conn
    }

    fn lease_of(conn: &Connection, job: &str) -> i64 {
        conn.query_row(
            "SELECT lease_until_ms FROM jobs WHERE id = ?1",
            [job],
            |r| r.get(0),
        )
        .expect("lease")
    }

    /// A job whose task ended without deciding it is not kept alive by its
    /// instance's sweeps: its lease runs out and it is taken over.
    #[test]
    fn only_the_jobs_with_a_running_task_have_their_lease_renewed() {
        let conn = two_running_jobs();
        assert_eq!(
            renew(&conn, "station", &["LIVE".to_owned()]).expect("renew"),
            1
        );
        assert!(lease_of(&conn, "LIVE") > 0);
        assert_eq!(lease_of(&conn, "ORPHAN"), 0);
        // Another instance's name renews nothing of this one's.
        assert_eq!(
            renew(&conn, "other", &["ORPHAN".to_owned()]).expect("renew"),
            0
        );
        // Many at once go in several statements.
        let many: Vec<String> = (0..1200)
            .map(|i| format!("J{i}"))
            .chain(["ORPHAN".to_owned()])
            .collect();
        assert_eq!(renew(&conn, "station", &many).expect("renew"), 1);
        assert!(lease_of(&conn, "ORPHAN") > 0);
    }
}
