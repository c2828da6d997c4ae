//! The station against its own API document, as an OpenAPI-driven fuzzer
//! tests it: for every operation the served document lists, requests are
//! generated from the document's schemas — valid ones, and ones that break
//! a constraint — and sent over real HTTPS to a running station. Every
//! answer must have a status the document lists for the operation and a
//! body its schema validates; a valid request must not be refused as
//! malformed (400), and an invalid one must not succeed.
//!
//! Bounded for CI: `ZPAIR_CONFORMANCE_CASES` valid and as many broken
//! requests per operation (default 12), from a fixed seed
//! (`ZPAIR_CONFORMANCE_SEED`, a number, explores others). Nothing generated
//! makes the station connect off this machine: address formats are
//! generated on loopback, registered monitors are on loopback, and every
//! body is checked for it before it is sent.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{Union, ValueTree as _};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zpair_proto::api::{PairAccepted, Role};

use crate::support::schema::Document;
use crate::support::{ADMIN, TECH, TECH2, TestStation, record};

/// Monitors registered before the run, on loopback, so generated requests
/// also reach the answers of known devices.
const DEVICES: [(&str, &str); 2] = [("ZM-OAS-1", "127.0.0.21"), ("ZM-OAS-2", "127.0.0.22")];
/// An account the administrator operations may disable and end, so they
/// never touch the sessions the run relies on.
const SPARE_USER: &str = "oas-user";

/// One part of a generated request.
#[derive(Debug, Clone)]
enum Part {
    Path(String, String),
    Query(String, Option<String>),
    Body(Value),
}

