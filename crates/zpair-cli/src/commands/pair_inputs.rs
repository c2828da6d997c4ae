//! What `zpair pair` reads: QR texts (from JSON files or a photo) and typed
//! `deviceId,pairingCode` pairs, each one pairing attempt.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use zpair_proto::qr::{QrField, RawQrPayload};
use zpair_scanner::{GreyFrame, Scanner, ScannerConfig};

use zpair_core::error::ErrorCode;

use crate::failure::Failure;

/// A still image gets every decoder pass; a camera frame gets 40 ms.
const IMAGE_SCAN_BUDGET: Duration = Duration::from_secs(5);

/// One monitor to pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The text of a QR code, checked just before it is used (it expires).
    Qr {
        /// Where it came from, for messages (`file.json#2`).
        source: String,
        /// The QR text.
        text: String,
    },
    /// A typed device ID and code.
    Typed {
        /// The device ID.
        device_id: String,
        /// The code as typed.
        code: String,
    },
}

impl Item {
    /// The device ID if it can be read, else the item's source.
    pub fn label(&self) -> String {
        match self {
            Item::Typed { device_id, .. } => device_id.clone(),
            Item::Qr { source, text } => serde_json::from_str::<RawQrPayload>(text)
                .ok()
                .and_then(|raw| raw.get(QrField::DeviceId)?.as_str().map(str::to_owned))
                .unwrap_or_else(|| source.clone()),
        }
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("{} could not be read ({e}).", path.display())))
}

/// A file with one QR payload, a JSON array of payloads, or JSON lines.
pub fn qr_json_file(path: &Path) -> Result<Vec<Item>, Failure> {
    let items = qr_json(&read(path)?, &path.display().to_string());
    if items.is_empty() {
        return Err(Failure::input(format!(
            "{} holds no QR payload.",
            path.display()
        )));
    }
    Ok(items)
}

fn qr_json(text: &str, source: &str) -> Vec<Item> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let item = |n: usize, text: String| Item::Qr {
        source: format!("{source}#{n}"),
        text,
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(values)) => values
            .iter()
            .enumerate()
            .map(|(i, v)| item(i + 1, v.to_string()))
            .collect(),
        Ok(_) => vec![item(1, text.to_owned())],
        // Not one JSON document: JSON lines, each checked on its own.
        Err(_) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, l)| item(i + 1, l.to_owned()))
            .collect(),
    }
}

/// `deviceId,pairingCode` lines; blank lines, `#` comments and a header are skipped.
pub fn csv_file(path: &Path) -> Result<Vec<Item>, Failure> {
    let items = csv(&read(path)?)
        .map_err(|(line, why)| Failure::input(format!("{} line {line}: {why}", path.display())))?;
    if items.is_empty() {
        return Err(Failure::input(format!(
            "{} lists no monitor.",
            path.display()
        )));
    }
    Ok(items)
}

fn csv(text: &str) -> Result<Vec<Item>, (usize, &'static str)> {
    let mut items = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((device_id, code)) = line.split_once(',') else {
            return Err((index + 1, "expected deviceId,pairingCode"));
        };
        let (device_id, code) = (device_id.trim(), code.trim());
        if items.is_empty() && device_id.eq_ignore_ascii_case("deviceId") {
            continue;
        }
        if code.contains(',') {
            return Err((index + 1, "expected two fields, deviceId,pairingCode"));
        }
        items.push(Item::Typed {
            device_id: device_id.to_owned(),
            code: code.to_owned(),
        });
    }
    Ok(items)
}

/// The Z Monitor QR codes in a photo or screenshot (or the first other code,
/// so the technician hears what was found instead).
pub fn qr_image(path: &Path) -> Result<Vec<Item>, Failure> {
    let image = image::open(path).map_err(|e| {
        Failure::input(format!(
            "{} could not be opened as an image ({e}).",
            path.display()
        ))
    })?;
    let grey = image.to_luma8();
    let (width, height) = grey.dimensions();
    let frame = GreyFrame::new(grey.as_raw(), width, height)
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    let outcome = Scanner::new(ScannerConfig {
        budget: IMAGE_SCAN_BUDGET,
    })
    .scan(frame);
    let source = path.display().to_string();
    let monitors: Vec<Item> = outcome
        .detections
        .iter()
        .filter(|d| d.z_monitor)
        .map(|d| Item::Qr {
            source: source.clone(),
            text: d.text.clone(),
        })
        .collect();
    if !monitors.is_empty() {
        return Ok(monitors);
    }
    match outcome.detections.into_iter().next() {
        Some(other) => Ok(vec![Item::Qr {
            source,
            text: other.text,
        }]),
        None => Err(Failure::new(
            ErrorCode::NoQrInImage,
            format!(
                "No QR code was found in {}. Use a sharp, well-lit photo of the monitor's screen, with the whole code in view.",
                path.display()
            ),
            crate::failure::Exit::Usage,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"deviceId":"ZM-1","pairingCode":"ABC-DEF-GHJ"}"#;
    const TWO: &str = r#"{"deviceId":"ZM-2","pairingCode":"ABC-DEF-GHK"}"#;

    fn labels(items: &[Item]) -> Vec<String> {
        items.iter().map(Item::label).collect()
    }

    #[test]
    fn one_payload_an_array_or_json_lines() {
        assert_eq!(labels(&qr_json(ONE, "f")), ["ZM-1"]);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(ONE).expect("json"))
                .expect("pretty");
        assert_eq!(labels(&qr_json(&pretty, "f")), ["ZM-1"]);
        assert_eq!(
            labels(&qr_json(&format!("[{ONE},{TWO}]"), "f")),
            ["ZM-1", "ZM-2"]
        );
        assert_eq!(
            labels(&qr_json(&format!("{ONE}\n\n{TWO}\n"), "f")),
            ["ZM-1", "ZM-2"]
        );
        // A bad line stays an item, reported by the QR check, not a lost one.
        let items = qr_json(&format!("{ONE}\nnot json\n"), "f");
        assert_eq!(labels(&items), ["ZM-1", "f#2"]);
        assert!(qr_json("  \n", "f").is_empty());
        // JSON without a device ID as text is named by where it came from.
        for text in ["[1,2]", r#"{"deviceId":4}"#, r#"{"ssid":"ward"}"#] {
            let item = Item::Qr {
                source: "g".into(),
                text: text.into(),
            };
            assert_eq!(item.label(), "g", "{text}");
        }
    }

    #[test]
    fn csv_lines_with_header_comments_and_blanks() {
        let items = csv("deviceId,pairingCode\n# ward 4\n\nZM-1, abc-def-ghj\nZM-2,ABCDEFGHK\n")
            .expect("csv");
        assert_eq!(
            items,
            [
                Item::Typed {
                    device_id: "ZM-1".into(),
                    code: "abc-def-ghj".into()
                },
                Item::Typed {
                    device_id: "ZM-2".into(),
                    code: "ABCDEFGHK".into()
                },
            ]
        );
        assert_eq!(
            csv("ZM-1 ABC-DEF-GHJ\n"),
            Err((1, "expected deviceId,pairingCode"))
        );
        assert!(csv("ZM-1,ABC,DEF\n").is_err());
    }
}
