//! Long requests (event streams) that last only as long as the token that
//! opened them: they end when it expires, or soon after any revocation that
//! covers it (sign-out, sessions ended, account disabled, refresh).

use futures_util::{Stream, StreamExt as _};
use tokio::sync::watch;

use super::Caller;
use super::store;
use crate::clock;
use crate::db::Db;

/// Tells waiting streams that some session was revoked, so each looks up
/// whether it was theirs.
#[derive(Debug)]
pub(crate) struct Revocations(watch::Sender<u64>);

impl Default for Revocations {
    fn default() -> Self {
        Self(watch::channel(0).0)
    }
}

impl Revocations {
    /// Some sessions were revoked just now (committed).
    pub(crate) fn announce(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Resolves when `caller`'s access token expires or stops working.
    async fn ended(mut news: watch::Receiver<u64>, db: Db, caller: Caller) {
        let left = caller.access_expires_at - clock::now();
        let expiry = tokio::time::sleep(left.try_into().unwrap_or_default());
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                () = &mut expiry => return,
                changed = news.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let session = caller.session_id;
                    let live = db
                        .call(move |c| store::access_live(c, session, clock::now()))
                        .await;
                    if !matches!(live, Ok(true)) {
                        return;
                    }
                }
            }
        }
    }

    /// `stream`, ended when `caller`'s token expires or is revoked.
    pub(crate) fn bound<S: Stream>(
        &self,
        db: &Db,
        caller: Caller,
        stream: S,
    ) -> impl Stream<Item = S::Item> + use<S> {
        let ended = Self::ended(self.0.subscribe(), db.clone(), caller);
        stream.take_until(ended)
    }
}
