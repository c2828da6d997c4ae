//! Arbitrary requests to every route of a running station, in process
//! (through its router, as the TLS accept loop hands them over): each must
//! get an answer, never a server error, and every refusal must carry the
//! stable `{code, message}` body the app and the CLI read.
//!
//! Input layout, simple enough to write seeds by hand: byte 0 the route (an
//! index into the station's own route table, so a new route is fuzzed
//! without touching this file); byte 1 who calls (0 nobody, 1 a technician,
//! 2 an administrator, 3 a monitor's certificate, 4 a forged token); byte 2
//! flags (bits 0–2: 5 GET, 6 POST, 7 DELETE instead of the route's method;
//! bits 3–4 what fills each `{param}`: the monitor, a user, the filler
//! percent-encoded or raw; bits 6–7 the content type: JSON, CSV, text,
//! none); then the filler, NUL, the query, NUL, and the body.
//!
//! The harness signs its technician and administrator in from its own
//! address, apart from the fuzzer's (192.0.2.x), so the fuzzer's failed
//! sign-ins cannot lock it out; when a request ends one of its sessions
//! (sign-out, sessions ended, account disabled), it signs in a new account.
//! Monitors stay on loopback: a request naming a monitor address anywhere
//! else (registering one, or in a pair request) is skipped, so no pairing
//! job ever connects off this machine.

#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use central_station::{ClientIdentity, DeviceImport, Role, Station, StationConfig};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;
use zpair_proto::device::RegistrationRecord;

/// The monitor every harness request can name.
const DEVICE: &str = "ZM-FUZZ-01";
const PASSWORD: &str = "fuzzing-password-1";
/// Where the harness's own requests come from.
const HARNESS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
/// Largest answer body read (event streams are never read: they do not end).
const ANSWER_LIMIT: usize = 1 << 20;

struct Harness {
    runtime: tokio::runtime::Runtime,
    station: Station,
    data_dir: std::path::PathBuf,
    routes: Vec<(Method, &'static str)>,
    tokens: Mutex<Tokens>,
}

#[derive(Default)]
struct Tokens {
    technician: String,
    administrator: String,
    accounts_made: u32,
}

fn harness() -> &'static Harness {
    static HARNESS_ONCE: OnceLock<Harness> = OnceLock::new();
    HARNESS_ONCE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let data_dir =
            std::env::temp_dir().join(format!("zpair-fuzz-station-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let mut config = StationConfig::new(data_dir.clone(), "127.0.0.1:0".parse().expect("addr"));
        // A port nothing listens on: pairing jobs fail fast as unreachable.
        config.monitor_port = {
            let socket = std::net::TcpListener::bind("127.0.0.2:0").expect("a free port");
            socket.local_addr().expect("its address").port()
        };
        let station = runtime
            .block_on(Station::start(config))
            .expect("the station starts");
        let identity = zpair_proto::crypto::generate_signing_key().expect("key");
        central_station::admin::import_devices(
            &data_dir,
            &central_station::db::Database::File,
            &[DeviceImport {
                record: RegistrationRecord {
                    device_id: DEVICE.into(),
                    device_serial: "SN-FUZZ-01".into(),
                    identity_public_key: zpair_proto::crypto::public_key_text(
                        &identity.verifying_key(),
                    ),
                    firmware_version: "1.0.0".into(),
                    ip_address: Some("127.0.0.2".into()),
                },
                device_label: None,
                bed_id: None,
            }],
        )
        .expect("the monitor is registered");
        let harness = Harness {
            runtime,
            station,
            data_dir,
            routes: central_station::route_table(),
            tokens: Mutex::new(Tokens::default()),
        };
        harness.renew(Role::Technician);
        harness.renew(Role::Administrator);
        harness
    })
}

impl Harness {
    /// Makes a fresh account with `role` and signs it in.
    fn renew(&self, role: Role) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.accounts_made += 1;
        let username = format!("fuzz-{}-{}", tokens.accounts_made, role_name(role));
        central_station::admin::create_user(
            &self.data_dir,
            &central_station::db::Database::File,
            &username,
            "Fuzz",
            role,
            PASSWORD,
        )
        .expect("account created");
        let body = serde_json::json!({ "username": username, "password": PASSWORD }).to_string();
        let mut request = Request::post("/api/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        request.extensions_mut().insert(ConnectInfo(HARNESS));
        let (status, body) = self.send(request, true);
        assert_eq!(
            status,
            StatusCode::OK,
            "the harness cannot sign in: {body:?}"
        );
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let token = answer["accessToken"]
            .as_str()
            .expect("accessToken")
            .to_owned();
        match role {
            Role::Administrator => tokens.administrator = token,
            _ => tokens.technician = token,
        }
    }

    /// Whether `token` still opens a session.
    fn valid(&self, token: &str) -> bool {
        let mut request = Request::get("/api/auth/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(ConnectInfo(HARNESS));
        self.send(request, true).0 == StatusCode::OK
    }

    /// Sends `request` to the router; the status, and the body when `read`.
    fn send(&self, request: Request<Body>, read: bool) -> (StatusCode, Vec<u8>) {
        let router = central_station::fuzzing::router(&self.station);
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("the router answers");
            let status = response.status();
            let body = if read {
                axum::body::to_bytes(response.into_body(), ANSWER_LIMIT)
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            (status, body)
        })
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Administrator => "admin",
        _ => "tech",
    }
}

