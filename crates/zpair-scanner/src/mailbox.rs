//! A one-item mailbox between a producer that must never wait (a camera
//! thread) and a worker that handles the newest item only: putting an item
//! replaces one not yet taken, rather than queueing behind it, and items are
//! recycled so a steady stream allocates nothing. The live scanner and the
//! camera's preview encoder each run on one.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The mailbox; share it in an `Arc`.
#[derive(Debug, Default)]
pub struct Latest<T> {
    slot: Mutex<Slot<T>>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Slot<T> {
    pending: Option<T>,
    /// An item handed back by the worker (or replaced), refilled by the next
    /// put.
    spare: Option<T>,
    closed: bool,
}

impl<T: Default> Latest<T> {
    /// Fills a recycled item (or a new one) with `fill`, outside the lock,
    /// and puts it in. Returns whether it replaced an item the worker had
    /// not taken (that one is dropped, and its storage reused). After
    /// [`Latest::close`] the item is not handed out.
    pub fn put(&self, fill: impl FnOnce(&mut T)) -> bool {
        let mut item = self.lock().spare.take().unwrap_or_default();
        fill(&mut item);
        let replaced = {
            let mut slot = self.lock();
            if slot.closed {
                slot.spare = Some(item);
                return false;
            }
            match slot.pending.replace(item) {
                Some(old) => {
                    slot.spare = Some(old);
                    true
                }
                None => false,
            }
        };
        self.wake.notify_one();
        replaced
    }
}

impl<T> Latest<T> {
    /// Waits for the next item. After [`Latest::close`], an item put before
    /// it is still handed out, then `None`.
    pub fn take(&self) -> Option<T> {
        let mut slot = self.lock();
        loop {
            if let Some(item) = slot.pending.take() {
                return Some(item);
            }
            if slot.closed {
                return None;
            }
            slot = self.wake.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Hands a taken item back for the next put to refill.
    pub fn recycle(&self, item: T) {
        self.lock().spare = Some(item);
    }

    /// Ends the stream: [`Latest::take`] returns `None` once the mailbox is
    /// empty. With `discard`, an item not yet taken is dropped first;
    /// returns whether there was one.
    pub fn close(&self, discard: bool) -> bool {
        let discarded = {
            let mut slot = self.lock();
            slot.closed = true;
            discard && slot.pending.take().is_some()
        };
        self.wake.notify_all();
        discarded
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        // The slot holds plain data that is consistent between statements,
        // so a panic elsewhere while it was locked leaves nothing broken.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_replaces_an_item_not_taken_and_its_storage_is_reused() {
        let mailbox = Latest::<Vec<u8>>::default();
        assert!(!mailbox.put(|v| v.push(1)));
        assert!(mailbox.put(|v| {
            assert!(v.is_empty(), "a fresh item: nothing recycled yet");
            v.push(2);
        }));
        // The replaced item is what the next put refills.
        assert!(mailbox.put(|v| {
            assert_eq!(v, &[1]);
            v.clear();
            v.push(3);
        }));
        assert_eq!(mailbox.take(), Some(vec![3]));
        mailbox.recycle(vec![9]);
        assert!(!mailbox.put(|v| assert_eq!(v, &[9])));
    }

    #[test]
    fn closing_hands_out_what_is_left_unless_it_is_discarded() {
        let kept = Latest::<u8>::default();
        kept.put(|v| *v = 5);
        assert!(!kept.close(false));
        assert_eq!(kept.take(), Some(5));
        assert_eq!(kept.take(), None);

        let discarded = Latest::<u8>::default();
        discarded.put(|v| *v = 5);
        assert!(discarded.close(true));
        assert_eq!(discarded.take(), None);
        // Nothing put after the close is handed out.
        assert!(!discarded.put(|v| *v = 6));
        assert_eq!(discarded.take(), None);
    }

    #[test]
    fn take_waits_for_a_put_from_another_thread() {
        let mailbox = std::sync::Arc::new(Latest::<u8>::default());
        let producer = std::sync::Arc::clone(&mailbox);
        let thread = std::thread::spawn(move || {
            producer.put(|v| *v = 7);
        });
        assert_eq!(mailbox.take(), Some(7));
        thread.join().expect("producer");
    }
}
