//! Job events over server-sent events: a pull-based stream, and the job
//! follower that resumes once after a dropped connection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use zpair_proto::api::JobEvent;

use super::error::ClientError;
use super::sse::{SseEvent, SseParser};
use super::{StationClient, Token};

/// Event names that carry a [`JobEvent`]; the station names them `status`,
/// and unnamed events are accepted too.
const JOB_EVENT_NAMES: [&str; 2] = ["status", "message"];

/// A subscription to job events (one job's, or every job of a device).
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
    url: reqwest::Url,
    /// When the last bytes arrived, keep-alive comments included.
    last_bytes: Instant,
}

impl EventStream {
    pub(super) fn new(response: reqwest::Response, url: reqwest::Url) -> Self {
        Self {
            response,
            parser: SseParser::new(),
            ready: VecDeque::new(),
            url,
            last_bytes: Instant::now(),
        }
    }

    /// How long since the station last sent anything, keep-alive comments
    /// included: a stream can be alive and still have no event to give, as
    /// while a job waits behind others for a slot.
    pub fn quiet_for(&self) -> Duration {
        self.last_bytes.elapsed()
    }

    /// The next job event, or `None` when the station ended the stream.
    ///
    /// Cancel-safe: the only await is for the next network chunk, and a
    /// chunk is parsed in full once received, so this can be raced against
    /// a timer in `tokio::select!` without losing events.
    pub async fn next(&mut self) -> Result<Option<JobEvent>, ClientError> {
        loop {
            while let Some(sse) = self.ready.pop_front() {
                if !JOB_EVENT_NAMES.contains(&sse.event.as_str()) {
                    continue;
                }
                return serde_json::from_str(&sse.data).map(Some).map_err(|e| {
                    ClientError::InvalidResponse {
                        detail: format!("a status event is not a job event: {e}"),
                    }
                });
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| ClientError::transport(&self.url, &e))?;
            let Some(chunk) = chunk else {
                return Ok(None);
            };
            self.last_bytes = Instant::now();
            let events = self
                .parser
                .push(&chunk)
                .map_err(|e| ClientError::InvalidResponse {
                    detail: e.to_string(),
                })?;
            self.ready.extend(events);
        }
    }
}

/// Why one subscription stopped before the job ended.
enum Stop {
    /// The connection dropped, stalled or ended early: worth resuming.
    Dropped(Option<ClientError>),
    /// The station refused or answered nonsense: resuming cannot help.
    Fatal(ClientError),
}

/// Events already delivered, so replays after a reconnection are dropped.
#[derive(Debug, Default)]
struct Delivered(Vec<JobEvent>);

impl Delivered {
    /// Delivers `event` unless it was delivered before; returns it when it
    /// ends the job.
    fn offer(&mut self, event: JobEvent, on_event: &mut impl FnMut(&JobEvent)) -> Option<JobEvent> {
        if self.0.contains(&event) {
            return None;
        }
        on_event(&event);
        let terminal = event.state.is_terminal().then(|| event.clone());
        self.0.push(event);
        terminal
    }
}

impl StationClient {
    /// Follows a pairing job until PROVISIONED or FAILED, calling `on_event`
    /// once per step, oldest first, and returns the terminal event.
    ///
    /// The station replays a job's past events on every subscription. If the
    /// stream drops, stalls for [`StationClient::stream_idle_timeout`] (no
    /// bytes at all: the station's keep-alive comments count, so a job that
    /// waits long for its turn is not taken for a lost stream) or ends
    /// early, the job is re-read with `GET /api/provisioning/jobs/{id}` and
    /// the stream subscribed once more; events seen before are not repeated.
    /// A second drop is [`ClientError::StreamLost`].
    pub async fn follow_job(
        &self,
        token: &(impl Token + ?Sized),
        job_id: &str,
        mut on_event: impl FnMut(&JobEvent),
    ) -> Result<JobEvent, ClientError> {
        let mut delivered = Delivered::default();
        let mut resumed = false;
        loop {
            match self
                .follow_subscription(token, job_id, &mut delivered, &mut on_event)
                .await
            {
                Ok(terminal) => return Ok(terminal),
                Err(Stop::Fatal(error)) => return Err(error),
                Err(Stop::Dropped(cause)) if resumed => {
                    tracing::warn!(job_id, cause = ?cause, "status stream lost twice");
                    return Err(ClientError::StreamLost);
                }
                Err(Stop::Dropped(cause)) => {
                    tracing::info!(job_id, cause = ?cause, "status stream dropped; resuming");
                    resumed = true;
                    let summary = self.job(token, job_id).await?;
                    for event in summary.events {
                        if let Some(terminal) = delivered.offer(event, &mut on_event) {
                            return Ok(terminal);
                        }
                    }
                }
            }
        }
    }

    async fn follow_subscription(
        &self,
        token: &(impl Token + ?Sized),
        job_id: &str,
        delivered: &mut Delivered,
        on_event: &mut impl FnMut(&JobEvent),
    ) -> Result<JobEvent, Stop> {
        let mut stream = match self.job_events(token, job_id).await {
            Ok(stream) => stream,
            Err(e @ (ClientError::Unreachable { .. } | ClientError::StreamLost)) => {
                return Err(Stop::Dropped(Some(e)));
            }
            Err(e) => return Err(Stop::Fatal(e)),
        };
        let idle = self.stream_idle_timeout();
        loop {
            let next = tokio::time::timeout(idle, stream.next()).await;
            match next {
                // Keep-alives arrived meanwhile: the station is there and
                // the job has not moved yet — or its event went astray on
                // the way. The job's record says which, and ends the wait
                // if the job has ended.
                Err(_) if stream.quiet_for() < idle => {
                    if let Ok(summary) = self.job(token, job_id).await {
                        for event in summary.events {
                            if let Some(terminal) = delivered.offer(event, on_event) {
                                return Ok(terminal);
                            }
                        }
                    }
                }
                Err(_) => return Err(Stop::Dropped(None)),
                Ok(Ok(None)) => return Err(Stop::Dropped(None)),
                Ok(Err(e @ ClientError::InvalidResponse { .. })) => return Err(Stop::Fatal(e)),
                Ok(Err(e)) => return Err(Stop::Dropped(Some(e))),
                Ok(Ok(Some(event))) => {
                    if event.job_id != job_id {
                        continue;
                    }
                    if let Some(terminal) = delivered.offer(event, on_event) {
                        return Ok(terminal);
                    }
                }
            }
        }
    }
}

/// How long a status stream may stay silent before it is treated as dropped.
pub(super) const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
