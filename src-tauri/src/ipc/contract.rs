//! The UI tests' fake backend answers for Rust so the screens can be driven
//! without a station, and to do so it keeps copies of three of Rust's rules:
//! how a typed code is formatted and checked, what the Scan screen is told
//! about each QR read (found once, sent once, dismissed, replaced, refused),
//! and which CA files are certificates. A copy can drift; this test runs the
//! real rules on fixed inputs and keeps their answers in
//! `ui/tests/contract/rules.json`, and `ui/tests/fake-contract.spec.ts` runs
//! the fake on the same inputs and must answer the same.
//!
//! Regenerate with `ZPAIR_WRITE_BINDINGS=1 cargo test -p zpair-app contract`.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use zpair_core::client::CertificateInfo;
use zpair_core::code::check_typed;
use zpair_core::error::UserFacing;
use zpair_core::sightings::Sightings;

use super::{CodeCheck, Sighting};
use crate::scan::sighting;

/// The clock both sides read: QR expiry is judged against it.
const NOW: OffsetDateTime = datetime!(2026-01-05 10:00:00 UTC);

/// Typed codes: complete, partial, separators, look-alikes, wide forms,
/// letters codes never use, too long.
const TYPED: &[&str] = &[
    "",
    "k",
    "k7p",
    "K7PM",
    "k7pm3xq9r",
    "K7P-M3X-Q9R",
    "K7P M3X Q9R",
    "k7p_m3x.q9r",
    "K7P\u{2013}M3X\u{2014}Q9R",
    "\u{41a}7\u{420}-\u{41c}3\u{425}-Q9R",
    "\u{ff2b}\u{ff17}\u{ff30}",
    "K0P",
    "O1L",
    "K7P-M3X-Q9R-A",
    "K7P-M3X-Q9RAB",
    "ab!",
    "K7P\u{b7}M3X",
];

fn ui_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo test sets CARGO_MANIFEST_DIR")
        .join("../ui")
}

/// A Z Monitor QR payload, with `changes` applied (a `null` removes the field).
fn payload(changes: Value) -> String {
    let mut fields = json!({
        "deviceId": "ZM-ICU-04",
        "deviceSerial": "SN-2024-001234",
        "ipAddress": "10.1.50.104",
        "pairingCode": "K7P-M3X-Q9R",
        "pairingToken": "BwcHBwcHBwcHBwcHBwcHBw",
        "expiresAt": "2026-01-05T10:05:00Z",
        "firmwareVersion": "1.2.3",
    });
    if let (Some(fields), Some(changes)) = (fields.as_object_mut(), changes.as_object()) {
        for (name, value) in changes {
            if value.is_null() {
                fields.remove(name);
            } else {
                fields.insert(name.clone(), value.clone());
            }
        }
    }
    fields.to_string()
}

/// One step of a scanning scenario, and what Rust answered.
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
enum Step {
    /// A frame read `text`; `running` are the monitors being paired.
    Consider {
        text: String,
        running: Vec<String>,
        expect: Value,
    },
    /// The technician paired the found monitor `scan_id`.
    #[serde(rename_all = "camelCase")]
    Take { scan_id: String, expect: Value },
    /// The technician put the found monitor `scan_id` away.
    #[serde(rename_all = "camelCase")]
    Dismiss { scan_id: String },
}

/// Runs a scenario against a fresh [`Sightings`], filling in each answer.
struct Scenario {
    sightings: Sightings,
    steps: Vec<Step>,
}

impl Scenario {
    fn new() -> Self {
        Self {
            sightings: Sightings::default(),
            steps: Vec::new(),
        }
    }

    fn consider(mut self, text: &str, running: &[&str]) -> Self {
        let seen = self
            .sightings
            .consider(text, NOW, |device| running.contains(&device));
        self.steps.push(Step::Consider {
            text: text.to_owned(),
            running: running.iter().map(|d| (*d).to_owned()).collect(),
            expect: comparable(sighting(seen)),
        });
        self
    }

    fn take(mut self, scan_id: &str) -> Self {
        let expect = match self.sightings.take(scan_id, NOW) {
            Ok(monitor) => json!({ "deviceId": monitor.device_id }),
            Err(refused) => json!({ "refused": refused.code() }),
        };
        self.steps.push(Step::Take {
            scan_id: scan_id.to_owned(),
            expect,
        });
        self
    }

    fn dismiss(mut self, scan_id: &str) -> Self {
        self.sightings.dismiss(scan_id);
        self.steps.push(Step::Dismiss {
            scan_id: scan_id.to_owned(),
        });
        self
    }
}

/// A sighting as the contract compares it: a refusal by its code only (the
/// message names details such as the expiry time, and Rust's own tests
/// check it).
fn comparable(sighting: Sighting) -> Value {
    let mut value = serde_json::to_value(sighting).expect("a sighting is JSON");
    if let Some(fields) = value.as_object_mut()
        && fields.get("kind") == Some(&json!("refused"))
    {
        fields.remove("message");
    }
    value
}

