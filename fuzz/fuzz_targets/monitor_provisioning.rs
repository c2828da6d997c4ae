//! Arbitrary requests to a running monitor's provisioning API, in process:
//! signed by the station it trusts or not. Nothing panics, every answer
//! carries a `{code, message}` body, and a request the trusted station did
//! not sign exactly now — unsigned, signed by another key, altered after
//! signing, stale, or a replay — is refused with 401 and changes nothing:
//! not the state, not the wrong-attempt count, not an exchange under way.
//!
//! Input layout: byte 0 bit 0 whether the harness first starts a real
//! exchange (its own signed challenge), bits 1–3 the route (of
//! [`ROUTES`]), bits 4–7 how the request is signed (of [`SIGNINGS`]); the
//! rest is the body.

#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bedside_monitor::fuzzing::{self, Progress};
use bedside_monitor::{Monitor, MonitorConfig};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use tower::ServiceExt as _;
use zpair_proto::crypto;
use zpair_proto::device::{MonitorState, StationSignature};

const DEVICE: &str = "ZM-FUZZ-01";
const ROUTES: [&str; 5] = [
    "/provisioning/challenge",
    "/provisioning/configure",
    "/provisioning/commit",
    "/provisioning/command",
    "/provisioning/other",
];
/// Half the monitor's exchange timeout (120 s): an exchange younger than
/// this is never abandoned during one input.
const EXCHANGE_MAX_AGE: Duration = Duration::from_secs(60);
/// Largest answer read.
const ANSWER_LIMIT: usize = 1 << 20;

struct Harness {
    runtime: tokio::runtime::Runtime,
    monitor: Monitor,
    /// The station's provisioning key, which the monitor trusts.
    station: ed25519_dalek::SigningKey,
    /// Another key, which it does not.
    stranger: ed25519_dalek::SigningKey,
    /// When the monitor last showed a new code: every exchange under way
    /// started after it.
    rested_at: Mutex<Instant>,
}

fn harness() -> &'static Harness {
    static ONCE: OnceLock<Harness> = OnceLock::new();
    ONCE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = std::env::temp_dir().join(format!("zpair-fuzz-monitor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = MonitorConfig::new(&dir, DEVICE, "127.0.0.1".parse().expect("ip"));
        config.port = 0;
        // Nothing changes on its own during a run: codes and QRs last an hour.
        config.code_lifetime = Duration::from_secs(3600);
        config.qr_refresh = Duration::from_secs(3600);
        let monitor = runtime
            .block_on(Monitor::start(config))
            .expect("the monitor starts");
        let station = crypto::generate_signing_key().expect("key");
        monitor
            .trust_station(&crypto::public_key_text(&station.verifying_key()))
            .expect("trusts the station");
        Harness {
            runtime,
            monitor,
            station,
            stranger: crypto::generate_signing_key().expect("key"),
            rested_at: Mutex::new(Instant::now()),
        }
    })
}

impl Harness {
    /// A monitor showing its code, and no exchange older than
    /// [`EXCHANGE_MAX_AGE`], which the monitor could abandon in the
    /// background mid-check. (Showing a new code renders a QR, the costliest
    /// step here, so it is done only when needed.)
    fn at_rest(&self) {
        let progress = fuzzing::progress(&self.monitor);
        let mut rested_at = self.rested_at.lock().unwrap_or_else(|p| p.into_inner());
        if progress.state == MonitorState::ReadyToPair
            && (!progress.exchange_started || rested_at.elapsed() < EXCHANGE_MAX_AGE)
        {
            return;
        }
        *rested_at = Instant::now();
        self.runtime.block_on(async {
            let _ = self.monitor.cancel_provisioning().await;
            self.monitor
                .enter_provisioning_mode()
                .await
                .expect("provisioning mode");
        });
    }

    fn send(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let router = fuzzing::router(&self.monitor);
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("the router answers");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), ANSWER_LIMIT)
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
            (status, body)
        })
    }
}

fn request(path: &str, body: Vec<u8>, signed: Option<&StationSignature>) -> Request<Body> {
    let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in signed.map(StationSignature::headers).into_iter().flatten() {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body)).expect("request")
}

fn sign(
    key: &ed25519_dalek::SigningKey,
    path: &str,
    body: &[u8],
    at: OffsetDateTime,
) -> StationSignature {
    crypto::sign_station_request(key, DEVICE, "POST", path, body, at).expect("signed")
}

/// How the fuzzer's request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Station,
    Unsigned,
    Stranger,
    /// Signed by the station, then its body changed.
    Altered,
    /// Signed by the station for another route.
    OtherRoute,
    /// Signed by the station a minute ago.
    Stale,
    /// Sent twice; the second is judged.
    Replayed,
}

const SIGNINGS: [Signing; 7] = [
    Signing::Station,
    Signing::Unsigned,
    Signing::Stranger,
    Signing::Altered,
    Signing::OtherRoute,
    Signing::Stale,
    Signing::Replayed,
];

fuzz_target!(|data: &[u8]| {
    if let Some((flags, body)) = data.split_first() {
        run(harness(), *flags, body);
    }
});

fn run(harness: &Harness, flags: u8, body: &[u8]) {
    harness.at_rest();
    if flags & 1 == 1 {
        // An exchange under way: the station's own challenge, answered.
        let challenge = serde_json::json!({
            "deviceId": DEVICE,
            "challenge": zpair_proto::b64::encode(crypto::random_bytes::<32>().expect("random")),
        })
        .to_string()
        .into_bytes();
        let path = ROUTES[0];
        let signed = sign(
            &harness.station,
            path,
            &challenge,
            OffsetDateTime::now_utc(),
        );
        let (status, body) = harness.send(request(path, challenge, Some(&signed)));
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
    let path = ROUTES[usize::from(flags >> 1 & 0b111) % ROUTES.len()];
    let signing = SIGNINGS[usize::from(flags >> 4) % SIGNINGS.len()];
    let body = body.to_vec();
    let now = OffsetDateTime::now_utc();
    let signed = match signing {
        Signing::Station | Signing::Altered | Signing::Replayed => {
            Some(sign(&harness.station, path, &body, now))
        }
        Signing::Unsigned => None,
        Signing::Stranger => Some(sign(&harness.stranger, path, &body, now)),
        Signing::OtherRoute => Some(sign(
            &harness.station,
            "/provisioning/elsewhere",
            &body,
            now,
        )),
        Signing::Stale => Some(sign(
            &harness.station,
            path,
            &body,
            now - time::Duration::minutes(1),
        )),
    };
    let sent_body = if signing == Signing::Altered {
        let mut altered = body.clone();
        altered.push(b' ');
        altered
    } else {
        body.clone()
    };
    if signing == Signing::Replayed {
        harness.send(request(path, body.clone(), signed.as_ref()));
    }
    let before: Progress = fuzzing::progress(&harness.monitor);
    let (status, answer) = harness.send(request(path, sent_body, signed.as_ref()));
    let after = fuzzing::progress(&harness.monitor);

    if status != StatusCode::NOT_FOUND {
        let reply: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_else(|_| {
            panic!(
                "{path}: {status} not JSON: {}",
                String::from_utf8_lossy(&answer)
            )
        });
        if !status.is_success() {
            assert!(
                reply["code"].as_str().is_some_and(|c| !c.is_empty()),
                "{path}: {status} without a code: {reply}"
            );
        }
    }
    if signing != Signing::Station && path != ROUTES[4] {
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{signing:?} request to {path} was not refused"
        );
        assert_eq!(
            before, after,
            "{signing:?} request to {path} changed the monitor"
        );
    }
}
