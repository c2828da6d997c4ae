//! The JSON Schema subset the station's OpenAPI document uses, both ways:
//! [`Document::check`] validates a value against a schema, and
//! [`Document::valid`] / [`Document::broken`] are proptest strategies for
//! values that satisfy a schema or break one of its constraints.
//!
//! Keywords: `$ref` (within the document), `type` (one or a list), `enum`,
//! `properties`, `required`, `additionalProperties: false`, `items`,
//! `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`, `format`
//! (`ipv4`, `ipv6`, `date-time` and the station's `ed25519-public-key` are
//! asserted; others are annotations), `allOf`, `anyOf`, `oneOf`, `not`.
//! Anything else is ignored, so a new keyword in the document must be added
//! here before the conformance test can speak for it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// The OpenAPI document, for `$ref`s.
#[derive(Debug)]
pub struct Document {
    pub root: Value,
    patterns: RefCell<HashMap<String, regex::Regex>>,
}

/// Where a value breaks its schema, and how.
#[derive(Debug)]
pub struct Mismatch {
    /// The JSON path (`$.rows[3].deviceId`).
    pub at: String,
    /// What is wrong there.
    pub why: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.why)
    }
}

impl Document {
    pub fn new(root: Value) -> Rc<Self> {
        Rc::new(Self {
            root,
            patterns: RefCell::default(),
        })
    }

