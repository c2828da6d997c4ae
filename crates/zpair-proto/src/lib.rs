//! Wire types shared by the three parties of ZPair — the technician app, the
//! Central Station and the Z Monitor — and the canonical bytes they sign.
//!
//! Everything that crosses a process boundary is defined here once, in the
//! camelCase JSON the seeds name, so that a field renamed on one side fails to
//! compile on the others. Signed messages get their bytes from [`canonical`],
//! never from JSON (whose key order and spacing are not stable).

pub mod admin;
pub mod api;
pub mod b64;
pub mod canonical;
pub mod config;
pub mod crypto;
pub mod device;
pub mod error_code;
pub mod hex;
pub mod pairing_code;
pub mod qr;
pub mod redacted;
pub mod schema;
pub mod user_facing;

pub use error_code::ErrorCode;
pub use pairing_code::PairingCode;
pub use qr::QrPayload;
pub use redacted::Redacted;

/// RFC 3339 timestamps on the wire (`2024-11-25T14:30:00Z`), whole seconds, UTC.
pub mod timestamp {
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    /// Formats `at` as the wire does: UTC, whole seconds, `Z` suffix.
    pub fn format(at: OffsetDateTime) -> String {
        let at = at
            .to_offset(UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(at);
        at.format(&Rfc3339).unwrap_or_default()
    }

    /// Parses an RFC 3339 timestamp in any offset.
    pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339)
    }

    /// Serde adapter: `#[serde(with = "zpair_proto::timestamp")]`.
    pub fn serialize<S: serde::Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*at))
    }

    /// Serde adapter counterpart of [`serialize`].
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// The same for `Option<OffsetDateTime>`.
    pub mod option {
        use time::OffsetDateTime;

        /// Serialises `None` as `null`.
        pub fn serialize<S: serde::Serializer>(
            at: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, s),
                None => s.serialize_none(),
            }
        }

        /// Accepts `null` or a missing field as `None`.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            let text = <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(d)?;
            text.map(|t| super::parse(&t).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}
