//! Text holding a NUL character, in any part of any request, is refused at
//! the door with 400 `invalid_request`. Nothing the station keeps can hold
//! one, and PostgreSQL refuses a statement that binds one: before the edge
//! refused them, these requests were 500s on PostgreSQL and, on SQLite,
//! whatever the handler made of a string no record can match.
//!
//! Driven by the station's own route table and API document, so a route
//! added later is covered without a line here.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zpair_proto::ErrorCode;

use crate::support::{ADMIN, TECH, beat, paired_through_the_station};

/// A string value holding NUL, as JSON.
const NUL_TEXT: &str = "ZM\u{0}1";
/// The same in a URL (path segment or query value).
const NUL_IN_URL: &str = "ZM%001";

/// Where the document says an operation takes parameters and a body.
struct Takes {
    query: Vec<String>,
    body: bool,
}

fn takes(document: &Value, method: &Method, path: &str) -> Takes {
    let operation = &document["paths"][path][method.as_str().to_lowercase()];
    let query = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    Takes {
        query,
        body: operation.get("requestBody").is_some(),
    }
}

/// Every path parameter of `template` set to `value`.
fn with_parameters(template: &str, value: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                value
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn text_holding_nul_is_refused_at_the_edge_everywhere() {
    let (station, monitor, _) = paired_through_the_station("ZM-NUL-1").await;
    let committed = monitor.await_commit(None).await;
    let document: Value = station.get("/api/openapi.json", "").await.json();
    let tokens = [station.token(TECH).await, station.token(ADMIN).await];
    let monitor_client = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let plain = station.client();

    let mut wrong = Vec::new();
    let mut refused = 0;
    for (method, template) in central_station::route_table() {
        let takes = takes(&document, &method, template);
        // Each way a request can carry text: a path parameter, a query
        // parameter, the body.
        let mut variants: Vec<(String, Option<Value>)> = Vec::new();
        if template.contains('{') {
            variants.push((with_parameters(template, NUL_IN_URL), None));
        }
        let path = with_parameters(template, "ZM-NUL-1");
        for name in &takes.query {
            variants.push((format!("{path}?{name}={NUL_IN_URL}"), None));
        }
        if takes.body {
            variants.push((
                path.clone(),
                Some(json!({ "deviceId": NUL_TEXT, NUL_TEXT: 1 })),
            ));
            variants.push((path.clone(), Some(json!([{ "deviceId": NUL_TEXT }]))));
        }
        for (url, body) in variants {
            let mut reached = false;
            let callers = tokens
                .iter()
                .map(|t| (&plain, Some(t.as_str())))
                .chain([(&monitor_client, None), (&plain, None)]);
            for (client, bearer) in callers {
                let answer = station
                    .call_with(client, method.clone(), &url, bearer, body.as_ref())
                    .await;
                match answer.status {
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => continue,
                    StatusCode::BAD_REQUEST if answer.code() == ErrorCode::InvalidRequest => {
                        reached = true;
                    }
                    status => {
                        reached = true;
                        wrong.push(format!("{method} {url} {body:?}: {status} {}", answer.body));
                    }
                }
            }
            if reached {
                refused += 1;
            } else {
                wrong.push(format!("{method} {url}: no caller got past 401/403"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused as invalid_request:\n{}",
        wrong.join("\n")
    );
    // The route table has path parameters, queries and bodies to try.
    assert!(refused > 30, "only {refused} requests tried");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_heartbeat_holding_nul_is_refused_and_the_next_one_counts() {
    let (station, monitor, _) = paired_through_the_station("ZM-NUL-2").await;
    let committed = monitor.await_commit(None).await;
    let client = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );
    let mut heartbeat = serde_json::to_value(beat()).expect("heartbeat");
    heartbeat["firmwareVersion"] = json!(NUL_TEXT);
    let answer = station
        .call_with(
            &client,
            Method::POST,
            "/api/devices/heartbeat",
            None,
            Some(&heartbeat),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.code(), ErrorCode::InvalidRequest);
    assert!(answer.body.contains("NUL"), "{}", answer.body);
    // Nothing was held against the monitor.
    assert_eq!(
        station.heartbeat_with(&client).await.status,
        StatusCode::NO_CONTENT
    );
}