/// One request the fuzzer chose.
struct Drafted {
    route: usize,
    request: Request<Body>,
    streams: bool,
}

/// Reads the input's layout (see the module's doc); `None` when it is too
/// short or makes no valid request line.
fn draft(harness: &Harness, data: &[u8]) -> Option<Drafted> {
    let ([route, caller, flags], rest) = data.split_first_chunk::<3>().map(|(h, r)| (*h, r))?;
    let mut parts = rest.splitn(3, |b| *b == 0);
    let filler = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default().to_vec();

    let route = usize::from(route) % harness.routes.len();
    let (method, template) = &harness.routes[route];
    let method = match flags & 0b111 {
        5 => Method::GET,
        6 => Method::POST,
        7 => Method::DELETE,
        _ => method.clone(),
    };
    let mut path = String::new();
    for segment in template.split('/').skip(1) {
        path.push('/');
        if segment.starts_with('{') {
            match (flags >> 3) & 0b11 {
                0 => path.push_str(DEVICE),
                1 => path.push_str("fuzz-1-tech"),
                2 => path.push_str(&percent_encode(&filler)),
                _ => path.push_str(&filler),
            }
        } else {
            path.push_str(segment);
        }
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    let tokens = harness.tokens.lock().unwrap_or_else(|p| p.into_inner());
    let authorization = match caller % 5 {
        1 => Some(format!("Bearer {}", tokens.technician)),
        2 => Some(format!("Bearer {}", tokens.administrator)),
        4 => Some(format!("Bearer {filler}")),
        _ => None,
    };
    drop(tokens);
    let monitor = caller % 5 == 3;
    let content_type = ["application/json", "text/csv", "text/plain", ""][usize::from(flags >> 6)];
    let mut request = Request::builder()
        .method(method)
        .uri(path.as_str())
        .body(Body::from(body))
        .ok()?;
    let headers = request.headers_mut();
    if let Some(value) = authorization.and_then(|a| a.parse().ok()) {
        headers.insert(header::AUTHORIZATION, value);
    }
    if !content_type.is_empty() {
        headers.insert(header::CONTENT_TYPE, content_type.parse().ok()?);
    }
    let peer = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 40000);
    request.extensions_mut().insert(ConnectInfo(peer));
    if monitor {
        request.extensions_mut().insert(ClientIdentity {
            device_id: DEVICE.into(),
            serial: "0badc0ffee".into(),
        });
    }
    Some(Drafted {
        route,
        streams: template.ends_with("/events"),
        request,
    })
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `body` may name a monitor address off this machine, which a
/// pairing job would connect to: an `ipAddress` anywhere in its JSON (any
/// case) that is not loopback, or the word at all in a body that is not
/// JSON (a CSV import's column).
fn leaves_loopback(body: &[u8]) -> bool {
    fn walk(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
                (key.eq_ignore_ascii_case("ipaddress")
                    && value.as_str().is_some_and(|text| {
                        !text
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                    }))
                    || walk(value)
            }),
            serde_json::Value::Array(items) => items.iter().any(walk),
            _ => false,
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => walk(&value),
        Err(_) => body
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"ipaddress")),
    }
}

fuzz_target!(|data: &[u8]| {
    let harness = harness();
    let Some(Drafted {
        route,
        request,
        streams,
    }) = draft(harness, data)
    else {
        return;
    };
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let body = harness
        .runtime
        .block_on(axum::body::to_bytes(body, usize::MAX))
        .expect("an in-memory body");
    if leaves_loopback(&body) {
        return;
    }
    check(
        harness,
        Request::from_parts(parts, Body::from(body)),
        &path,
        streams,
    );
    let template = harness.routes[route].1;

    // Sessions the request may have ended are replaced.
    let (technician, administrator) = {
        let tokens = harness.tokens.lock().unwrap_or_else(|p| p.into_inner());
        (tokens.technician.clone(), tokens.administrator.clone())
    };
    if template.starts_with("/api/users") || template.ends_with("/logout") {
        if !harness.valid(&technician) {
            harness.renew(Role::Technician);
        }
        if !harness.valid(&administrator) {
            harness.renew(Role::Administrator);
        }
    }
});

/// Sends one request: never a server error; a refusal carries its code.
fn check(harness: &Harness, request: Request<Body>, path: &str, streams: bool) {
    let (status, body) = harness.send(request, !streams);
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{path}: a server error: {}",
        String::from_utf8_lossy(&body)
    );
    if streams || !(status.is_client_error() || status.is_server_error()) {
        return;
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
        panic!(
            "{path}: {status} without a JSON body: {}",
            String::from_utf8_lossy(&body)
        )
    });
    assert!(
        answer["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{path}: {status} without a code: {answer}"
    );
}
