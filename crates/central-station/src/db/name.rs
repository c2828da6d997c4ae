//! One name, one running instance, on a PostgreSQL database.

use std::path::Path;
use std::sync::{Mutex, mpsc};

use super::{Database, DbError, connect, params};

/// An instance's name on a PostgreSQL database, held by a session-level
/// advisory lock on a connection of its own: two instances under one name
/// would each take the other's jobs for their own (their leases, their
/// recovery at start), so the second is refused at start. The lock goes
/// with the connection if the process dies.
#[derive(Debug)]
pub(super) struct NameHeld {
    release: Mutex<Option<mpsc::Sender<()>>>,
    holder: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The advisory-lock class of instance names (the other argument is the
/// name's hash); the two-key space does not meet the write lock's one-key
/// space.
const INSTANCE_NAMES: i32 = 0x7a70;

impl NameHeld {
    pub(super) fn take(
        data_dir: &Path,
        database: &Database,
        instance_id: &str,
    ) -> Result<Self, DbError> {
        let (release, released) = mpsc::channel::<()>();
        let (ready, taken) = mpsc::channel::<Result<(), DbError>>();
        let (data_dir, database, id) = (
            data_dir.to_owned(),
            database.clone(),
            instance_id.to_owned(),
        );
        let holder = std::thread::Builder::new()
            .name("station-db-name".into())
            .spawn(move || {
                let held = connect(&data_dir, &database).and_then(|conn| {
                    let free: bool = conn.query_row(
                        "SELECT pg_try_advisory_lock(CAST(?1 AS INTEGER), hashtext(?2))",
                        params![INSTANCE_NAMES, id],
                        |r| r.get(0),
                    )?;
                    if free {
                        Ok(conn)
                    } else {
                        Err(DbError::InstanceTaken(id.clone()))
                    }
                });
                match held {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        // Until released, or the station is gone.
                        let _ = released.recv();
                        let _ = conn.execute(
                            "SELECT pg_advisory_unlock(CAST(?1 AS INTEGER), hashtext(?2))",
                            params![INSTANCE_NAMES, id],
                        );
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            })
            .map_err(DbError::Thread)?;
        taken.recv().map_err(|_| DbError::Closed)??;
        Ok(Self {
            release: Mutex::new(Some(release)),
            holder: Mutex::new(Some(holder)),
        })
    }

    /// Unlocks the name and waits until it is free.
    pub(super) fn release(&self) {
        drop(self.release.lock().ok().and_then(|mut r| r.take()));
        if let Some(holder) = self.holder.lock().ok().and_then(|mut h| h.take()) {
            let _ = holder.join();
        }
    }
}
