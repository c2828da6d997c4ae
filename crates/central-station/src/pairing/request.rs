//! `POST /api/provisioning/pair`: checks the request in the order of
//! ARCHITECTURE.md's step 3 — role, code format, rate limits, registry, running job, the pairing
//! gate ([`super::gate`]), token reuse — then opens the job and answers `202` with its ID. The code and token
//! stay in memory for the job only; the database keeps neither (only the
//! token's SHA-256, to refuse it next time).

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;
use zpair_proto::PairingCode;
use zpair_proto::api::{ApiError, PairAccepted, PairRequest};
use zpair_proto::qr::PAIRING_TOKEN_BYTES;

use super::job::{self, Ticket};
use super::store::{self, NewJob, Opened};
use crate::accounts::TechnicianCaller;
use crate::audit::Source;
use crate::clock;
use crate::db::DbError;
use crate::http::{ApiJson, HttpError, checked_device_id};
use crate::state::AppState;

fn parse_token(text: &str) -> Result<Zeroizing<[u8; PAIRING_TOKEN_BYTES]>, HttpError> {
    zpair_proto::b64::decode_array::<PAIRING_TOKEN_BYTES>(text)
        .map(Zeroizing::new)
        .ok_or_else(|| {
            HttpError::InvalidRequest(
                "pairingToken is not a token from a monitor's QR code. Scan the QR code again."
                    .into(),
            )
        })
}

fn parse_address(text: &str) -> Result<IpAddr, HttpError> {
    let bad = || {
        HttpError::InvalidRequest(
            "ipAddress is not a monitor's address. Scan the QR code again, or type the code instead.".into(),
        )
    };
    let ip: IpAddr = text.parse().map_err(|_| bad())?;
    let unusable = ip.is_unspecified()
        || ip.is_multicast()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if unusable {
        return Err(bad());
    }
    Ok(ip)
}

fn new_job_id() -> Result<String, HttpError> {
    zpair_proto::crypto::random_bytes::<16>()
        .map(|b| crate::pki::hex(&b))
        .map_err(|e| HttpError::Internal(e.to_string()))
}

/// Pair a monitor (technicians).
///
/// Checks the code's format, the rate limits, the registry, a running job,
/// the pairing gate and token reuse, then starts a job that proves the code
/// to the monitor and pushes its signed, encrypted configuration; follow it
/// at `eventsUrl`. The pairing gate: only a monitor never paired or whose
/// last pairing failed (UNPROVISIONED, including re-admitted ones), or one
/// re-provisioned within the station's re-provisioning window (one
/// pairing), is paired.
#[utoipa::path(post, path = "/api/provisioning/pair", operation_id = "pair", tag = "provisioning",
    request_body = PairRequest, security(("bearerAuth" = ["technician"])),
    responses(
        (status = 202, description = "The job started.", body = PairAccepted),
        (status = 400, description = "`invalid_code`: the code is not `XXX-XXX-XXX` in the code alphabet.", body = ApiError),
        (status = 404, description = "`unknown_device`: not in the registry.", body = ApiError),
        (status = 409, description = "`token_replayed`: the QR code was used before; `pairing_in_progress`; \
            `reprovision_required`: the monitor is paired (or its re-provisioning window closed), re-provision it first; \
            `device_deprovisioned`: an administrator must re-admit it first.", body = ApiError),
        (status = 429, description = "`rate_limited`: too many pair requests for this monitor or by this technician in a minute.",
            body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ))]
pub(crate) async fn pair(
    State(state): State<AppState>,
    TechnicianCaller(caller): TechnicianCaller,
    source: Source,
    ApiJson(request): ApiJson<PairRequest>,
) -> Result<(StatusCode, Json<PairAccepted>), HttpError> {
    let device_id = checked_device_id(&request.device_id)?.to_owned();
    let code = PairingCode::parse(request.pairing_code.expose()).map_err(|e| {
        let mut message = e.to_string();
        if let Some(first) = message.get(..1) {
            message = first.to_uppercase() + message.get(1..).unwrap_or_default();
        }
        HttpError::InvalidCode(format!("{message}."))
    })?;
    let token = request
        .pairing_token
        .as_ref()
        .map(|token| parse_token(token.expose()))
        .transpose()?;
    let address = request
        .ip_address
        .as_deref()
        .map(parse_address)
        .transpose()?;
    let technician = caller.username().to_owned();
    let now = clock::now();
    if state.jobs().draining() {
        tracing::info!(%device_id, %technician, "pair request refused: the station is stopping");
        return Err(HttpError::Stopping);
    }

    let new = NewJob {
        job_id: new_job_id()?,
        owner: state.config().instance_id.clone(),
        device_id: device_id.clone(),
        technician: technician.clone(),
        source,
        token_hash: token.as_ref().map(|t| Sha256::digest(&t[..]).into()),
        at: now,
    };
    let job_id = new.job_id.clone();
    let scanned = token.is_some();
    let opened = open_and_start(&state, new, code, token, address)
        .await
        .map_err(|e| match e {
            DbError::Closed => HttpError::Stopping,
            other => other.into(),
        })?;
    match opened {
        Opened::Job { .. } => {}
        Opened::RateLimited(wait) => {
            tracing::info!(%device_id, %technician, "pair request rate limited");
            return Err(HttpError::RateLimited(wait));
        }
        Opened::UnknownDevice => {
            tracing::info!(%device_id, "pair request for an unregistered device");
            return Err(HttpError::UnknownDevice);
        }
        Opened::TokenReplayed => {
            tracing::warn!(%device_id, %technician, "a pairing token was presented again");
            return Err(HttpError::TokenReplayed);
        }
        Opened::Closed(closed) => {
            tracing::info!(%device_id, %technician, code = %closed.code(), "pair request refused by the pairing gate");
            return Err(closed.into());
        }
    };
    tracing::info!(%job_id, %device_id, %technician, scanned, "pairing job opened");
    Ok((
        StatusCode::ACCEPTED,
        Json(PairAccepted {
            events_url: format!("/api/provisioning/jobs/{job_id}/events"),
            job_id,
        }),
    ))
}

