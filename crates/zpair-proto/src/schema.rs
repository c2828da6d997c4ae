//! The OpenAPI schemas of the constrained strings on the wire — device IDs,
//! reasons for the audit log, pairing codes and tokens, keys, addresses and
//! a registration record's free text — built from the constants and
//! functions that check them, so the station's API document states exactly
//! the rule the station applies.
//!
//! Each is a type only for `#[schema(value_type = …)]`: the fields stay
//! `String`s (or whatever wraps them), and these are never constructed.
//! Character classes are computed from the checking functions themselves
//! (over every `char`), written as `\uXXXX` escapes that ECMA-262 (JSON
//! Schema's regex dialect) and Rust's `regex` read alike.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::admin::{
    AUDIT_EVENT_TYPES, DEFAULT_PAGE, MAX_DISPLAY_NAME_CHARS, MAX_PAGE, MAX_USERNAME_CHARS,
};
use crate::api::MAX_REASON_CHARS;
use crate::device::{RESERVED_DEVICE_IDS, record_limits};
use crate::pairing_code::{CODE_LENGTH, TypedChar, classify};
use crate::qr::PAIRING_TOKEN_BYTES;

/// Declares an uninhabited type whose OpenAPI schema is `$schema`.
macro_rules! string_schema {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $name {}

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $name {}
    };
}

string_schema! {
    /// A device ID: [`crate::device::is_device_id`].
    DeviceId => {
        let reserved: Vec<String> = RESERVED_DEVICE_IDS.iter().map(|w| any_case(w)).collect();
        with_not(
            text(1, record_limits::DEVICE_ID)
                .pattern(Some(format!(
                    "^[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}}$",
                    record_limits::DEVICE_ID - 1
                )))
                .description(Some(
                    "Letters, digits, '.', '_', '-', starting with a letter or digit; \
                     not `import` or `heartbeat` in any case (they are routes).",
                )),
            serde_json::json!({ "pattern": format!("^(?:{})$", reserved.join("|")) }),
        )
    }
}

string_schema! {
    /// A reason for the audit log: [`crate::api::check_reason`].
    Reason => {
        let space = class(char::is_whitespace);
        let control = class(char::is_control);
        let edge = class(|c| c.is_whitespace() || c.is_control());
        text(1, usize::MAX)
            .pattern(Some(format!(
                "^[{space}]*[^{edge}](?:[^{control}]{{0,{}}}[^{edge}])?[{space}]*$",
                MAX_REASON_CHARS - 2
            )))
            .description(Some(format!(
                "Why, for the audit log: 1 to {MAX_REASON_CHARS} characters once trimmed of \
                 surrounding whitespace, with no control character (one line)."
            )))
            .into()
    }
}

string_schema! {
    /// A pairing code as a person typed it: what
    /// [`crate::PairingCode::parse`] reads.
    PairingCodeText => {
        let separator = class(|c| classify(c) == TypedChar::Separator);
        let code = class(|c| matches!(classify(c), TypedChar::Code(_)));
        text(CODE_LENGTH, usize::MAX)
            .pattern(Some(format!(
                "^[{separator}]*(?:[{code}][{separator}]*){{{CODE_LENGTH}}}$"
            )))
            .description(Some(
                "The code on the monitor's screen, `XXX-XXX-XXX`: any case, dashes, spaces \
                 and dots optional, full-width and Cyrillic or Greek look-alike letters \
                 read as the Latin ones. Codes use no 0, O, 1, I or L.",
            ))
            .into()
    }
}

string_schema! {
    /// The token of a monitor's QR code.
    PairingToken => text(0, usize::MAX)
        .pattern(Some(base64url(PAIRING_TOKEN_BYTES)))
        .description(Some(format!(
            "The QR code's {PAIRING_TOKEN_BYTES}-byte token, base64url without padding."
        )))
        .into()
}

string_schema! {
    /// An Ed25519 public key, base64url.
    Ed25519Key => text(0, usize::MAX)
        .pattern(Some(base64url(32)))
        .format(Some(SchemaFormat::Custom("ed25519-public-key".into())))
        .description(Some(
            "An Ed25519 public key, base64url without padding; it must be a point of the \
             curve (format `ed25519-public-key`).",
        ))
        .into()
}

