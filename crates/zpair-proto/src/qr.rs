//! The JSON a Z Monitor shows as its QR code in provisioning mode.
//!
//! Fields are kept as text here because this is what arrives from a camera:
//! the app's validator (`zpair-core`) turns it into typed values and explains
//! each way it can be wrong. Field order is the seeds' and is kept when
//! serialising, so the monitor's QR stays byte-for-byte predictable.
//!
//! What a camera read is first taken apart as a [`RawQrPayload`], each field
//! as whatever JSON it holds, so that the validator can name the one field
//! that is wrong (a strict [`QrPayload`] would only say that something is);
//! [`QrField`] holds the names both share.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::PairingCode;

/// The largest QR text the app will look at; a monitor's payload is about
/// 230 bytes (QR version 16 at error correction H), anything far larger is
/// not from a Z Monitor.
pub const MAX_PAYLOAD_BYTES: usize = 1024;
/// Random bytes in a `pairingToken` before base64url (22 characters).
pub const PAIRING_TOKEN_BYTES: usize = 16;

/// The provisioning QR payload, as the seeds name its fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrPayload {
    /// The monitor's registry identifier, e.g. `ZM-ICU-04`.
    pub device_id: String,
    /// The manufacturer's serial number.
    pub device_serial: String,
    /// Where the Central Station reaches the monitor.
    pub ip_address: String,
    /// The code shown under the QR, `XXX-XXX-XXX`.
    pub pairing_code: String,
    /// 16 random bytes, base64url, fresh every 30 s.
    pub pairing_token: String,
    /// When the pairing code stops working (RFC 3339, UTC).
    pub expires_at: String,
    /// The monitor's firmware version.
    pub firmware_version: String,
}

impl QrPayload {
    /// Builds the payload a monitor displays.
    pub fn new(
        device_id: &str,
        device_serial: &str,
        ip_address: std::net::IpAddr,
        code: &PairingCode,
        token: &[u8; PAIRING_TOKEN_BYTES],
        expires_at: OffsetDateTime,
        firmware_version: &str,
    ) -> Self {
        Self {
            device_id: device_id.to_owned(),
            device_serial: device_serial.to_owned(),
            ip_address: ip_address.to_string(),
            pairing_code: code.display(),
            pairing_token: crate::b64::encode(token),
            expires_at: crate::timestamp::format(expires_at),
            firmware_version: firmware_version.to_owned(),
        }
    }

    /// The compact JSON that goes into the QR code.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Debug for QrPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrPayload")
            .field("device_id", &self.device_id)
            .field("device_serial", &self.device_serial)
            .field("ip_address", &self.ip_address)
            .field("pairing_code", &"<redacted>")
            .field("pairing_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("firmware_version", &self.firmware_version)
            .finish()
    }
}

/// A field of the payload, for saying which one is wrong. Declared in the
/// seeds' order, as [`QrField::ALL`] lists them: a field's discriminant is
/// its index there and in a [`RawQrPayload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrField {
    /// `deviceId`.
    DeviceId,
    /// `deviceSerial`.
    DeviceSerial,
    /// `ipAddress`.
    IpAddress,
    /// `pairingCode`.
    PairingCode,
    /// `pairingToken`.
    PairingToken,
    /// `expiresAt`.
    ExpiresAt,
    /// `firmwareVersion`.
    FirmwareVersion,
}

impl QrField {
    /// Every field, in the seeds' order (that of [`QrPayload`]).
    pub const ALL: [QrField; 7] = [
        QrField::DeviceId,
        QrField::DeviceSerial,
        QrField::IpAddress,
        QrField::PairingCode,
        QrField::PairingToken,
        QrField::ExpiresAt,
        QrField::FirmwareVersion,
    ];

    /// Its JSON key: the name [`QrPayload`] serialises it under (a test
    /// holds the two together), and the one error messages show.
    pub fn name(self) -> &'static str {
        match self {
            QrField::DeviceId => "deviceId",
            QrField::DeviceSerial => "deviceSerial",
            QrField::IpAddress => "ipAddress",
            QrField::PairingCode => "pairingCode",
            QrField::PairingToken => "pairingToken",
            QrField::ExpiresAt => "expiresAt",
            QrField::FirmwareVersion => "firmwareVersion",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }
}

