//! The station's OpenAPI document, generated from the code rather than
//! written beside it, so the two cannot drift apart: the schemas are the
//! wire types' own (derived in `zpair_proto`, constraints from the
//! constants the checks use), each handler's `#[utoipa::path]` says what it
//! takes and answers, and the refusals every route shares are added here
//! from the route table and the operation itself — so no route forgets one.
//!
//! Built once and served at `/api/openapi.json`; `openapi.json` beside the
//! crate is a committed copy a test keeps equal to it.

use std::sync::LazyLock;

use axum::http::Method;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi};
use zpair_proto::api::ApiError;

use crate::routes::routes;
use crate::{accounts, audit, devices, pairing, public, registry, reports};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ZPair Central Station API",
        description = "The reference Central Station: technician sign-in, the device registry, \
            pairing jobs and their live status, connected status from mTLS heartbeats, \
            re-provisioning, the audit log, and what administrators manage: accounts, the \
            registry and its bulk import, pairing reports and certificates. Every error body is an ApiError {code, message}. \
            Request bodies refuse unknown fields (400 `invalid_request`), except heartbeats and \
            registration records, which monitors' firmware writes. No text accepts a NUL \
            character (U+0000) in a path, a query or a body: such a request is 400 `invalid_request`."
    ),
    servers((url = "https://127.0.0.1:8443", description = "Default listen address.")),
    paths(
        public::health,
        public::openapi,
        public::ca_certificate,
        public::crl,
        public::station_key,
        accounts::handlers::login,
        accounts::handlers::refresh,
        accounts::handlers::logout,
        accounts::handlers::me,
        accounts::handlers::step_up,
        accounts::users::end_sessions,
        accounts::users::disable,
        accounts::users::enable,
        registry::handlers::list,
        registry::handlers::import_one,
        registry::handlers::import_many,
        devices::status::heartbeat,
        registry::handlers::get,
        devices::status::status,
        pairing::handlers::device_events,
        devices::commands::reprovision,
        devices::commands::deprovision,
        devices::commands::readmit,
        pairing::request::pair,
        pairing::handlers::job_summary,
        pairing::handlers::job_events,
        audit::handlers::list,
        audit::handlers::verify_chain,
        devices::renewal::renew,
        accounts::users::list,
        accounts::users::create,
        accounts::users::reset_password,
        accounts::users::unlock,
        accounts::handlers::change_password,
        registry::handlers::import_preview,
        audit::handlers::export,
        reports::handlers::pairings,
        reports::handlers::export,
        devices::certificates::certificates,
    ),
    components(schemas(ApiError)),
    tags(
        (name = "station", description = "What anyone may read."),
        (name = "auth", description = "Sign-in, tokens and step-up confirmations."),
        (name = "accounts", description = "Accounts, for administrators."),
        (name = "devices", description = "The registry and each monitor's state."),
        (name = "provisioning", description = "Pairing jobs."),
        (name = "audit", description = "The audit log, for administrators."),
        (name = "reports", description = "Pairing reports, for administrators."),
    )
)]
struct ApiDoc;

/// The monitor a `/api/devices/{id}…` route acts on.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only described: the handlers take the ID as a string
pub(crate) struct DevicePath {
    /// The monitor's device ID. One that is not a device ID names no
    /// monitor: 404.
    #[param(value_type = zpair_proto::schema::DeviceId)]
    id: String,
}

/// Why a device route answers 404.
pub(crate) const UNKNOWN_DEVICE: &str = "`unknown_device`: not in the registry.";

/// The document, as served.
pub(crate) fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        complete(&mut doc);
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    });
    &DOCUMENT
}

/// Adds what every operation shares, by the rules the station applies
/// before or around any handler.
fn complete(doc: &mut Value) {
    doc["components"]["securitySchemes"] = json!({
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from POST /api/auth/login. An operation's roles \
                (technician, administrator) are listed as the requirement's scopes; any other \
                role is refused with 403 `forbidden_role`."
        },
        "mutualTLS": {
            "type": "mutualTLS",
            "description": "A client certificate issued by the station's device CA; its CN is the device ID."
        }
    });
    doc["components"]["responses"]["StationBusy"] = json!({
        "description": "`station_busy`: the station is at its connection cap (in all or for this \
            client address; the connection is answered this and closed), or it is stopping \
            (`/healthz` and pair requests: it finishes its running jobs and starts none).",
        "headers": { "Retry-After": retry_after() },
        "content": api_error_content(),
    });
    for route in routes() {
        let method = if route.method == Method::GET {
            "get"
        } else {
            "post"
        };
        let operation = &mut doc["paths"][route.path][method];
        complete_operation(operation, route.path, route.body_limit);
    }
}

fn complete_operation(operation: &mut Value, path: &str, body_limit: usize) {
    let security = operation["security"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let bearer_roles = security.iter().find_map(|s| s["bearerAuth"].as_array());
    let certificate = security.iter().any(|s| s.get("mutualTLS").is_some());
    let has_body = operation.get("requestBody").is_some();
    let has_parameters = operation.get("parameters").is_some();
    // The caller is looked up (so 401), and its role checked (so 403),
    // before the handler runs.
    if let Some(roles) = bearer_roles {
        refuse(
            operation,
            401,
            "`unauthorized`: no bearer token, or one that is unknown, expired or revoked, or its account is disabled.",
        );
        if !accounts::OPEN_TO_TEMPORARY_PASSWORDS.contains(&path) {
            refuse(
                operation,
                403,
                "`password_change_required`: the account's password is a temporary one an \
                 administrator set; change it first (`POST /api/auth/password`).",
            );
        }
        if !roles.is_empty() {
            refuse(
                operation,
                403,
                "`forbidden_role`: the account's role may not do this.",
            );
        }
    }
    if has_body {
        refuse(
            operation,
            400,
            "`invalid_request`: the body is not what this operation takes (not JSON, a missing \
             or unknown field, or a field that breaks its schema).",
        );
    }
    if has_parameters {
        refuse(
            operation,
            400,
            "`invalid_request`: a parameter is not what this operation takes.",
        );
    }
    // Every route is behind the body limit, and every request is read from
    // a connection the accept loop may refuse.
    refuse(
        operation,
        413,
        &format!(
            "`payload_too_large`: the body is over {body_limit} bytes, the most this operation \
             takes; refused from its Content-Length before it is read."
        ),
    );
    operation["responses"]["503"] = json!({ "$ref": "#/components/responses/StationBusy" });
    // Only the public reads (health, CA, CRL, keys, this document) never
    // reach the database: whatever checks a caller or reads a body may
    // answer 500.
    if bearer_roles.is_some() || certificate || has_body {
        refuse(
            operation,
            500,
            "`internal_error`: the station hit an internal fault; nothing is said of it.",
        );
    }
}

/// Adds `description` to the operation's answer with `status`, an
/// [`ApiError`], or makes one.
fn refuse(operation: &mut Value, status: u16, description: &str) {
    let response = &mut operation["responses"][status.to_string()];
    match response["description"].as_str() {
        Some(existing) if existing.contains(description) => {}
        Some(existing) => response["description"] = format!("{existing}\n\n{description}").into(),
        None => {
            *response = json!({ "description": description, "content": api_error_content() });
        }
    }
}

fn api_error_content() -> Value {
    json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } })
}

fn retry_after() -> Value {
    json!({ "description": "Seconds to wait before trying again.", "schema": { "type": "integer", "minimum": 1 } })
}