string_schema! {
    /// The address a pair request names: one the station may connect to.
    MonitorAddress => {
        let unusable = serde_json::json!({ "anyOf": [
            { "enum": ["0.0.0.0", "255.255.255.255"] },
            { "pattern": "^2(?:2[4-9]|3[0-9])\\." },
            { "pattern": "^[0:]+$" },
            { "pattern": "^[Ff][Ff][0-9A-Fa-f]{2}:" },
        ]});
        let mut schema = AnyOfBuilder::new()
            .item(ip(KnownFormat::Ipv4))
            .item(ip(KnownFormat::Ipv6))
            .description(Some(
                "The monitor's IPv4 or IPv6 address, as its QR code gives it; not unspecified, \
                 multicast or broadcast.",
            ))
            .build();
        schema.extensions = Some(not(unusable));
        Schema::AnyOf(schema).into()
    }
}

string_schema! {
    /// A monitor's address in the registry; empty for none.
    RegistryAddress => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ip(KnownFormat::Ipv4))
            .item(ip(KnownFormat::Ipv6))
            .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some([""])))
            .description(Some("An IPv4 or IPv6 address; empty (or absent) for none."))
            .build(),
    )
    .into()
}

string_schema! {
    /// A manufacturer's serial.
    DeviceSerial => text(1, record_limits::SERIAL).into()
}

string_schema! {
    /// A firmware version.
    FirmwareVersion => text(1, record_limits::FIRMWARE).into()
}

string_schema! {
    /// A label pushed to a monitor; empty for the device ID.
    DeviceLabel => text(0, record_limits::LABEL)
        .description(Some("Defaults to the device ID when absent or empty."))
        .into()
}

string_schema! {
    /// A bed.
    BedId => text(0, record_limits::BED_ID)
        .description(Some("Defaults to empty."))
        .into()
}

string_schema! {
    /// A new account's username: [`crate::admin::is_username`].
    Username => text(3, MAX_USERNAME_CHARS)
        .pattern(Some(format!("^[a-z][a-z0-9._-]{{2,{}}}$", MAX_USERNAME_CHARS - 1)))
        .description(Some("3 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter."))
        .into()
}

string_schema! {
    /// A new account's display name: [`crate::admin::is_display_name`].
    DisplayName => text(1, MAX_DISPLAY_NAME_CHARS).into()
}

string_schema! {
    /// A time, RFC 3339 (`2024-11-25T14:30:00Z`).
    Timestamp => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

string_schema! {
    /// An audit event type: one of [`crate::admin::AUDIT_EVENT_TYPES`].
    AuditEventType => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(AUDIT_EVENT_TYPES.iter().copied()))
        .into()
}

string_schema! {
    /// Rows in one page: 1 to [`crate::admin::MAX_PAGE`], by default
    /// [`crate::admin::DEFAULT_PAGE`].
    PageLimit => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_PAGE))
        .default(Some(DEFAULT_PAGE.into()))
        .into()
}

/// A string of `min..=max` characters (no bound for `usize::MAX`) with no
/// control character: [`crate::device::is_printable`].
fn text(min: usize, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min).filter(|&n| n > 0))
        .max_length(Some(max).filter(|&n| n != usize::MAX))
        .pattern(Some(format!("^[^{}]*$", class(char::is_control))))
}

fn ip(format: KnownFormat) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(format)))
}

/// `schema` with a JSON Schema `not`. utoipa 5's schema model has no `not`;
/// its extensions are written into the schema object as they are, so they
/// carry the keyword.
fn with_not(schema: ObjectBuilder, excluded: serde_json::Value) -> RefOr<Schema> {
    let mut schema = schema.build();
    schema.extensions = Some(not(excluded));
    Schema::Object(schema).into()
}

fn not(excluded: serde_json::Value) -> Extensions {
    Extensions::from_iter([("not", excluded)])
}

/// `word` matched in any ASCII case, without a case-insensitive flag (which
/// ECMA-262 patterns cannot carry inline).
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
        .collect()
}

/// Exactly `bytes` bytes as unpadded base64url: the last character carries
/// only the bits left over, the rest zero (the decoder refuses others).
fn base64url(bytes: usize) -> String {
    const DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bits = bytes * 8;
    let chars = bits.div_ceil(6);
    let spare = chars * 6 - bits;
    if spare == 0 {
        return format!("^[A-Za-z0-9_-]{{{chars}}}$");
    }
    let last: String = DIGITS.chars().step_by(1 << spare).collect();
    format!("^[A-Za-z0-9_-]{{{}}}[{last}]$", chars - 1)
}

