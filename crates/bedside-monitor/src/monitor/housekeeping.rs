//! The timer behind provisioning mode: refreshes the QR token, ends the mode
//! when the code expires, and gives up on an exchange the station abandoned.
//! It sleeps until the next deadline, or until the core says one moved.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::core::Core;

/// Runs until `shutdown` turns true.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let next = core.tick(OffsetDateTime::now_utc());
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = core.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
