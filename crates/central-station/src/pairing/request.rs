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
use zpair_proto::ErrorCode;
use zpair_proto::PairingCode;
use zpair_proto::api::{ApiError, PairAccepted, PairRequest};
use zpair_proto::qr::PAIRING_TOKEN_BYTES;

use super::job::{self, Ticket};
use super::store::{self, NewJob, Opened};
use crate::accounts::TechnicianCaller;
use crate::audit::Source;
use crate::clock;
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

    if let Err(wait) = state.limiter().admit(&device_id, &technician) {
        let (d, t) = (device_id.clone(), technician.clone());
        state
            .db()
            .call(move |c| store::refuse(c, &d, &t, &source, ErrorCode::RateLimited, now))
            .await?;
        tracing::info!(%device_id, %technician, "pair request rate limited");
        return Err(HttpError::RateLimited(wait));
    }

    let new = NewJob {
        job_id: new_job_id()?,
        device_id: device_id.clone(),
        technician: technician.clone(),
        source,
        token_hash: token.as_ref().map(|t| Sha256::digest(&t[..]).into()),
        at: now,
    };
    let job_id = new.job_id.clone();
    let opened = state.db().call(move |c| store::open(c, &new)).await?;
    let (device, seq, event) = match opened {
        Opened::Job { device, seq, event } => (device, seq, event),
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
    state.hub().publish(seq, &event);
    tracing::info!(%job_id, %device_id, %technician, scanned = token.is_some(), "pairing job opened");
    state.jobs().spawn(job::run(
        state.clone(),
        Ticket {
            job_id: job_id.clone(),
            device: *device,
            code,
            token,
            address,
        },
    ));
    Ok((
        StatusCode::ACCEPTED,
        Json(PairAccepted {
            events_url: format!("/api/provisioning/jobs/{job_id}/events"),
            job_id,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
