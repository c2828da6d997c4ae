//! A cap on the live event streams (SSE) each user holds: a stream keeps a
//! connection and a subscription open for as long as the client likes, so
//! one account opening them in a loop would otherwise exhaust the station.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::http::HttpError;

/// Open streams per user id.
#[derive(Debug)]
pub(crate) struct StreamSlots {
    max_per_user: usize,
    open: Mutex<HashMap<i64, usize>>,
}

impl StreamSlots {
    /// At most `max_per_user` streams per user.
    pub(crate) fn new(max_per_user: usize) -> Arc<Self> {
        Arc::new(Self {
            max_per_user,
            open: Mutex::default(),
        })
    }

    fn open(&self) -> MutexGuard<'_, HashMap<i64, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one more stream of `user_id`, or 429 with `Retry-After`.
    /// Keep the slot inside the stream: it is freed when the stream ends.
    pub(crate) fn take(self: &Arc<Self>, user_id: i64) -> Result<StreamSlot, HttpError> {
        let mut open = self.open();
        let count = open.entry(user_id).or_default();
        if *count >= self.max_per_user {
            return Err(HttpError::TooManyStreams);
        }
        *count += 1;
        Ok(StreamSlot {
            slots: self.clone(),
            user_id,
        })
    }
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    slots: Arc<StreamSlots>,
    user_id: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open();
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_past_the_cap_is_refused_until_a_stream_ends() {
        let slots = StreamSlots::new(2);
        let first = slots.take(1).expect("first");
        let _second = slots.take(1).expect("second");
        assert!(matches!(slots.take(1), Err(HttpError::TooManyStreams)));
        assert!(slots.take(2).is_ok(), "another user is not affected");
        drop(first);
        assert!(slots.take(1).is_ok());
    }
}
