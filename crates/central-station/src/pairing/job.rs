//! The pairing job, station → monitor (DESIGN.md step 4):
//!
//! 1. PAIRING — connect to the monitor (its TLS key pinned to the registry's
//!    identity key), send a fresh challenge, verify the identity signature
//!    over the challenge, the CSR and the one-time HPKE key;
//! 2. issue the client certificate from the CSR; CONFIGURING — sign the
//!    configuration with the provisioning key, seal it to the HPKE key, and
//!    send it with the MAC proving the pairing code (and token);
//! 3. VALIDATING — ask the monitor to commit: it runs its mTLS connection test
//!    against this station with the new certificate;
//! 4. PROVISIONED — the new certificate becomes current, the previous one is
//!    revoked.
//!
//! Any failure ends in FAILED with the reason the monitor gave (or
//! `monitor_unreachable`), and the certificate issued on the way is revoked.
//! Every step is committed to the database before it is streamed.

use std::net::{IpAddr, SocketAddr};

use zeroize::Zeroizing;
use zpair_proto::api::{FailureReason, JobState};
use zpair_proto::config::{CONFIGURATION_LIFETIME, ConfigurationPayload};
use zpair_proto::device::{
    CHALLENGE_BYTES, ChallengeRequest, ChallengeResponse, CommitRequest, ConfigureRequest,
    ConfigureResponse, MonitorState,
};
use zpair_proto::qr::PAIRING_TOKEN_BYTES;
use zpair_proto::{PairingCode, b64, canonical, crypto};

use super::store::{self, Finish, STATION, Step};
use crate::audit::{Entry, EventType};
use crate::clock;
use crate::monitor::{MonitorClient, MonitorError};
use crate::pki::{IssuedCertificate, PkiError};
use crate::registry::DeviceRow;
use crate::state::AppState;

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
    let _slot = state.exchanges().acquire().await.ok();
    let mut issued = None;
    let outcome = drive(&state, &ticket, &mut issued).await;
    let recorded = match outcome {
        Ok(()) => {
            tracing::info!(job_id = %ticket.job_id, device_id = %ticket.device.device_id, "monitor provisioned");
            Ok(())
        }
        Err(failure) => {
            tracing::info!(
                job_id = %ticket.job_id,
                device_id = %ticket.device.device_id,
                reason = failure.reason.code(),
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
/// it: whoever sees the step sees the revocation enforced.
async fn record(state: &AppState, step: Step) -> Result<(), crate::db::DbError> {
    let written = state.db().call(move |c| store::write(c, step)).await?;
    if written.revoked {
        state.revocations_changed().await;
    }
    state.hub().publish(written.seq, &written.event);
    Ok(())
}

fn step(ticket: &Ticket, state: JobState, audits: Vec<Entry>) -> Step {
    Step {
        job_id: ticket.job_id.clone(),
        device_id: ticket.device.device_id.clone(),
        state,
        reason: None,
        at: clock::now(),
        audits,
        certificate: None,
        finish: None,
    }
}

fn audit(ticket: &Ticket, event: EventType) -> Entry {
    Entry::ok(event, &ticket.device.device_id)
        .by(STATION)
        .job(&ticket.job_id)
}

async fn drive(
    state: &AppState,
    ticket: &Ticket,
    issued: &mut Option<String>,
) -> Result<(), Failure> {
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
    let client = MonitorClient::new(
        identity.to_bytes(),
        SocketAddr::new(address, state.config().monitor_port),
    )
    .map_err(Failure::monitor)?;
    let challenge = crypto::random_bytes::<CHALLENGE_BYTES>().map_err(Failure::station)?;
    let answer: ChallengeResponse = client
        .post(
            "/provisioning/challenge",
            &ChallengeRequest {
                device_id: device_id.to_owned(),
                challenge: b64::encode(challenge),
            },
        )
        .await
        .map_err(Failure::monitor)?;
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
        .issue_client(&answer.csr_pem, device_id, now)
        .map_err(|e| match e {
        PkiError::BadCsr => Failure::new(
            FailureReason::CertificateInvalid,
            "the monitor's CSR is invalid",
        ),
        other => Failure::station(other),
    })?;
    *issued = Some(certificate.serial.clone());
    let serial = certificate.serial.clone();
    let mut configuring = step(
        ticket,
        JobState::Configuring,
        vec![
            audit(ticket, EventType::MonitorIdentityVerified),
            audit(ticket, EventType::CertificateIssued),
        ],
    );
    configuring.certificate = Some(certificate.clone());
    record(state, configuring).await.map_err(Failure::station)?;

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
    };
    let _staged: ConfigureResponse = client
        .post("/provisioning/configure", &request)
        .await
        .map_err(Failure::monitor)?;
    record(
        state,
        step(
            ticket,
            JobState::Validating,
            vec![
                audit(ticket, EventType::PairingCodeValidated),
                audit(ticket, EventType::ConfigurationReceived).configuration(&configuration_hash),
                audit(ticket, EventType::ConfigurationApplied).configuration(&configuration_hash),
            ],
        ),
    )
    .await
    .map_err(Failure::station)?;

    // 3. The monitor tests its new connection, then commits.
    let committed: ConfigureResponse = client
        .post(
            "/provisioning/commit",
            &CommitRequest {
                device_id: device_id.to_owned(),
                challenge: b64::encode(challenge),
            },
        )
        .await
        .map_err(|e| Failure {
            stage: Stage::Commit,
            ..Failure::monitor(e)
        })?;
    if committed.state != MonitorState::Provisioned {
        return Err(Failure {
            stage: Stage::Commit,
            ..Failure::new(
                FailureReason::ConnectionTestFailed,
                format!(
                    "the monitor reported {:?} after its connection test",
                    committed.state
                ),
            )
        });
    }

    // 4. Done.
    let mut provisioned = step(
        ticket,
        JobState::Provisioned,
        vec![
            audit(ticket, EventType::ConnectionTested),
            audit(ticket, EventType::ProvisioningCompleted).configuration(&configuration_hash),
        ],
    );
    provisioned.finish = Some(Finish::Provisioned {
        serial,
        server_url: state.public_url().to_owned(),
        address: Some(address.to_string()),
    });
    record(state, provisioned).await.map_err(Failure::station)?;
    *issued = None;
    Ok(())
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
                failure.reason.code(),
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
    record(state, failed).await
}
