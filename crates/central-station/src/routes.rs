//! The route table, in one place: [`app`] builds the router from it, the
//! OpenAPI document takes each route's body limit from it, and a test
//! compares it with the document's operations, both ways.

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{self, MethodRouter};

use crate::edge::body;
use crate::http::HttpError;
use crate::state::AppState;
use crate::{accounts, audit, devices, pairing, public, registry, reports};

/// One route: its method, its path (axum and OpenAPI share the `{param}`
/// syntax), its handler and the largest body it takes.
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    handler: MethodRouter<AppState>,
    /// The largest body it takes, in bytes.
    pub(crate) body_limit: usize,
}

impl Route {
    /// The same route taking bodies of up to `bytes`.
    fn body_limit(self, bytes: usize) -> Self {
        Self {
            body_limit: bytes,
            ..self
        }
    }
}

fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    Route {
        method: Method::GET,
        path,
        handler: routing::get(handler),
        body_limit: body::DEFAULT,
    }
}

fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    Route {
        method: Method::POST,
        path,
        handler: routing::post(handler),
        body_limit: body::DEFAULT,
    }
}

/// Every route of the API.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        get("/healthz", public::health),
        get("/api/openapi.json", public::openapi),
        get("/api/ca/certificate", public::ca_certificate),
        get("/api/ca/crl", public::crl),
        get("/api/provisioning/station-key", public::station_key),
        post("/api/auth/login", accounts::login).body_limit(body::SMALL),
        post("/api/auth/refresh", accounts::refresh).body_limit(body::SMALL),
        post("/api/auth/logout", accounts::logout),
        get("/api/auth/me", accounts::me),
        post("/api/auth/step-up", accounts::step_up).body_limit(body::SMALL),
        post("/api/users/{username}/sessions/end", accounts::end_sessions),
        post("/api/users/{username}/disable", accounts::disable),
        post("/api/users/{username}/enable", accounts::enable),
        get("/api/devices", registry::list),
        post("/api/devices", registry::import_one),
        post("/api/devices/import", registry::import_many).body_limit(body::BULK),
        post("/api/devices/heartbeat", devices::heartbeat),
        get("/api/devices/{id}", registry::get),
        get("/api/devices/{id}/status", devices::status),
        get("/api/devices/{id}/events", pairing::device_events),
        post("/api/devices/{id}/reprovision", devices::reprovision),
        post("/api/devices/{id}/deprovision", devices::deprovision),
        post("/api/devices/{id}/readmit", devices::readmit),
        post("/api/provisioning/pair", pairing::pair).body_limit(body::SMALL),
        get("/api/provisioning/jobs/{id}", pairing::job_summary),
        get("/api/provisioning/jobs/{id}/events", pairing::job_events),
        get("/api/audit", audit::list),
        get("/api/audit/verify", audit::verify_chain),
        post("/api/devices/certificate/renew", devices::renew).body_limit(body::SMALL),
        get("/api/users", accounts::list),
        post("/api/users", accounts::create_account).body_limit(body::SMALL),
        post(
            "/api/users/{username}/password/reset",
            accounts::reset_password,
        ),
        post("/api/users/{username}/unlock", accounts::unlock),
        post("/api/auth/password", accounts::change_password).body_limit(body::SMALL),
        post("/api/devices/import/preview", registry::import_preview).body_limit(body::BULK),
        get("/api/audit/export", audit::export),
        get("/api/reports/pairings", reports::pairings),
        get("/api/reports/pairings/export", reports::export),
        get("/api/certificates", devices::certificates),
    ]
}

/// Every route's method and path, for tests that must cover them all (the
/// endpoint × caller matrix).
pub fn route_table() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|r| (r.method, r.path)).collect()
}

/// The station's HTTP API.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        tracing::trace!(method = %route.method, path = route.path, "route");
        router = router.route(route.path, body::limited(route.handler, route.body_limit));
    }
    let body_timeout = state.config().edge.body_timeout;
    router
        .fallback(|| async { HttpError::NotFound })
        .method_not_allowed_fallback(|| async { HttpError::MethodNotAllowed })
        .layer(middleware::from_fn(move |request, next| {
            body::deadline(request, next, body_timeout)
        }))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One debug line per request: method, path, status, time. Never headers,
/// query values or bodies (tokens, passwords and codes travel there).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The OpenAPI document lists exactly the routes that exist.
    #[test]
    fn openapi_paths_match_the_routes_both_ways() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::openapi::document()).expect("the document is JSON");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "OpenAPI 3.1"
        );
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some() {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let served: BTreeSet<(String, String)> = routes()
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from the OpenAPI document: {undocumented:?}"
        );
        assert!(
            phantom.is_empty(),
            "OpenAPI operations with no route: {phantom:?}"
        );
    }

    /// Every `$ref` in the document points at a schema it defines.
    #[test]
    fn openapi_references_resolve() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::openapi::document()).expect("JSON");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            let pointer = reference.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "dangling {reference}");
        }
    }

    fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    if key == "$ref" {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_owned());
                        }
                    } else {
                        collect_refs(v, out);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
