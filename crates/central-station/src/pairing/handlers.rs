//! Following jobs: `GET /api/provisioning/jobs/{id}`, its event stream, and
//! the live stream of one device's jobs. Each SSE event is `event: status`,
//! `id: <row id>`, `data: <JobEvent JSON>`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use zpair_proto::api::{ApiError, JobEvent, JobSummary};

use super::events::Subscription;
use super::{Topic, store};
use crate::accounts::Caller;
use crate::db::Db;
use crate::edge::streams::StreamSlot;
use crate::http::{ApiPath, HttpError};
use crate::openapi::{DevicePath, UNKNOWN_DEVICE};
use crate::registry;
use crate::state::AppState;

/// A comment line this often keeps proxies and clients from timing out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The 200 answer of an event stream.
const EVENT_STREAM: &str = "Server-sent events, each `data:` a JobEvent.";
/// Why an event stream answers 429.
const TOO_MANY_STREAMS: &str =
    "`too_many_streams`: this user already holds as many live event streams as allowed.";
/// Why a job route answers 404.
const UNKNOWN_JOB: &str = "`unknown_job`: no pairing job has this ID.";

/// The job a `/api/provisioning/jobs/{id}…` route reads.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only described: the handlers take the ID as a string
struct JobPath {
    /// The pairing job's ID (from the pair request's answer).
    id: String,
}

fn sse_event(seq: i64, event: &JobEvent) -> Event {
    Event::default()
        .event("status")
        .id(seq.to_string())
        .json_data(event)
        .unwrap_or_else(|_| Event::default().comment("unserialisable event"))
}

/// A pairing job with every step so far.
#[utoipa::path(get, path = "/api/provisioning/jobs/{id}", operation_id = "getJob", tag = "provisioning",
    params(JobPath), security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The job.", body = JobSummary),
        (status = 404, description = UNKNOWN_JOB, body = ApiError),
    ))]
pub(crate) async fn job_summary(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(job_id): ApiPath<String>,
) -> Result<Json<JobSummary>, HttpError> {
    let summary = state
        .db()
        .call(move |c| store::summary(c, &job_id))
        .await?
        .ok_or(HttpError::UnknownJob)?;
    Ok(Json(summary))
}

/// What a job stream still has to send.
struct JobStream {
    pending: VecDeque<(i64, JobEvent)>,
    subscription: Subscription,
    last: i64,
    done: bool,
    db: Db,
    job_id: String,
    device_id: String,
    /// Held while the stream lives: it counts against the user's cap.
    _slot: StreamSlot,
}

impl JobStream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if self.done {
                return None;
            }
            if let Some((seq, event)) = self.pending.pop_front() {
                if seq <= self.last {
                    continue;
                }
                self.last = seq;
                self.done = event.state.is_terminal();
                return Some((Ok(sse_event(seq, &event)), self));
            }
            match self.subscription.recv().await {
                Ok(published) => self.pending.push_back((published.seq, published.event)),
                Err(RecvError::Lagged(_)) => {
                    // Missed some: the database has them all.
                    let (job, device, last) =
                        (self.job_id.clone(), self.device_id.clone(), self.last);
                    match self
                        .db
                        .call(move |c| store::events_after(c, &job, &device, last))
                        .await
                    {
                        Ok(events) => self.pending.extend(events),
                        Err(_) => self.done = true,
                    }
                }
                Err(RecvError::Closed) => self.done = true,
            }
        }
    }
}

/// A pairing job's events, as server-sent events.
///
/// Every past event, then live ones; the stream ends after PROVISIONED or
/// FAILED, or when the bearer token expires or is revoked. Each event is
/// `event: status`, `id: <sequence>`, `data: <JobEvent JSON>`.
#[utoipa::path(get, path = "/api/provisioning/jobs/{id}/events", operation_id = "jobEvents", tag = "provisioning",
    params(JobPath), security(("bearerAuth" = [])),
    responses(
        (status = 200, description = EVENT_STREAM, body = String, content_type = "text/event-stream"),
        (status = 404, description = UNKNOWN_JOB, body = ApiError),
        (status = 429, description = TOO_MANY_STREAMS, body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
pub(crate) async fn job_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(job_id): ApiPath<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, HttpError> {
    let slot = state.streams().take(caller.user_id)?;
    // Subscribe first: whatever commits while the past is read is not missed.
    let subscription = state.hub().subscribe(Topic::Job(job_id.clone()));
    let id = job_id.clone();
    let store::History { device_id, events } = state
        .db()
        .call(move |c| store::history(c, &id))
        .await?
        .ok_or(HttpError::UnknownJob)?;
    let stream = JobStream {
        pending: events.into(),
        subscription,
        last: 0,
        done: false,
        db: state.db().clone(),
        job_id,
        device_id,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(stream, JobStream::next);
    Ok(
        Sse::new(state.revocations().bound(state.db(), caller, stream))
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)),
    )
}

/// A monitor's pairing events, live, as server-sent events.
///
/// Events of the device's jobs from now on, until the bearer token expires
/// or is revoked. Each event is `event: status`, `id: <sequence>`,
/// `data: <JobEvent JSON>`.
#[utoipa::path(get, path = "/api/devices/{id}/events", operation_id = "deviceEvents", tag = "devices",
    params(DevicePath), security(("bearerAuth" = [])),
    responses(
        (status = 200, description = EVENT_STREAM, body = String, content_type = "text/event-stream"),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
        (status = 429, description = TOO_MANY_STREAMS, body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
pub(crate) async fn device_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(device_id): ApiPath<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, HttpError> {
    let slot = state.streams().take(caller.user_id)?;
    let subscription = state.hub().subscribe(Topic::Device(device_id.clone()));
    state
        .db()
        .call(move |c| registry::store::get(c, &device_id))
        .await?
        .ok_or(HttpError::UnknownDevice)?;
    let live = (subscription, slot);
    let stream = futures_util::stream::unfold(live, |(mut subscription, slot)| async move {
        loop {
            match subscription.recv().await {
                Ok(p) => return Some((Ok(sse_event(p.seq, &p.event)), (subscription, slot))),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "a device event stream fell behind");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(
        Sse::new(state.revocations().bound(state.db(), caller, stream))
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)),
    )
}
