//! The pairing job, station → monitor (ARCHITECTURE.md step 4):
//!
//! 1. PAIRING — connect to the monitor (its TLS key pinned to the registry's
//!    identity key), send a fresh challenge, verify the identity signature
//!    over the challenge, the CSR and the one-time HPKE key;
//! 2. issue the client certificate from the CSR; CONFIGURING — sign the
//!    configuration with the provisioning key, seal it to the HPKE key, and
//!    send it with the MAC proving the pairing code (and token);
//! 3. VALIDATING — ask the monitor to commit. It prepares the commit and
//!    sends its connection test over the new certificate, which is its
//!    **proof of commit**: the heartbeat handler records PROVISIONED on it
//!    (the new certificate becomes current, the previous one is revoked) and
//!    only then does the monitor make its commit final (the fail-safe commit,
//!    see the monitor's `fail_safe` module);
//! 4. CONFIRMING — if the commit's answer is lost, the job waits for the
//!    proof until the window closes (the monitor's fail-safe and a margin),
//!    then fails `commit_unconfirmed`: the monitor rolled back by then.
//!
//! Any failure ends in FAILED with the reason the monitor gave (or
//! `monitor_unreachable`), and the certificate issued on the way is revoked.
//! Whichever path ends a job first (this task, the proof, the end of the
//! window, a restart) decides; the others find it ended. Every step is
//! committed to the database before it is streamed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use time::OffsetDateTime;

use zeroize::Zeroizing;
use zpair_proto::api::{FailureReason, JobState};
use zpair_proto::config::{CONFIGURATION_LIFETIME, ConfigurationPayload};
use zpair_proto::device::{
    CHALLENGE_BYTES, ChallengeRequest, ChallengeResponse, CommitRequest, ConfigureRequest,
    ConfigureResponse, MonitorState, PROOF_ATTEMPT_TIMEOUT,
};
use zpair_proto::qr::PAIRING_TOKEN_BYTES;
use zpair_proto::{PairingCode, b64, canonical, crypto};

use super::Topic;
use super::store::{self, Awaiting, Finish, STATION, Step, Written};
use crate::audit::{Entry, EventType};
use crate::clock;
use crate::monitor::{MonitorClient, MonitorError, MonitorTarget};
use crate::pki::{IssuedCertificate, PkiError};
use crate::registry::DeviceRow;
use crate::state::AppState;

/// How long past the monitor's own bound the station waits for the answer
/// to the commit: one more proof attempt.
const CONFIRM_MARGIN: Duration = PROOF_ATTEMPT_TIMEOUT;

/// What a job needs; the code and token live only here.
pub(crate) struct Ticket {
    pub(crate) job_id: String,
    pub(crate) device: DeviceRow,
    pub(crate) code: PairingCode,
    pub(crate) token: Option<Zeroizing<[u8; PAIRING_TOKEN_BYTES]>>,
    pub(crate) address: Option<IpAddr>,
}

/// Where in the exchange a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Before,
    Commit,
}

/// Why a job failed; `detail` is for the log and the audit row, never a secret.
#[derive(Debug)]
struct Failure {
    reason: FailureReason,
    detail: String,
    stage: Stage,
}

impl Failure {
    fn new(reason: FailureReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            stage: Stage::Before,
        }
    }

    fn monitor(e: MonitorError) -> Self {
        Self::new(e.reason(), e.to_string())
    }

    /// A fault on the station's own side: the job cannot go on, and nothing
    /// the technician did caused it; retrying is the advice.
    fn station(detail: impl std::fmt::Display) -> Self {
        Self::new(
            FailureReason::Interrupted,
            format!("station error: {detail}"),
        )
    }
}

