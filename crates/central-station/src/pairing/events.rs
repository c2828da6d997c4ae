//! Live job events: a broadcast channel per job and per device, created when
//! someone subscribes and dropped when the last subscriber leaves. Each event
//! carries its `job_events` row id, so a stream that replayed the past from
//! the database can skip what it already sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;
use zpair_proto::api::JobEvent;

/// Events buffered per subscriber before it lags (and re-reads the database).
const CAPACITY: usize = 64;

/// What a subscriber follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    /// One job.
    Job(String),
    /// Every job of one device.
    Device(String),
}

/// A committed event and its row id.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub(crate) seq: i64,
    pub(crate) event: JobEvent,
}

/// The registry of live channels.
/// What a channel carries: a committed event, or `None` for word that
/// events may have been missed (the database has them all).
type Sent = Option<Published>;

#[derive(Debug, Default)]
pub(crate) struct EventHub {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Sent>>>,
}

impl EventHub {
    fn topics(&self) -> MutexGuard<'_, HashMap<Topic, broadcast::Sender<Sent>>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts following `topic`. Subscribe before reading the past from the
    /// database, so nothing committed in between is missed.
    pub(crate) fn subscribe(self: &Arc<Self>, topic: Topic) -> Subscription {
        let rx = self
            .topics()
            .entry(topic.clone())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe();
        Subscription {
            rx,
            hub: self.clone(),
            topic,
        }
    }

    /// Sends a committed event to the job's and the device's followers.
    pub(crate) fn publish(&self, seq: i64, event: &JobEvent) {
        let topics = self.topics();
        for topic in [
            Topic::Job(event.job_id.clone()),
            Topic::Device(event.device_id.clone()),
        ] {
            if let Some(tx) = topics.get(&topic) {
                let _ = tx.send(Some(Published {
                    seq,
                    event: event.clone(),
                }));
            }
        }
    }

    /// Tells every follower that events may have been missed (the
    /// database's notifications were lost for a while): each reads what it
    /// needs from the database, as after lagging behind.
    pub(crate) fn missed(&self) {
        for tx in self.topics().values() {
            let _ = tx.send(None);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.topics().len()
    }
}

/// A subscriber; its channel goes away with the last one.
#[derive(Debug)]
pub(crate) struct Subscription {
    rx: broadcast::Receiver<Sent>,
    hub: Arc<EventHub>,
    topic: Topic,
}

impl Subscription {
    /// The next event, or `Err(Lagged)` after missed ones.
    pub(crate) async fn recv(&mut self) -> Result<Published, broadcast::error::RecvError> {
        match self.rx.recv().await? {
            Some(published) => Ok(published),
            None => Err(broadcast::error::RecvError::Lagged(0)),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut topics = self.hub.topics();
        // Our own receiver is still alive while this runs.
        if topics
            .get(&self.topic)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            topics.remove(&self.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::api::JobState;

    fn event(job: &str, device: &str) -> JobEvent {
        JobEvent {
            job_id: job.into(),
            device_id: device.into(),
            state: JobState::Pairing,
            reason: None,
            message: String::new(),
            at: crate::clock::now(),
        }
    }

    #[tokio::test]
    async fn events_reach_job_and_device_followers_and_channels_are_freed() {
        let hub = Arc::new(EventHub::default());
        let mut job = hub.subscribe(Topic::Job("j1".into()));
        let mut device = hub.subscribe(Topic::Device("ZM-1".into()));
        hub.publish(1, &event("j1", "ZM-1"));
        hub.publish(2, &event("j2", "ZM-1"));
        assert_eq!(job.recv().await.expect("job").seq, 1);
        assert_eq!(device.recv().await.expect("device").seq, 1);
        assert_eq!(device.recv().await.expect("device").seq, 2);
        assert_eq!(hub.len(), 2);
        drop(job);
        drop(device);
        assert_eq!(hub.len(), 0);
    }

    /// After the database's notifications were lost for a while, every
    /// follower is told to read the database, as after lagging behind.
    #[tokio::test]
    async fn word_of_missed_events_reaches_every_follower_as_a_lag() {
        let hub = Arc::new(EventHub::default());
        let mut job = hub.subscribe(Topic::Job("j1".into()));
        let mut device = hub.subscribe(Topic::Device("ZM-1".into()));
        hub.missed();
        hub.publish(3, &event("j1", "ZM-1"));
        for follower in [&mut job, &mut device] {
            assert!(matches!(
                follower.recv().await,
                Err(broadcast::error::RecvError::Lagged(_))
            ));
            assert_eq!(follower.recv().await.expect("then events").seq, 3);
        }
    }
}