/// A generated request.
#[derive(Debug)]
struct Request {
    /// The operation's path template.
    template: String,
    /// The path parameters, as generated (before percent-encoding).
    path_values: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl Request {
    /// The URL under `base`, each parameter percent-encoded (a `/` in a
    /// value stays in its segment).
    fn url(&self, base: &str) -> reqwest::Url {
        let mut url: reqwest::Url = base.parse().expect("the station's URL");
        url.path_segments_mut().expect("a base URL").clear().extend(
            self.template
                .trim_start_matches('/')
                .split('/')
                .map(|segment| {
                    self.path_values
                        .iter()
                        .find(|(name, _)| format!("{{{name}}}") == segment)
                        .map_or(segment, |(_, value)| value.as_str())
                }),
        );
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        url
    }

    /// The request's path, as the station receives it.
    fn path(&self) -> String {
        self.url("https://station.invalid/").path().to_owned()
    }
}

/// What the run knows that the document cannot say: which values name
/// things that exist.
struct Pools {
    devices: Vec<String>,
    jobs: Vec<String>,
    users: Vec<String>,
}

impl Pools {
    fn for_parameter(&self, path: &str, name: &str) -> Option<&[String]> {
        match name {
            "username" => Some(&self.users),
            "id" if path.starts_with("/api/devices/") => Some(&self.devices),
            "id" if path.starts_with("/api/provisioning/jobs/") => Some(&self.jobs),
            _ => None,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_as_the_document_says() {
    let cases: usize = env_number("ZPAIR_CONFORMANCE_CASES").unwrap_or(12);
    let seed: u64 = env_number("ZPAIR_CONFORMANCE_SEED").unwrap_or(20_241_125);
    let station = TestStation::start().await;
    let pools = prepare(&station).await;
    let served = station
        .call(Method::GET, "/api/openapi.json", None, None::<&()>)
        .await;
    let doc = Document::new(serde_json::from_str(&served.body).expect("the document is JSON"));
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let static_paths: BTreeSet<String> = doc.root["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| !p.contains('{'))
        .cloned()
        .collect();

    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let plain = station.client();
    // Sign-ins from addresses of their own: the generated ones fail, and
    // their backoff must not reach the run's own sign-ins.
    let sign_in_client = station.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 31)));
    let throwaway_client = station.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 32)));
    let mut failures = Vec::new();
    let mut summary = String::new();
    for (template, item) in doc.root["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("a method");
            let id = operation["operationId"].as_str().unwrap_or("?").to_owned();
            let mut seen = BTreeSet::new();
            let mut judged = [0; 2];
            for broken in [false, true] {
                let strategy = requests(&doc, template, operation, &pools, broken);
                for _ in 0..cases {
                    let request = strategy
                        .new_tree(&mut runner)
                        .unwrap_or_else(|e| panic!("{id}: cannot generate: {e}"))
                        .current();
                    if names_another_route(&request, &static_paths) {
                        continue;
                    }
                    assert_stays_on_loopback(&request);
                    let valid = is_valid(&doc, operation, &request);
                    judged[usize::from(valid)] += 1;
                    let bearer = match caller(operation) {
                        Caller::Nobody => None,
                        Caller::Role(Role::Technician) if id == "logout" => {
                            // Signing out ends the bearer's session: a fresh one each time.
                            let answer = station
                                .call_with(
                                    &throwaway_client,
                                    Method::POST,
                                    "/api/auth/login",
                                    None,
                                    Some(&json!({ "username": TECH2.0, "password": TECH2.1 })),
                                )
                                .await;
                            Some(
                                answer
                                    .json::<zpair_proto::api::Session>()
                                    .access_token
                                    .into_inner(),
                            )
                        }
                        Caller::Role(Role::Technician) => Some(tech.clone()),
                        Caller::Role(Role::Administrator) => Some(admin.clone()),
                    };
                    let client = if id == "login" {
                        &sign_in_client
                    } else {
                        &plain
                    };
                    let answer = send(&station, client, &method, &request, bearer.as_deref()).await;
                    seen.insert(answer.status.as_u16());
                    let problems = judge(&doc, &id, operation, valid, &answer);
                    if !problems.is_empty() {
                        failures.push(format!(
                            "{method} {} ({id}, {}): {} {}\n  request: {request:?}\n  answer body: {}",
                            request.path(),
                            if valid { "valid" } else { "invalid" },
                            answer.status,
                            problems.join("; "),
                            answer.body.as_deref().unwrap_or("(not read)"),
                        ));
                    }
                }
            }
            summary.push_str(&format!(
                "{method} {template}: {} valid, {} invalid, statuses {seen:?}\n",
                judged[1], judged[0]
            ));
        }
    }
    println!("statuses seen (seed {seed}, {cases} cases each way):\n{summary}");
    assert!(
        failures.is_empty(),
        "{} answers disagree with the document (seed {seed}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Registers the pooled monitors, makes the spare account and one pairing
/// job (against a closed port: it fails at once).
async fn prepare(station: &TestStation) -> Pools {
    for (id, ip) in DEVICES {
        let key = zpair_proto::crypto::generate_signing_key().expect("key");
        station.register(&record(id, &key, ip)).await;
    }
    crate::support::off_runtime(|| {
        central_station::admin::create_user(
            &station.config.data_dir,
            &station.config.database,
            SPARE_USER,
            "Spare Account",
            Role::Technician,
            "spare account password",
        )
    })
    .expect("spare account");
    let tech = station.token(TECH).await;
    let accepted: PairAccepted = station
        .post(
            "/api/provisioning/pair",
            Some(&tech),
            &json!({ "deviceId": DEVICES[0].0, "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await
        .json();
    Pools {
        devices: DEVICES.iter().map(|(id, _)| (*id).to_owned()).collect(),
        jobs: vec![accepted.job_id],
        users: vec![SPARE_USER.to_owned()],
    }
}

/// Requests for `operation`: all parts valid, or one part (a parameter or
/// the body) broken.
fn requests(
    doc: &Rc<Document>,
    template: &str,
    operation: &Value,
    pools: &Pools,
    broken: bool,
) -> BoxedStrategy<Request> {
    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let body = operation
        .pointer("/requestBody/content/application~1json/schema")
        .cloned();
    let targets = parameters.len() + usize::from(body.is_some());
    let assemble = |target: Option<usize>| {
        let mut parts: Vec<BoxedStrategy<Part>> = Vec::new();
        for (i, parameter) in parameters.iter().enumerate() {
            let name = parameter["name"].as_str().expect("name").to_owned();
            let schema = &parameter["schema"];
            let is_target = target == Some(i);
            let value = if is_target {
                doc.broken(schema)
            } else {
                match pools.for_parameter(template, &name) {
                    Some(pool) => {
                        let known = select(pool.to_vec()).prop_map(Value::from);
                        prop_oneof![known, doc.valid(schema)].boxed()
                    }
                    None => doc.valid(schema),
                }
            }
            .prop_map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            });
            parts.push(if parameter["in"] == "path" {
                value.prop_map(move |v| Part::Path(name.clone(), v)).boxed()
            } else if is_target || parameter["required"] == true {
                value
                    .prop_map(move |v| Part::Query(name.clone(), Some(v)))
                    .boxed()
            } else {
                prop_oneof![Just(None), value.prop_map(Some)]
                    .prop_map(move |v| Part::Query(name.clone(), v))
                    .boxed()
            });
        }
        if let Some(schema) = &body {
            let value = if target == Some(parameters.len()) {
                doc.broken(schema)
            } else {
                let devices = pools.devices.clone();
                (doc.valid(schema), any::<bool>(), select(devices))
                    .prop_map(|(mut v, known, device)| {
                        // Name a registered monitor half the time.
                        if known && v.get("deviceId").is_some_and(Value::is_string) {
                            v["deviceId"] = json!(device);
                        }
                        v
                    })
                    .boxed()
            };
            parts.push(value.prop_map(Part::Body).boxed());
        }
        let template = template.to_owned();
        parts.prop_map(move |parts| build(&template, parts)).boxed()
    };
    if broken && targets > 0 {
        Union::new((0..targets).map(|t| assemble(Some(t)))).boxed()
    } else {
        assemble(None)
    }
}

fn build(template: &str, parts: Vec<Part>) -> Request {
    let mut request = Request {
        template: template.to_owned(),
        path_values: Vec::new(),
        query: Vec::new(),
        body: None,
    };
    for part in parts {
        match part {
            Part::Path(name, value) => request.path_values.push((name, value)),
            Part::Query(name, Some(value)) => request.query.push((name, value)),
            Part::Query(_, None) => {}
            Part::Body(value) => request.body = Some(value),
        }
    }
    request
}

/// A path that is another route's (`/api/devices/import` for
/// `/api/devices/{id}`), or that a client normalises away (`.`, `..`), is
/// not a request to this operation.
fn names_another_route(request: &Request, static_paths: &BTreeSet<String>) -> bool {
    let path = request.path();
    (path != request.template && static_paths.contains(&path))
        || request
            .path_values
            .iter()
            .any(|(_, value)| value == "." || value == "..")
}

/// Panics before a request could make the station connect to any address
/// but this machine's (one it refuses as unusable is fine).
fn assert_stays_on_loopback(request: &Request) {
    fn walk(value: &Value) {
        match value {
            Value::Object(fields) => {
                for (name, v) in fields {
                    if name == "ipAddress"
                        && let Some(ip) = v.as_str().and_then(|t| t.parse::<IpAddr>().ok())
                    {
                        let unusable = ip.is_unspecified()
                            || ip.is_multicast()
                            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
                        assert!(
                            ip.is_loopback() || unusable,
                            "generated a monitor address off this machine: {ip}"
                        );
                    }
                    walk(v);
                }
            }
            Value::Array(items) => items.iter().for_each(walk),
            _ => {}
        }
    }
    if let Some(body) = &request.body {
        walk(body);
    }
}

/// Whether any text the request carries holds a NUL character.
fn holds_nul(request: &Request) -> bool {
    fn in_value(value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().any(in_value),
            Value::Object(fields) => fields
                .iter()
                .any(|(key, value)| key.contains('\0') || in_value(value)),
            _ => false,
        }
    }
    request
        .path_values
        .iter()
        .chain(&request.query)
        .any(|(_, value)| value.contains('\0'))
        || request.body.as_ref().is_some_and(in_value)
}

/// Whether the document calls the request valid: every parameter and the
/// body satisfy their schemas, and no text holds NUL (the document's
/// description says no field accepts one).
fn is_valid(doc: &Document, operation: &Value, request: &Request) -> bool {
    if holds_nul(request) {
        return false;
    }
    let parameter_ok = |parameter: &Value, text: &str| {
        let schema = &parameter["schema"];
        let value = match doc.resolve(schema)["type"].as_str() {
            Some("integer") => match text.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => return false,
            },
            _ => json!(text),
        };
        doc.check(schema, &value).is_ok()
    };
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap_or_default();
        let values = match parameter["in"].as_str() {
            Some("path") => &request.path_values,
            _ => &request.query,
        };
        let ok = values
            .iter()
            .filter(|(n, _)| n == name)
            .all(|(_, v)| parameter_ok(parameter, v));
        if !ok {
            return false;
        }
    }
    match (
        operation.pointer("/requestBody/content/application~1json/schema"),
        &request.body,
    ) {
        (Some(schema), Some(body)) => doc.check(schema, body).is_ok(),
        _ => true,
    }
}