/// Opens the job in the database and, if it opened, announces and starts
/// it — in a task of its own, so all of it happens even if the request is
/// dropped meanwhile (the technician's app hung up, or gave up under load):
/// a job committed but never started would stay open, and its monitor's
/// pairing gate closed, until the station restarted. The task is one of
/// the station's jobs, so a stopping station waits for it too.
async fn open_and_start(
    state: &AppState,
    new: NewJob,
    code: PairingCode,
    token: Option<Zeroizing<[u8; PAIRING_TOKEN_BYTES]>>,
    address: Option<IpAddr>,
) -> Result<Opened, DbError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let owned = state.clone();
    let opening = async move {
        let job_id = new.job_id.clone();
        let limits = owned.config().rate_limits;
        let opened = owned
            .db()
            .call(move |c| store::open(c, &new, limits))
            .await?;
        if let Opened::Job { device, seq, event } = &opened {
            owned.stream_committed(*seq, event);
            let ticket = Ticket {
                job_id,
                device: (**device).clone(),
                code,
                token,
                address,
            };
            let live = ticket.job_id.clone();
            owned
                .jobs()
                .spawn_job(&live, job::run(owned.clone(), ticket));
        }
        Ok(opened)
    };
    state.jobs().spawn(async move {
        let _ = answer.send(opening.await);
    });
    // No answer: the station stopped its jobs before this one started.
    answered.await.map_err(|_| DbError::Closed)?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The technician's app hangs up while the job is being opened: the
    /// job, once committed, still runs to its end (here FAILED, no monitor
    /// answering), rather than staying open with its monitor's gate closed.
    #[tokio::test]
    async fn a_job_opened_for_a_request_that_was_dropped_still_runs() {
        let dir = tempfile::tempdir().expect("temp");
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let state = crate::state::testing::state(dir.path(), |config| {
            config.monitor_retry.attempts = 1;
            config.monitor_port = port;
        })
        .await;
        let key = zpair_proto::crypto::SigningKey::from_bytes(&[7; 32]);
        let record = zpair_proto::api::DeviceImport {
            record: zpair_proto::device::RegistrationRecord {
                device_id: "ZM-1".into(),
                device_serial: "SN-1".into(),
                identity_public_key: zpair_proto::crypto::public_key_text(&key.verifying_key()),
                firmware_version: "1.2.3".into(),
                // Nothing listens there (on the port above): the job fails at once.
                ip_address: Some("127.0.0.1".into()),
            },
            device_label: None,
            bed_id: None,
        };
        state
            .db()
            .call(move |c| {
                crate::registry::import(c, &[record], "admin", &Source::default())?;
                Ok(())
            })
            .await
            .expect("registered");
        let new = NewJob {
            job_id: "J1".into(),
            owner: crate::DEFAULT_INSTANCE_ID.into(),
            device_id: "ZM-1".into(),
            technician: "tech".into(),
            source: Source::default(),
            token_hash: None,
            at: clock::now(),
        };
        let code = PairingCode::parse("ABC-DEF-GHJ").expect("code");
        {
            let opening = std::pin::pin!(open_and_start(&state, new, code, None, None));
            // The job is being opened in the database; then the request goes.
            assert!(futures_util::poll!(opening).is_pending());
        }
        let mut ended = None;
        for _ in 0..200 {
            let state = state.db().call(|c| store::job_state(c, "J1")).await;
            if let Ok(Some(now)) = state
                && now.is_terminal()
            {
                ended = Some(now);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(ended, Some(zpair_proto::api::JobState::Failed));
    }

    #[test]
    fn tokens_and_addresses_are_checked() {
        assert!(parse_token("AAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert!(parse_token("AAAA").is_err());
        assert!(parse_token("not base64!").is_err());
        assert!(parse_address("127.0.0.2").is_ok());
        assert!(parse_address("fe80::1").is_ok());
        for bad in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "monitor.local",
            "",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}
