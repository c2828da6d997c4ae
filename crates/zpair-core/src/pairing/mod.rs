//! The pairing workflow (ARCHITECTURE.md steps 2–5): check locally, send the pair
//! request, follow the job to its end, reporting each step as it happens.

mod phase;

pub use phase::{Entry, NextAction, PairingPhase, next_action_for_code, next_action_for_failure};

use time::OffsetDateTime;
use zpair_proto::PairingCode;
use zpair_proto::api::{FailureReason, JobEvent, JobState, PairRequest};

use crate::client::ClientError;
use crate::error::{ErrorCode, UserFacing};
use crate::qr::{QrError, ScannedMonitor};
use crate::session::{SessionError, TechnicianSession};

/// Which monitor to pair, and how it was identified.
#[derive(Debug, Clone)]
pub enum PairTarget {
    /// From a validated QR code: carries the token and the monitor's address.
    Scanned(ScannedMonitor),
    /// Typed from the monitor's screen; the station uses the registry's address.
    Typed {
        /// The monitor's device ID.
        device_id: String,
        /// The code shown on the monitor.
        code: PairingCode,
    },
}

impl PairTarget {
    /// The monitor's device ID.
    pub fn device_id(&self) -> &str {
        match self {
            PairTarget::Scanned(m) => &m.device_id,
            PairTarget::Typed { device_id, .. } => device_id,
        }
    }

    /// Scanned or typed.
    pub fn entry(&self) -> Entry {
        match self {
            PairTarget::Scanned(_) => Entry::Scanned,
            PairTarget::Typed { .. } => Entry::Typed,
        }
    }

    fn request(&self) -> PairRequest {
        match self {
            PairTarget::Scanned(m) => PairRequest {
                device_id: m.device_id.clone(),
                pairing_code: m.code.display().into(),
                pairing_token: Some(zpair_proto::b64::encode(m.token.expose()).into()),
                ip_address: Some(m.ip_address.to_string()),
            },
            PairTarget::Typed { device_id, code } => PairRequest {
                device_id: device_id.clone(),
                pairing_code: code.display().into(),
                pairing_token: None,
                ip_address: None,
            },
        }
    }
}

/// One step of a pairing attempt, for live display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingProgress {
    /// The phase reached.
    pub phase: PairingPhase,
    /// What it means for the technician.
    pub message: String,
    /// When it was reached (the station's time for job steps).
    pub at: OffsetDateTime,
    /// The station's job, once there is one.
    pub job_id: Option<String>,
}

impl PairingProgress {
    /// The station's job state, for job steps.
    pub fn job_state(&self) -> Option<JobState> {
        self.phase.job_state()
    }
}

/// How a pairing job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingOutcome {
    /// The monitor is configured and connected.
    Provisioned {
        /// The station's job.
        job_id: String,
        /// The monitor.
        device_id: String,
    },
    /// The job ran and failed.
    Failed {
        /// The station's job.
        job_id: String,
        /// Why.
        reason: FailureReason,
        /// What happened and what to do (the seeds' error table).
        message: String,
        /// The next step, from [`next_action_for_failure`].
        next_action: NextAction,
    },
}

/// Why no pairing job ran to its end.
#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    /// The QR code failed the local checks (e.g. it expired meanwhile).
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The session, the station or the network refused or failed.
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl From<ClientError> for PairingError {
    fn from(e: ClientError) -> Self {
        PairingError::Session(SessionError::Client(e))
    }
}

impl UserFacing for PairingError {
    fn code(&self) -> ErrorCode {
        match self {
            PairingError::Qr(e) => e.code(),
            PairingError::Session(e) => e.code(),
        }
    }
}

impl PairingError {
    /// The next step for the technician, when the code implies one.
    pub fn next_action(&self, entry: Entry) -> Option<NextAction> {
        next_action_for_code(self.code(), entry)
    }
}

/// Pairs one monitor: checks the target locally, sends the pair request and
/// follows the job to PROVISIONED or FAILED, calling `on_event` for each step
/// in order (local steps first, then every job step once).
///
/// `Err` means no job ran to its end (refused locally or by the station, or
/// the network failed); a job that ran and failed is `Ok(Failed)`.
pub async fn pair(
    session: &TechnicianSession,
    target: PairTarget,
    mut on_event: impl FnMut(&PairingProgress),
) -> Result<PairingOutcome, PairingError> {
    let entry = target.entry();
    on_event(&local_step(PairingPhase::Checking, checking_message(entry)));
    match &target {
        PairTarget::Scanned(monitor) => {
            let now = OffsetDateTime::now_utc();
            if monitor.is_expired(now) {
                return Err(QrError::Expired {
                    expired_at: monitor.expires_at,
                }
                .into());
            }
        }
        PairTarget::Typed { device_id, .. } => crate::qr::check_device_id(device_id)?,
    }

    let mut current = PairingPhase::Submitting;
    on_event(&local_step(
        current,
        "Sending the pair request to the Central Station…",
    ));
    let request = target.request();
    let client = session.client();
    let accepted = session
        .authorized(|token| {
            let request = &request;
            async move { client.pair(&token, request).await }
        })
        .await?;
    let job_id = accepted.job_id;
    tracing::info!(job_id = %job_id, device_id = target.device_id(), "pair request accepted");

    let token = session.access_token().await?;
    let terminal = client
        .follow_job(&token, &job_id, |event: &JobEvent| {
            let phase = PairingPhase::from_job(event.state, event.reason);
            if !current.can_advance_to(phase) {
                tracing::warn!(job_id = %event.job_id, state = event.state.as_str(), "out-of-order job event ignored");
                return;
            }
            current = phase;
            on_event(&PairingProgress {
                phase,
                message: event.message.clone(),
                at: event.at,
                job_id: Some(event.job_id.clone()),
            });
        })
        .await?;

    Ok(
        match PairingPhase::from_job(terminal.state, terminal.reason) {
            PairingPhase::Failed(reason) => PairingOutcome::Failed {
                job_id,
                reason,
                message: reason.message().to_owned(),
                next_action: next_action_for_failure(reason, entry),
            },
            _ => PairingOutcome::Provisioned {
                job_id,
                device_id: terminal.device_id,
            },
        },
    )
}

fn checking_message(entry: Entry) -> &'static str {
    match entry {
        Entry::Scanned => "Checking the scanned QR code…",
        Entry::Typed => "Checking the device ID and pairing code…",
    }
}

fn local_step(phase: PairingPhase, message: &str) -> PairingProgress {
    PairingProgress {
        phase,
        message: message.to_owned(),
        at: OffsetDateTime::now_utc(),
        job_id: None,
    }
}
