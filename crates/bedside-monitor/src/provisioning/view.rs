//! The provisioning view of the seeds (002 §9.1) as a page: the state, the
//! message for it, and in provisioning mode the QR (inline SVG), the pairing
//! code and "m:ss remaining", with the actions the monitor allows in that
//! state. Plain HTML that refreshes itself every second; it shows nothing
//! the monitor's screen does not show anyway.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};
use time::OffsetDateTime;
use zpair_proto::device::MonitorState;

use super::screen::{Screen, countdown};

/// What the page shows.
#[derive(Debug, Clone)]
pub struct View {
    /// The device ID.
    pub device_id: String,
    /// The state now.
    pub state: MonitorState,
    /// The code, QR and expiry, in provisioning mode.
    pub screen: Option<Screen>,
    /// The last pairing ended because its code expired (and nothing
    /// started since).
    pub code_expired: bool,
    /// A message about the last pairing or the connection, if any.
    pub notice: Option<String>,
}

/// The seeds' status indicator for a state.
pub fn status(state: MonitorState) -> &'static str {
    match state {
        MonitorState::Unprovisioned | MonitorState::Deprovisioned => "Not provisioned",
        MonitorState::ReadyToPair => "Ready",
        MonitorState::PairingReceived => "Pairing",
        MonitorState::ApplyingConfig | MonitorState::TestingConnection => "Configuring",
        MonitorState::Provisioned => "Connected",
        MonitorState::ProvisioningFailed => "Error",
    }
}

/// What the state means and what can be done at the monitor, in the terms
/// of its buttons (the console's `p`, `r`, `c`): only what it accepts then.
pub fn message(view: &View) -> &'static str {
    match view.state {
        MonitorState::Unprovisioned if view.code_expired => {
            "The pairing code expired and provisioning mode ended. Choose Enter Provisioning Mode to show a new code, then scan it."
        }
        MonitorState::Unprovisioned => {
            "Not paired with a Central Station. Choose Enter Provisioning Mode to show a pairing code."
        }
        MonitorState::Deprovisioned => {
            "De-provisioned by the Central Station. An administrator must re-admit it; then choose Enter Provisioning Mode."
        }
        MonitorState::ReadyToPair => {
            "Scan the QR code with the ZPair app, or type the pairing code. Regenerate QR Code draws a new QR for the same code; Cancel Provisioning ends it."
        }
        MonitorState::PairingReceived | MonitorState::ApplyingConfig => {
            "A Central Station is pairing this monitor. Wait."
        }
        MonitorState::TestingConnection => {
            "Testing the connection to the Central Station with the new configuration. Wait."
        }
        MonitorState::Provisioned => {
            "Paired and connected to the Central Station. To pair it again, a technician re-provisions it from the ZPair app."
        }
        MonitorState::ProvisioningFailed => {
            "The pairing failed; the previous configuration is kept. Scan the code again."
        }
    }
}

/// The actions the monitor takes in `view`'s state.
pub fn actions(view: &View) -> &'static [&'static str] {
    match view.state {
        MonitorState::Unprovisioned => &["Enter Provisioning Mode"],
        MonitorState::ReadyToPair => &["Regenerate QR Code", "Cancel Provisioning"],
        MonitorState::Provisioned => &["Re-provision Device (from the ZPair app)"],
        _ => &[],
    }
}

/// The QR code as an SVG drawing of its modules, with a quiet zone.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::H).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let side = width + 8;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"360\" height=\"360\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"Pairing QR code\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            let _ = write!(svg, "M{x} {y}h1v1h-1z");
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page at `now`.
pub fn render(view: &View, now: OffsetDateTime) -> String {
    let mut body = format!(
        "<h1>Provisioning — {}</h1>\n<p class=\"status\" id=\"status\">{}</p>\n<p id=\"message\">{}</p>\n",
        escape(&view.device_id),
        status(view.state),
        message(view)
    );
    if let Some(screen) = view
        .screen
        .as_ref()
        .filter(|_| view.state == MonitorState::ReadyToPair)
    {
        let _ = write!(
            body,
            "<figure>{}</figure>\n<p class=\"code\" id=\"code\">{}</p>\n<p id=\"timer\">{}</p>\n",
            qr_svg(&screen.payload.to_json()).unwrap_or_default(),
            escape(&screen.code.display()),
            countdown(screen.expires_at, now)
        );
    }
    if let Some(notice) = &view.notice {
        let _ = writeln!(
            body,
            "<p class=\"notice\" id=\"notice\">{}</p>",
            escape(notice)
        );
    }
    let actions = actions(view);
    if !actions.is_empty() {
        body.push_str("<ul id=\"actions\">");
        for action in actions {
            let _ = write!(body, "<li>{action}</li>");
        }
        body.push_str("</ul>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\">\
         <title>{} — provisioning</title><style>body{{font-family:sans-serif;margin:2em}}.status{{font-size:1.5em;font-weight:bold}}\
         .code{{font-size:2.5em;font-family:monospace;letter-spacing:.1em}}.notice{{color:#a00}}</style></head>\n<body>\n{body}</body></html>\n",
        escape(&view.device_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_status_and_a_message() {
        for state in [
            MonitorState::Unprovisioned,
            MonitorState::ReadyToPair,
            MonitorState::PairingReceived,
            MonitorState::ApplyingConfig,
            MonitorState::TestingConnection,
            MonitorState::Provisioned,
            MonitorState::ProvisioningFailed,
            MonitorState::Deprovisioned,
        ] {
            let view = View {
                device_id: "ZM-<1>".into(),
                state,
                screen: None,
                code_expired: false,
                notice: Some("a <b>".into()),
            };
            let page = render(&view, OffsetDateTime::now_utc());
            assert!(page.contains(status(state)), "{state:?}");
            assert!(page.contains(message(&view)), "{state:?}");
            assert!(page.contains("ZM-&lt;1&gt;") && page.contains("a &lt;b&gt;"));
        }
    }

    #[test]
    fn the_svg_has_the_qr_modules() {
        let svg = qr_svg("hello").expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains("h1v1h-1z"));
    }
}