/// Every `char` that `holds` for, as the inside of a regex class.
fn class(holds: impl Fn(char) -> bool) -> String {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if !holds(c) {
            continue;
        }
        let c = u32::from(c);
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    let escape = |c: u32| {
        if c <= 0xFFFF {
            format!("\\u{c:04X}")
        } else {
            format!("\\u{{{c:X}}}")
        }
    };
    ranges
        .into_iter()
        .map(|(start, end)| match end - start {
            0 => escape(start),
            1 => escape(start) + &escape(end),
            _ => format!("{}-{}", escape(start), escape(end)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern_of<T: PartialSchema>() -> regex::Regex {
        let schema = serde_json::to_value(T::schema()).expect("JSON");
        regex::Regex::new(schema["pattern"].as_str().expect("a pattern")).expect("a regex")
    }

    #[test]
    fn the_pairing_code_pattern_accepts_what_parse_accepts() {
        let pattern = pattern_of::<PairingCodeText>();
        for typed in [
            "K7P-M3X-Q9R",
            "k7p m3x q9r",
            " K7PM3XQ9R\t",
            "Ｋ７Ｐ-Ｍ３Ｘ-Ｑ９Ｒ",
            "К7Р-М3Х-Q9R",
            "K7P–M3X—Q9R",
            "K7P-M3X-Q90",
            "K7P-M3X-Q9",
            "K7P-M3X-Q9RR",
            "K7P-M3X-Q9€",
            "",
            "---------",
            "K7P-M3X-QIR",
        ] {
            assert_eq!(
                pattern.is_match(typed),
                crate::PairingCode::parse(typed).is_ok(),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn the_reason_pattern_accepts_what_check_reason_accepts() {
        let pattern = pattern_of::<Reason>();
        let long = "x".repeat(MAX_REASON_CHARS);
        let too_long = "x".repeat(MAX_REASON_CHARS + 1);
        for reason in [
            "moved to ICU-2",
            "a",
            " \t a \n",
            "",
            " ",
            "\t\n",
            "two\nlines",
            "tab\tinside",
            "nbsp\u{a0}inside",
            "\u{85}x\u{85}",
            long.as_str(),
            &format!("  {long}  "),
            too_long.as_str(),
        ] {
            assert_eq!(
                pattern.is_match(reason),
                crate::api::check_reason(reason).is_ok(),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn token_and_key_patterns_accept_what_decodes() {
        let token = regex::Regex::new(&base64url(PAIRING_TOKEN_BYTES)).expect("regex");
        let key = regex::Regex::new(&base64url(32)).expect("regex");
        for seed in 0..=255u8 {
            let bytes = [seed; 32];
            assert!(key.is_match(&crate::b64::encode(bytes)));
            assert!(token.is_match(&crate::b64::encode(&bytes[..PAIRING_TOKEN_BYTES])));
        }
        for text in [
            "AAAAAAAAAAAAAAAAAAAAAB",
            "AAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(!token.is_match(text), "{text}");
            let decoded = crate::b64::decode_array::<PAIRING_TOKEN_BYTES>(text);
            assert!(decoded.is_none(), "{text}");
        }
    }

    #[test]
    fn the_device_id_schema_matches_is_device_id() {
        let schema = serde_json::to_value(DeviceId::schema()).expect("JSON");
        let pattern = regex::Regex::new(schema["pattern"].as_str().expect("pattern")).expect("re");
        let reserved =
            regex::Regex::new(schema["not"]["pattern"].as_str().expect("not")).expect("re");
        for (id, ok) in crate::device::tests::device_id_samples() {
            let by_schema = pattern.is_match(&id) && !reserved.is_match(&id);
            assert_eq!(by_schema, ok, "{id:?}");
        }
    }

    #[test]
    fn the_username_schema_matches_is_username() {
        let schema = serde_json::to_value(Username::schema()).expect("JSON");
        let pattern = regex::Regex::new(schema["pattern"].as_str().expect("pattern")).expect("re");
        let long = format!("a{}", "b".repeat(63));
        let too_long = format!("a{}", "b".repeat(64));
        for name in [
            "ana", "ana.lima", "a_b-c.9", "ab", "Ana", "9ana", "_ana", "ana lima", "ana@x", "",
            "añá", &long, &too_long,
        ] {
            assert_eq!(
                pattern.is_match(name),
                crate::admin::is_username(name),
                "{name:?}"
            );
        }
    }
}
