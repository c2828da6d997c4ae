//! What ZPair's tests share across crates (a dev-dependency only).

use std::future::Future;
use std::time::Duration;

/// How often [`eventually`] checks.
const POLL: Duration = Duration::from_millis(100);
/// How long [`eventually`] waits before failing the test: far beyond any
/// healthy wait, so it only fires on a real hang.
const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `check` until it holds; panics naming `what` after 20 s. A check
/// that needs no `.await` is written `|| std::future::ready(condition)`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("timed out waiting for: {what}");
}