/// A QR payload as read, before any check: each [`QrField`] with the JSON
/// value it holds, whatever its type. Absent and `null` are told apart
/// (`None` and `Some(Value::Null)`), other keys are ignored, and a key given
/// twice keeps its last value, as `serde_json::Value` does.
///
/// It deserialises from a JSON object only. A validator parses the text as a
/// `Value` first: text that is not JSON at all is a different kind of wrong
/// from JSON that is not an object, and reading a struct straight from the
/// text would mix the two up.
#[derive(Clone, Default, PartialEq)]
pub struct RawQrPayload([Option<Value>; QrField::ALL.len()]);

impl RawQrPayload {
    /// The value of `field`; `None` when the payload lacks it.
    pub fn get(&self, field: QrField) -> Option<&Value> {
        self.0[field as usize].as_ref()
    }
}

/// Shows which fields are present, never their values (the pairing code and
/// token are among them).
impl fmt::Debug for RawQrPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = QrField::ALL
            .into_iter()
            .filter(|&field| self.get(field).is_some())
            .map(QrField::name);
        f.debug_tuple("RawQrPayload")
            .field(&present.collect::<Vec<_>>())
            .finish()
    }
}

impl<'de> Deserialize<'de> for RawQrPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Keeps the known keys' values, skips the rest.
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = RawQrPayload;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Z Monitor QR payload object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawQrPayload, A::Error> {
                let mut raw = RawQrPayload::default();
                while let Some(key) = map.next_key::<String>()? {
                    match QrField::from_name(&key) {
                        Some(field) => raw.0[field as usize] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(raw)
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// The payload of the golden vector.
    fn golden() -> QrPayload {
        let code = PairingCode::parse("K7P-M3X-Q9R").expect("valid");
        QrPayload::new(
            "ZM-ICU-04",
            "SN-2024-001234",
            "10.1.50.104".parse().expect("ip"),
            &code,
            &[7u8; PAIRING_TOKEN_BYTES],
            datetime!(2024-11-25 14:30:00.5 UTC),
            "1.2.3",
        )
    }

    /// Golden vector: the exact text a monitor puts in its QR.
    #[test]
    fn payload_json_is_compact_and_in_seed_order() {
        let payload = golden();
        let json = payload.to_json();
        assert_eq!(
            json,
            r#"{"deviceId":"ZM-ICU-04","deviceSerial":"SN-2024-001234","ipAddress":"10.1.50.104","pairingCode":"K7P-M3X-Q9R","pairingToken":"BwcHBwcHBwcHBwcHBwcHBw","expiresAt":"2024-11-25T14:30:00Z","firmwareVersion":"1.2.3"}"#
        );
        assert!(
            json.len() < 240,
            "a monitor QR must stay small: {} bytes",
            json.len()
        );
        let back: QrPayload = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, payload);
        assert!(!format!("{back:?}").contains("K7P"));
    }

    /// [`QrField::name`] spells the keys [`QrPayload`]'s serde derive writes,
    /// in the same order, and [`RawQrPayload`] reads each of them back.
    #[test]
    fn field_names_are_the_payloads_keys() {
        let json = golden().to_json();
        let Value::Object(fields) = serde_json::from_str(&json).expect("JSON") else {
            panic!("a payload is an object");
        };
        assert_eq!(fields.len(), QrField::ALL.len());
        for (index, field) in QrField::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, index, "{field:?}");
        }
        let at = QrField::ALL.map(|field| json.find(&format!("\"{}\":", field.name())));
        assert!(at.iter().all(Option::is_some) && at.is_sorted(), "{json}");

        let raw: RawQrPayload = serde_json::from_str(&json).expect("raw");
        for field in QrField::ALL {
            assert_eq!(raw.get(field), fields.get(field.name()), "{field:?}");
        }
        let debug = format!("{raw:?}");
        assert!(
            debug.contains("deviceId") && !debug.contains("K7P"),
            "{debug}"
        );
    }

    #[test]
    fn raw_payloads_tell_absent_from_null_and_ignore_other_keys() {
        let raw: RawQrPayload = serde_json::from_str(
            r#"{"deviceId":null,"deviceId":4,"expiresAt":null,"ssid":"ward"}"#,
        )
        .expect("raw");
        assert_eq!(
            raw.get(QrField::DeviceId),
            Some(&Value::from(4)),
            "the last one"
        );
        assert_eq!(raw.get(QrField::ExpiresAt), Some(&Value::Null));
        assert_eq!(raw.get(QrField::PairingCode), None);
        assert_eq!(
            format!("{raw:?}"),
            r#"RawQrPayload(["deviceId", "expiresAt"])"#
        );
        for not_an_object in ["[1,2]", "42", r#""text""#, "null"] {
            assert!(
                serde_json::from_str::<RawQrPayload>(not_an_object).is_err(),
                "{not_an_object}"
            );
        }
    }
}