    /// `schema`, with `$ref`s followed.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = reference.trim_start_matches('#');
            schema = self
                .root
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling {reference}"));
        }
        schema
    }

    /// Whether `value` satisfies `schema`; the error says where it does not.
    pub fn check(&self, schema: &Value, value: &Value) -> Result<(), Mismatch> {
        self.check_at(schema, value, "$")
    }

    fn check_at(&self, schema: &Value, value: &Value, at: &str) -> Result<(), Mismatch> {
        let schema = self.resolve(schema);
        let fail = |why: String| {
            Err(Mismatch {
                at: at.to_owned(),
                why,
            })
        };
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !allowed.iter().any(|t| has_type(value, t)) {
                return fail(format!("{value} is not of type {types}"));
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.contains(value)
        {
            return fail(format!("{value} is not one of {values:?}"));
        }
        match value {
            Value::String(text) => {
                if let Some(why) = self.string_fault(schema, text) {
                    return fail(why);
                }
            }
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or(f64::NAN);
                if schema["minimum"].as_f64().is_some_and(|min| n < min)
                    || schema["maximum"].as_f64().is_some_and(|max| n > max)
                {
                    return fail(format!("{n} is out of range"));
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.check_at(item, v, &format!("{at}[{i}]"))?;
                    }
                }
            }
            Value::Object(fields) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                for name in schema["required"].as_array().into_iter().flatten() {
                    let name = name.as_str().unwrap_or_default();
                    if !fields.contains_key(name) {
                        return fail(format!("{name} is required"));
                    }
                }
                for (name, v) in fields {
                    match properties.and_then(|p| p.get(name)) {
                        Some(property) => self.check_at(property, v, &format!("{at}.{name}"))?,
                        None if schema["additionalProperties"] == json!(false) => {
                            return fail(format!("{name} is not allowed"));
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
        for branch in schema["allOf"].as_array().into_iter().flatten() {
            self.check_at(branch, value, at)?;
        }
        if let Some(branches) = schema["anyOf"].as_array()
            && !branches.iter().any(|b| self.check_at(b, value, at).is_ok())
        {
            return fail(format!("{value} matches none of anyOf"));
        }
        if let Some(branches) = schema["oneOf"].as_array() {
            let matched = branches
                .iter()
                .filter(|b| self.check_at(b, value, at).is_ok())
                .count();
            if matched != 1 {
                return fail(format!("{value} matches {matched} of oneOf"));
            }
        }
        if let Some(excluded) = schema.get("not")
            && self.check_at(excluded, value, at).is_ok()
        {
            return fail(format!("{value} matches `not`"));
        }
        Ok(())
    }

    /// Why `text` breaks the string constraints of `schema`, if it does.
    fn string_fault(&self, schema: &Value, text: &str) -> Option<String> {
        let chars = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| chars < min)
            || schema["maxLength"].as_u64().is_some_and(|max| chars > max)
        {
            return Some(format!("{text:?} has a wrong length"));
        }
        if let Some(pattern) = schema["pattern"].as_str()
            && !self.regex(pattern).is_match(text)
        {
            return Some(format!("{text:?} does not match {pattern}"));
        }
        let formatted = match schema["format"].as_str() {
            Some("ipv4") => text.parse::<Ipv4Addr>().is_ok(),
            Some("ipv6") => text.parse::<Ipv6Addr>().is_ok(),
            Some("date-time") => zpair_proto::timestamp::parse(text).is_ok(),
            Some("ed25519-public-key") => zpair_proto::crypto::parse_public_key(text).is_ok(),
            _ => true,
        };
        (!formatted).then(|| format!("{text:?} is not a {}", schema["format"]))
    }

    fn regex(&self, pattern: &str) -> regex::Regex {
        self.patterns
            .borrow_mut()
            .entry(pattern.to_owned())
            .or_insert_with(|| regex::Regex::new(pattern).expect("a pattern Rust's regex reads"))
            .clone()
    }

    /// Values that satisfy `schema`.
    pub fn valid(self: &Rc<Self>, schema: &Value) -> BoxedStrategy<Value> {
        let whole = schema.clone();
        let doc = self.clone();
        self.raw_valid(self.resolve(schema))
            .prop_filter("valid against the whole schema", move |v| {
                doc.check(&whole, v).is_ok()
            })
            .boxed()
    }

    /// Values built to satisfy `schema`'s parts; `not` and `oneOf`'s
    /// exclusivity are left to [`Document::valid`]'s filter.
    fn raw_valid(self: &Rc<Self>, schema: &Value) -> BoxedStrategy<Value> {
        if let Some(values) = schema["enum"].as_array() {
            return select(values.clone()).boxed();
        }
        if let Some(branches) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
            let options: Vec<_> = branches.iter().map(|b| self.valid(b)).collect();
            return proptest::strategy::Union::new(options).boxed();
        }
        if schema.get("allOf").is_some() {
            return self.object(&self.merged(schema));
        }
        match &schema["type"] {
            Value::Array(types) => {
                let options: Vec<_> = types
                    .iter()
                    .map(|t| {
                        let mut one = schema.clone();
                        one["type"] = t.clone();
                        self.raw_valid(&one)
                    })
                    .collect();
                proptest::strategy::Union::new(options).boxed()
            }
            Value::String(t) => match t.as_str() {
                "null" => Just(Value::Null).boxed(),
                "boolean" => any::<bool>().prop_map(Value::from).boxed(),
                "integer" | "number" => {
                    let min = schema["minimum"].as_i64().unwrap_or(0);
                    let max = schema["maximum"].as_i64().unwrap_or(min + 1_000);
                    (min..=max).prop_map(Value::from).boxed()
                }
                "array" => {
                    let item = self.valid(&schema["items"]);
                    proptest::collection::vec(item, 0..3)
                        .prop_map(Value::Array)
                        .boxed()
                }
                "object" => self.object(schema),
                _ => string(schema),
            },
            _ if schema.get("pattern").is_some() => string(schema),
            _ => Just(Value::Null).boxed(),
        }
    }

    /// An object schema's properties and required names, through `allOf`.
    fn merged(&self, schema: &Value) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut parts = vec![self.resolve(schema)];
        while let Some(part) = parts.pop() {
            if let Some(p) = part["properties"].as_object() {
                properties.extend(p.clone());
            }
            required.extend(part["required"].as_array().cloned().unwrap_or_default());
            parts.extend(
                part["allOf"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| self.resolve(b)),
            );
        }
        json!({ "type": "object", "properties": properties, "required": required })
    }

    fn object(self: &Rc<Self>, schema: &Value) -> BoxedStrategy<Value> {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, property)| {
                let is_required = required.contains(&name.as_str());
                let name = name.clone();
                let value = self
                    .valid(property)
                    .prop_map(move |v| Some((name.clone(), v)));
                if is_required {
                    value.boxed()
                } else {
                    prop_oneof![Just(None), value].boxed()
                }
            })
            .collect();
        fields
            .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
            .boxed()
    }

    /// Values that break at least one of `schema`'s constraints (most break
    /// exactly one). Not every one is invalid — a random string may match a
    /// pattern — so the caller checks each with [`Document::check`].
    pub fn broken(self: &Rc<Self>, schema: &Value) -> BoxedStrategy<Value> {
        let schema = self.resolve(schema);
        let mut options = vec![Just(wrong_type(schema)).boxed()];
        if let Some(branches) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
            for branch in branches {
                if self.resolve(branch)["type"] != json!("null") {
                    options.push(self.broken(branch));
                }
            }
        }
        if let Some(excluded) = schema.get("not") {
            options.push(self.raw_valid(excluded));
        }
        if schema.get("allOf").is_some() || schema["type"] == json!("object") {
            self.broken_object(schema, &mut options);
        }
        if schema["type"] == json!("array") {
            let item = self.broken(&schema["items"]);
            options.push(item.prop_map(|v| json!([v])).boxed());
        }
        if let Some(min) = schema["minimum"].as_i64() {
            options.push(Just(json!(min - 1)).boxed());
        }
        if let Some(max) = schema["maximum"].as_i64() {
            options.push(Just(json!(max + 1)).boxed());
        }
        if schema.get("enum").is_some() {
            options.push(Just(json!("not_a_member")).boxed());
        }
        if let Some(min) = schema["minLength"].as_u64() {
            options.push(Just(json!("x".repeat(min as usize - 1))).boxed());
        }
        if let Some(max) = schema["maxLength"].as_u64() {
            options.push(Just(json!("x".repeat(max as usize + 1))).boxed());
        }
        if schema.get("pattern").is_some() || schema.get("format").is_some() {
            options.push(
                proptest::string::string_regex(".{0,12}")
                    .expect("regex")
                    .prop_map(Value::from)
                    .boxed(),
            );
        }
        proptest::strategy::Union::new(options).boxed()
    }

    fn broken_object(self: &Rc<Self>, schema: &Value, options: &mut Vec<BoxedStrategy<Value>>) {
        let merged = if schema.get("allOf").is_some() {
            self.merged(schema)
        } else {
            schema.clone()
        };
        let valid = self.object(&merged);
        for name in merged["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default().to_owned();
            options.push(
                valid
                    .clone()
                    .prop_map(move |mut v| {
                        v.as_object_mut().map(|o| o.remove(&name));
                        v
                    })
                    .boxed(),
            );
        }
        options.push(
            valid
                .clone()
                .prop_map(|mut v| {
                    v["unexpectedField"] = json!(1);
                    v
                })
                .boxed(),
        );
        for (name, property) in merged["properties"].as_object().into_iter().flatten() {
            let name = name.clone();
            options.push(
                (valid.clone(), self.broken(property))
                    .prop_map(move |(mut v, bad)| {
                        v[name.as_str()] = bad;
                        v
                    })
                    .boxed(),
            );
        }
    }
}