/// Runs a job to its end.
pub(crate) async fn run(state: AppState, ticket: Ticket) {
    // The monitor timeouts start once the job has a slot (the semaphore is never closed).
    let slot = state.exchanges().acquire().await.ok();
    let mut issued = None;
    let outcome = match drive(&state, &ticket, &mut issued, slot).await {
        Ok(confirm_by) => {
            await_decision(&state, &ticket.job_id, confirm_by).await;
            Ok(())
        }
        Err(failure) => Err(failure),
    };
    let recorded = match outcome {
        Ok(()) => {
            tracing::info!(job_id = %ticket.job_id, device_id = %ticket.device.device_id, "pairing decided");
            Ok(())
        }
        Err(failure) => {
            tracing::info!(
                job_id = %ticket.job_id,
                device_id = %ticket.device.device_id,
                reason = %failure.reason.code(),
                detail = %failure.detail,
                "pairing failed"
            );
            fail(&state, &ticket, failure, issued).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(job_id = %ticket.job_id, error = %e, "could not record the job's outcome");
    }
}

/// Commits a step, re-signs the CRL if it revoked something, then streams
/// it: whoever sees the step sees the revocation enforced. A job another
/// path ended already is left as it is; the answer says whether it was.
async fn record(state: &AppState, step: Step) -> Result<bool, crate::db::DbError> {
    let written = write_and_stream(state, move |c| store::write(c, step)).await?;
    Ok(written.is_some())
}

/// [`record`] for a step of the job's own task: if the job ended elsewhere
/// meanwhile (another instance took it over when its lease ran out, the
/// window closed), the task stops here, before it acts on the monitor.
async fn advance(state: &AppState, step: Step) -> Result<(), Failure> {
    if record(state, step).await.map_err(Failure::station)? {
        Ok(())
    } else {
        Err(Failure::new(
            FailureReason::Interrupted,
            "the job was ended elsewhere (another instance took it over)",
        ))
    }
}

/// What a transaction that may commit a job step hands back: the step it
/// committed, if any, for [`write_and_stream`] to stream.
pub(crate) trait CommitsStep {
    /// The step committed, if one was.
    fn step(&self) -> Option<&Written>;
}

impl CommitsStep for Option<Written> {
    fn step(&self) -> Option<&Written> {
        self.as_ref()
    }
}

impl CommitsStep for store::Proof {
    fn step(&self) -> Option<&Written> {
        match self {
            Self::Recorded(written) | Self::TooLate(written) => Some(written),
            Self::AlreadyRecorded | Self::NotAwaited => None,
        }
    }
}

/// Runs `write`, then re-signs the CRL if the step it committed revoked
/// something and streams the step: whoever sees the step sees the
/// revocation enforced.
///
/// All of it runs in a task of its own, to its end even when the caller is
/// dropped half-way: a request handler is, when its client hangs up (a
/// monitor whose proof attempt timed out while the station was busy). Its
/// transaction commits on the database thread all the same, and a step
/// committed but never streamed leaves its followers waiting for an end
/// that already came.
pub(crate) async fn write_and_stream<R>(
    state: &AppState,
    write: impl FnOnce(&mut crate::db::Connection) -> Result<R, crate::db::DbError> + Send + 'static,
) -> Result<R, crate::db::DbError>
where
    R: CommitsStep + Send + 'static,
{
    let state = state.clone();
    let task = tokio::spawn(async move {
        let written = state.db().call(write).await?;
        if let Some(step) = written.step() {
            if step.revoked {
                state.revocations_changed().await;
            }
            state.stream_committed(step.seq, &step.event);
        }
        Ok(written)
    });
    task.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not stream a committed job step");
        Err(crate::db::DbError::Panicked)
    })
}

fn step(ticket: &Ticket, state: JobState, audits: Vec<Entry>) -> Step {
    let mut step = Step::new(
        &ticket.job_id,
        &ticket.device.device_id,
        state,
        clock::now(),
    );
    step.audits = audits;
    step
}