/// Who calls an operation: the role its security requirement names (a
/// technician when any signed-in account may), or nobody for the public
/// operations and the monitors' (no client certificate: refused, as listed).
enum Caller {
    Nobody,
    Role(Role),
}

fn caller(operation: &Value) -> Caller {
    let roles = operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|s| s["bearerAuth"].as_array());
    match roles {
        None => Caller::Nobody,
        Some(roles) if roles.iter().any(|r| r == "administrator") => {
            Caller::Role(Role::Administrator)
        }
        Some(_) => Caller::Role(Role::Technician),
    }
}

/// An answer: its status, media type and body (not read for event streams,
/// which do not end).
struct Answer {
    status: StatusCode,
    media_type: Option<String>,
    body: Option<String>,
}

async fn send(
    station: &TestStation,
    client: &reqwest::Client,
    method: &Method,
    request: &Request,
    bearer: Option<&str>,
) -> Answer {
    let mut builder = client
        .request(method.clone(), request.url(&station.url("/")))
        .timeout(Duration::from_secs(30));
    if let Some(token) = bearer {
        builder = builder.bearer_auth(token);
    }
    if let Some(body) = &request.body {
        builder = builder.json(body);
    }
    let response = builder.send().await.expect("an answer");
    let status = response.status();
    let media_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
    let body = if media_type.as_deref() == Some("text/event-stream") {
        None
    } else {
        Some(response.text().await.expect("a body"))
    };
    Answer {
        status,
        media_type,
        body,
    }
}