/// Strings for a string schema: loopback addresses for the address formats
/// (so nothing generated makes the station connect off this machine), real
/// keys for `ed25519-public-key`, and the pattern's language otherwise.
fn string(schema: &Value) -> BoxedStrategy<Value> {
    match schema["format"].as_str() {
        Some("ipv4") => {
            return (1u8..=254)
                .prop_map(|x| json!(format!("127.0.0.{x}")))
                .boxed();
        }
        Some("ipv6") => return Just(json!("::1")).boxed(),
        Some("date-time") => return Just(json!("2024-11-25T14:30:00Z")).boxed(),
        Some("ed25519-public-key") => {
            return any::<[u8; 32]>()
                .prop_map(|seed| {
                    let key = zpair_proto::crypto::SigningKey::from_bytes(&seed);
                    json!(zpair_proto::crypto::public_key_text(&key.verifying_key()))
                })
                .boxed();
        }
        _ => {}
    }
    let min = schema["minLength"].as_u64().unwrap_or(0);
    let max = schema["maxLength"].as_u64().unwrap_or(min + 24);
    let pattern = match schema["pattern"].as_str() {
        // One class repeated (`^[…]*$`): repeated up to the length bounds,
        // which proptest's `*` (at most 32) would not reach.
        Some(p) if p.starts_with("^[") && p.ends_with("]*$") && p.matches(']').count() == 1 => {
            format!("{}{{{min},{max}}}", &p[1..p.len() - 2])
        }
        // proptest generates from a regex's language, without anchors.
        Some(p) => p.trim_start_matches('^').trim_end_matches('$').to_owned(),
        None => format!(".{{{min},{}}}", max.min(min + 24)),
    };
    proptest::string::string_regex(&pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .prop_map(Value::from)
        .boxed()
}

/// A value of a type the schema does not allow.
fn wrong_type(schema: &Value) -> Value {
    let allowed = |t: &str| match &schema["type"] {
        Value::String(s) => s == t,
        Value::Array(ts) => ts.iter().any(|x| x == t),
        _ => t == "string",
    };
    if allowed("string") {
        json!(7)
    } else {
        json!("seven")
    }
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    }
}