fn scenarios() -> Value {
    let first = payload(json!({}));
    let newer = payload(json!({ "pairingToken": "CAgICAgICAgICAgICAgICA" }));
    let other =
        payload(json!({ "deviceId": "ZM-ICU-05", "pairingToken": "CQkJCQkJCQkJCQkJCQkJCQ" }));
    let named = |name: &str, scenario: Scenario| json!({ "name": name, "steps": scenario.steps });
    json!([
        named(
            "one QR in many frames is one found monitor",
            Scenario::new()
                .consider(&first, &[])
                .consider(&first, &[])
                .consider(&other, &[]),
        ),
        named(
            "a QR sent for pairing is never offered again",
            Scenario::new()
                .consider(&first, &[])
                .take("scan-1")
                .consider(&first, &[])
                .take("scan-1"),
        ),
        named(
            "a dismissed QR is ignored while in view; the monitor's next QR is found again",
            Scenario::new()
                .consider(&first, &[])
                .dismiss("scan-1")
                .consider(&first, &[])
                .consider(&newer, &[])
                .take("scan-2"),
        ),
        named(
            "a newer QR of a monitor replaces the older one",
            Scenario::new()
                .consider(&first, &[])
                .consider(&newer, &[])
                .take("scan-1")
                .take("scan-2"),
        ),
        named(
            "a monitor being paired is not offered",
            Scenario::new()
                .consider(&first, &["ZM-ICU-04"])
                .consider(&first, &[]),
        ),
        named(
            "what is not a usable Z Monitor QR is refused",
            [
                "hello".to_owned(),
                "[1,2]".to_owned(),
                "{\"url\":\"https://example.org\"}".to_owned(),
                payload(json!({ "expiresAt": "2026-01-05T09:00:00Z" })),
                payload(json!({ "expiresAt": "2026-01-05T12:00:00Z" })),
                payload(json!({ "expiresAt": "yesterday" })),
                payload(json!({ "ipAddress": "10.1.50" })),
                payload(json!({ "ipAddress": "fe80::1" })),
                payload(json!({ "pairingCode": "K7P-M3X" })),
                payload(json!({ "pairingCode": "k7pm3xq9r" })),
                payload(json!({ "pairingToken": "short" })),
                payload(json!({ "deviceSerial": null })),
                payload(json!({ "deviceSerial": 7 })),
                payload(json!({ "deviceId": " ZM-1" })),
                payload(json!({ "deviceId": "" })),
                payload(json!({ "firmwareVersion": "x".repeat(33) })),
                payload(json!({ "pairingToken": null })),
                payload(json!({ "deviceId": null })),
                format!(
                    "{{\"deviceId\":\"ZM-1\",\"pairingCode\":\"{}\"}}",
                    "A".repeat(1100)
                ),
            ]
            .iter()
            .fold(Scenario::new(), |scenario, text| scenario
                .consider(text, &[])),
        ),
    ])
}

fn ca_files() -> Value {
    let pem = std::fs::read_to_string(ui_dir().join("tests/contract/hospital-ca.pem"))
        .expect("the fake's CA certificate");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let files = [
        pem.clone(),
        format!("Issued by IT\n{pem}"),
        "-----BEGIN CERTIFICATE-----\nMIIBfake/hospital/root/ca\n-----END CERTIFICATE-----\n"
            .to_owned(),
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".to_owned(),
        body,
        "not a certificate".to_owned(),
        String::new(),
    ];
    files
        .into_iter()
        .map(|file| {
            let expect = match CertificateInfo::from_pem(&file) {
                Ok(ca) => json!({ "fingerprint": ca.fingerprint, "subject": ca.subject }),
                Err(refused) => json!({ "refused": refused.code() }),
            };
            json!({ "file": file, "expect": expect })
        })
        .collect()
}

fn rules() -> String {
    let typed: Vec<Value> = TYPED
        .iter()
        .map(|input| json!({ "input": input, "expect": CodeCheck::from(check_typed(input)) }))
        .collect();
    let rules = json!({
        "now": zpair_proto::timestamp::format(NOW),
        "typedCodes": typed,
        "scanning": scenarios(),
        "caFiles": ca_files(),
    });
    let mut text = serde_json::to_string_pretty(&rules).expect("JSON");
    text.push('\n');
    text
}

#[test]
fn the_fakes_rules_are_checked_against_these_answers() {
    let path = ui_dir().join("tests/contract/rules.json");
    let generated = rules();
    if std::env::var("ZPAIR_WRITE_BINDINGS").as_deref() == Ok("1") {
        std::fs::write(&path, generated).expect("write the contract");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with Rust's rules. If the rules are right, regenerate with \
         `ZPAIR_WRITE_BINDINGS=1 cargo test -p zpair-app contract`, then make \
         ui/tests/fake-contract.spec.ts pass.",
        path.display()
    );
}