/// Waits until the job has ended — by the proof of commit, or by this
/// task closing its window at `confirm_by`. Runs for a job's own task and,
/// after a restart, for each job that had asked for the commit.
pub(crate) async fn await_decision(state: &AppState, job_id: &str, confirm_by: OffsetDateTime) {
    let mut events = state.hub().subscribe(Topic::Job(job_id.to_owned()));
    loop {
        let id = job_id.to_owned();
        match state.db().call(move |c| store::job_state(c, &id)).await {
            Ok(Some(now)) if !now.is_terminal() => {}
            Ok(_) => return,
            Err(e) => tracing::error!(job_id, error = %e, "cannot read the job's state"),
        }
        let left = confirm_by - clock::now();
        if !left.is_positive() {
            break;
        }
        let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
        // An event, a lagging or closed stream, or the end of the window:
        // each time the database says where the job stands.
        if tokio::time::timeout(left, events.recv())
            .await
            .is_ok_and(|r| r.is_err())
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let id = job_id.to_owned();
    let at = clock::now();
    match write_and_stream(state, move |c| store::window_closed(c, &id, at)).await {
        Ok(Some(_)) => {
            tracing::info!(
                job_id,
                "no proof of commit within the window: the pairing failed"
            );
        }
        Ok(None) => {}
        Err(e) => tracing::error!(job_id, error = %e, "cannot close the job's window"),
    }
}

fn audit(ticket: &Ticket, event: EventType) -> Entry {
    Entry::ok(event, &ticket.device.device_id)
        .by(STATION)
        .job(&ticket.job_id)
}

/// Runs the exchange with the monitor up to the commit. `Ok` is the end of
/// the window in which the proof of commit decides the job; the certificate
/// issued is then the proof's to settle, no longer this task's to revoke.
///
/// `slot` is the job's exchange turn. It is given back once the
/// configuration is pushed: the commit's answer waits for the monitor's
/// proof of commit, as long as the fail-safe window, and a job waiting for
/// a decision must not keep the jobs queued behind it waiting too (under
/// load, such jobs held every turn).
async fn drive(
    state: &AppState,
    ticket: &Ticket,
    issued: &mut Option<String>,
    slot: Option<tokio::sync::SemaphorePermit<'_>>,
) -> Result<OffsetDateTime, Failure> {
    let device = &ticket.device;
    let device_id = device.device_id.as_str();

    // 1. Reach the monitor and check who it is.
    let address = ticket.address.or_else(|| device.address()).ok_or_else(|| {
        Failure::new(
            FailureReason::MonitorUnreachable,
            "no address: the request had none and the registry has none",
        )
    })?;
    let identity = crypto::parse_public_key(&device.identity_public_key).map_err(|_| {
        Failure::new(
            FailureReason::SignatureInvalid,
            "registry identity key unreadable",
        )
    })?;
    let target = MonitorTarget {
        device_id,
        identity_key: identity.to_bytes(),
        address: SocketAddr::new(address, state.config().monitor_port),
    };
    let client = MonitorClient::new(target, state.provisioning_key()).map_err(Failure::monitor)?;
    let challenge = crypto::random_bytes::<CHALLENGE_BYTES>().map_err(Failure::station)?;
    // A challenge is safe to repeat however far the last one got: the
    // monitor's newest challenge replaces its exchange, and nothing is
    // counted or staged before the configure step.
    let asked = ChallengeRequest {
        device_id: device_id.to_owned(),
        challenge: b64::encode(challenge),
    };
    let answer: ChallengeResponse = with_retries(
        state,
        ticket,
        JobState::Pairing,
        |_| true,
        || client.post("/provisioning/challenge", &asked),
    )
    .await?;
    if answer.device_id != device_id {
        return Err(Failure::new(
            FailureReason::SignatureInvalid,
            "the monitor answered for another device ID",
        ));
    }
    let hpke_key = b64::decode_array::<32>(&answer.hpke_public_key)
        .ok_or_else(|| Failure::new(FailureReason::SignatureInvalid, "malformed HPKE key"))?;
    let signed = canonical::challenge_response(device_id, &challenge, &answer.csr_pem, &hpke_key);
    crypto::verify(&identity, &signed, &answer.signature).map_err(|_| {
        Failure::new(
            FailureReason::SignatureInvalid,
            "the challenge response is not signed by the registered identity key",
        )
    })?;

    // 2. Issue the certificate and push the configuration.
    let now = clock::now();
    let certificate: IssuedCertificate = state
        .ca()
        .issue_client(
            &answer.csr_pem,
            device_id,
            now,
            state.config().client_certificate_lifetime,
        )
        .map_err(|e| match e {
            PkiError::BadCsr => Failure::new(
                FailureReason::CertificateInvalid,
                "the monitor's CSR is invalid",
            ),
            other => Failure::station(other),
        })?;
    *issued = Some(certificate.serial.clone());
    let mut configuring = step(
        ticket,
        JobState::Configuring,
        vec![
            audit(ticket, EventType::MonitorIdentityVerified),
            audit(ticket, EventType::CertificateIssued),
        ],
    );
    configuring.certificate = Some(certificate.clone());
    advance(state, configuring).await?;

    let payload = ConfigurationPayload {
        server_url: state.public_url().to_owned(),
        ca_certificate: state.ca().pem().to_owned(),
        client_certificate: certificate.pem,
        device_id: device_id.to_owned(),
        device_label: device.device_label.clone(),
        bed_id: device.bed_id.clone(),
        timestamp: now,
        expires_at: now + CONFIGURATION_LIFETIME,
    };
    let configuration_hash = crypto::sha256_hex(&canonical::configuration(&payload));
    let signed = crypto::sign_configuration(state.provisioning_key(), payload);
    let plaintext = Zeroizing::new(serde_json::to_vec(&signed).map_err(Failure::station)?);
    let sealed = crypto::seal(&hpke_key, device_id, &plaintext).map_err(|_| {
        Failure::new(
            FailureReason::SignatureInvalid,
            "the monitor's HPKE key is unusable",
        )
    })?;
    let token = ticket.token.as_ref().map(|t| &t[..]);
    let key = crypto::pairing_key(&ticket.code, token);
    let request = ConfigureRequest {
        device_id: device_id.to_owned(),
        challenge: b64::encode(challenge),
        token_id: token.map(crypto::token_id),
        proof: crypto::pairing_proof(&key, device_id, &challenge),
        encapped_key: b64::encode(&sealed.encapped_key),
        ciphertext: b64::encode(&sealed.ciphertext),
        fail_safe_seconds: u32::try_from(state.config().fail_safe.as_secs()).unwrap_or(u32::MAX),
    };
    // The monitor arms its fail-safe when this arrives, so the station's
    // window, counted from before it is sent, closes first: past the
    // monitor's deadline, the station has always decided.
    let confirm_by = clock::now() + clock::span(state.config().fail_safe);
    // The configure step is repeated only when it never reached the
    // monitor: one that arrived has spent the exchange (and, with a wrong
    // code, an attempt), so its lost answer is final.
    let _staged: ConfigureResponse = with_retries(
        state,
        ticket,
        JobState::Configuring,
        MonitorError::never_sent,
        || client.post("/provisioning/configure", &request),
    )
    .await?;
    // The monitor answers the commit once its proof is decided; past its
    // deadline it keeps asking for the decision as long again.
    let answer_within = state.config().fail_safe * 2 + CONFIRM_MARGIN;
    let mut validating = step(
        ticket,
        JobState::Validating,
        vec![
            audit(ticket, EventType::PairingCodeValidated),
            audit(ticket, EventType::ConfigurationReceived).configuration(&configuration_hash),
            audit(ticket, EventType::ConfigurationApplied).configuration(&configuration_hash),
        ],
    );
    validating.awaiting = Some(Awaiting {
        confirm_by,
        configuration_hash,
        monitor_address: Some(address.to_string()),
    });
    advance(state, validating).await?;

    drop(slot);

    // 3. The monitor prepares the commit and sends its proof of commit; the
    //    heartbeat handler records PROVISIONED on it, then the monitor answers.
    let committed: Result<ConfigureResponse, MonitorError> = client
        .post_within(
            "/provisioning/commit",
            &CommitRequest {
                device_id: device_id.to_owned(),
                challenge: b64::encode(challenge),
            },
            answer_within,
        )
        .await;
    match committed {
        Ok(answer) if answer.state == MonitorState::Provisioned => {}
        Ok(answer) => {
            return Err(Failure {
                stage: Stage::Commit,
                ..Failure::new(
                    FailureReason::ConnectionTestFailed,
                    format!(
                        "the monitor reported {:?} after its connection test",
                        answer.state
                    ),
                )
            });
        }
        // The monitor's own word: it rolled back.
        Err(e @ MonitorError::Refused { .. }) => {
            rolled_back_after_proof(state, ticket).await;
            return Err(Failure {
                stage: Stage::Commit,
                ..Failure::monitor(e)
            });
        }
        // No word: the monitor may have committed. Its proof decides.
        Err(e) => {
            tracing::info!(job_id = %ticket.job_id, error = %e, "the commit's answer was lost; confirming with the monitor");
            advance(state, step(ticket, JobState::Confirming, Vec::new())).await?;
        }
    }
    *issued = None;
    Ok(confirm_by)
}

/// Runs `call` until it succeeds, fails for good, or the station's retry
/// policy is spent. A failure is retried only when the network failed
/// (never a refusal or a failed check) and `safe` says repeating this
/// request cannot make the monitor act twice. Each retry is a step of the
/// job (in `state`, with the attempt it starts) and an audit row.
async fn with_retries<T, F, Fut>(
    state: &AppState,
    ticket: &Ticket,
    step_state: JobState,
    safe: fn(&MonitorError) -> bool,
    mut call: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, MonitorError>>,
{
    let policy = state.config().monitor_retry;
    let mut attempt = 1;
    loop {
        let error = match call().await {
            Ok(answer) => return Ok(answer),
            Err(e) => e,
        };
        if attempt >= policy.attempts || !error.is_transient() || !safe(&error) {
            return Err(Failure::monitor(error));
        }
        attempt += 1;
        tracing::info!(
            job_id = %ticket.job_id,
            device_id = %ticket.device.device_id,
            attempt,
            error = %error,
            "the monitor did not answer; retrying"
        );
        let mut retry = step(
            ticket,
            step_state,
            vec![
                Entry::failed(
                    EventType::MonitorContactRetried,
                    &ticket.device.device_id,
                    format!(
                        "attempt {} of {} failed: {error}",
                        attempt - 1,
                        policy.attempts
                    ),
                )
                .by(STATION)
                .job(&ticket.job_id),
            ],
        );
        retry.note = Some(
            format!(
                "The monitor did not answer; trying again ({attempt} of {}).",
                policy.attempts
            )
            .into(),
        );
        advance(state, retry).await?;
        tokio::time::sleep(policy.wait_before(attempt)).await;
    }
}

/// A monitor that says it rolled back although the station recorded its
/// proof gave up in doubt (it could not hear the answer for twice its
/// fail-safe): the job stays as recorded, and the device is raised so a
/// person pairs it again.
async fn rolled_back_after_proof(state: &AppState, ticket: &Ticket) {
    let job_id = ticket.job_id.clone();
    let device_id = ticket.device.device_id.clone();
    let raised = state
        .db()
        .call(move |c| {
            if store::job_state(c, &job_id)? != Some(JobState::Provisioned) {
                return Ok(false);
            }
            store::raise_alert(
                c,
                &device_id,
                "The monitor rolled back a pairing the Central Station had recorded: it is not connected with its new certificate. Pair it again.",
                "rolled back after the proof of commit",
                clock::now(),
            )
        })
        .await;
    match raised {
        Ok(true) => {
            tracing::error!(job_id = %ticket.job_id, "the monitor rolled back a recorded pairing")
        }
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "cannot raise the rolled-back alert"),
    }
}

/// Records the failure: FAILED with its reason, the issued certificate revoked.
async fn fail(
    state: &AppState,
    ticket: &Ticket,
    failure: Failure,
    issued: Option<String>,
) -> Result<(), crate::db::DbError> {
    let device_id = &ticket.device.device_id;
    let error = format!("{}: {}", failure.reason.code(), failure.detail);
    let mut audits = Vec::new();
    if failure.stage == Stage::Commit {
        audits.push(
            Entry::failed(
                EventType::ConnectionTested,
                device_id,
                failure.reason.code().as_str(),
            )
            .by(STATION)
            .job(&ticket.job_id),
        );
    }
    audits.push(
        Entry::failed(EventType::ProvisioningFailed, device_id, error)
            .by(STATION)
            .job(&ticket.job_id),
    );
    let mut failed = step(ticket, JobState::Failed, audits);
    failed.reason = Some(failure.reason);
    failed.finish = Some(Finish::Failed { revoke: issued });
    record(state, failed).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;
    use zpair_proto::api::JobEvent;

    /// The heartbeat handler that records a proof of commit is dropped when
    /// the monitor hangs up (its attempt timed out under load). Dropped
    /// while its transaction waits for the database thread, or while the
    /// CRL is re-signed after the commit, the step it commits must still
    /// reach the job's followers, or the technician waits for an end that
    /// already came (the bench's ten thousand at once found the first: a
    /// few pairings ended on the client's 60 s idle check).
    #[tokio::test]
    async fn a_committed_step_is_streamed_even_when_its_writer_is_dropped_half_way() {
        if crate::db::testing::sqlite_only(
            "the step's direct publication; on PostgreSQL the commit's notification carries it \
             (tests/station/instances.rs)",
        ) {
            return;
        }
        let dir = tempfile::tempdir().expect("temp");
        let state = testing::state(dir.path(), |_| {}).await;
        for (seq, revoked) in [(7, false), (8, true)] {
            let job_id = format!("J{seq}");
            let mut followers = state.hub().subscribe(Topic::Job(job_id.clone()));
            let written = Written {
                seq,
                event: JobEvent {
                    job_id,
                    device_id: "ZM-1".into(),
                    state: JobState::Failed,
                    reason: Some(FailureReason::CommitUnconfirmed),
                    message: String::new(),
                    at: clock::now(),
                },
                revoked,
            };
            // The transaction is still running on the database thread (or,
            // with a revocation, the CRL is being re-signed after it) when
            // the caller goes.
            let (started, running) = tokio::sync::oneshot::channel();
            let (finish, finished) = std::sync::mpsc::channel::<()>();
            {
                let writing = std::pin::pin!(write_and_stream(&state, move |_| {
                    let _ = started.send(());
                    let _ = finished.recv_timeout(Duration::from_secs(10));
                    Ok(Some(written))
                }));
                assert!(futures_util::poll!(writing).is_pending());
                running.await.expect("the transaction started");
            }
            finish.send(()).expect("the transaction waits");
            let heard = tokio::time::timeout(Duration::from_secs(10), followers.recv())
                .await
                .expect("the step was streamed")
                .expect("an event");
            assert_eq!(heard.seq, seq);
            assert_eq!(heard.event.state, JobState::Failed);
        }
    }
}