/// What is wrong with an answer, if anything.
fn judge(doc: &Document, id: &str, operation: &Value, valid: bool, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let status = answer.status.as_u16();
    let Some(listed) = operation["responses"].get(status.to_string()) else {
        return vec![format!("status {status} is not listed for {id}")];
    };
    let listed = doc.resolve(listed);
    match (
        listed.get("content").and_then(Value::as_object),
        &answer.body,
    ) {
        (None, Some(body)) if !body.is_empty() => {
            problems.push(format!("a body where the document lists none: {body}"));
        }
        (None, _) => {}
        (Some(content), body) => {
            let media_type = answer.media_type.clone().unwrap_or_default();
            match (content.get(&media_type), body) {
                (None, _) => problems.push(format!(
                    "media type {media_type:?} is not listed ({:?})",
                    content.keys().collect::<Vec<_>>()
                )),
                (Some(_), None) => {}
                (Some(listed), Some(body)) => {
                    let value = if media_type == "application/json" {
                        match serde_json::from_str(body) {
                            Ok(value) => value,
                            Err(e) => {
                                problems.push(format!("not JSON: {e}"));
                                Value::Null
                            }
                        }
                    } else {
                        json!(body)
                    };
                    if let Err(e) = doc.check(&listed["schema"], &value) {
                        problems.push(format!("the body breaks its schema: {e}"));
                    }
                }
            }
        }
    }
    if valid && status == 400 {
        problems.push("a request the document calls valid was refused as malformed".into());
    }
    if !valid && answer.status.is_success() {
        // A bulk import (and its dry run) reports each refused record
        // instead of failing whole.
        let report = answer
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        let reported = match id {
            "importDevices" => {
                report.is_some_and(|r| r["rejected"].as_array().is_some_and(|r| !r.is_empty()))
            }
            "previewImport" => report.is_some_and(|r| r["conflicting"].as_u64() > Some(0)),
            _ => false,
        };
        if !reported {
            problems.push("a request the document calls invalid succeeded".into());
        }
    }
    problems
}
