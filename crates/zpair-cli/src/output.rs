//! Printing: human text, or JSON with `--json`. Results go to stdout;
//! prompts and (human) errors to stderr.

use std::io::Write as _;

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::failure::Failure;

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// `json`: machine-readable output.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// One result: `value` as JSON, or the text `human` builds.
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            self.json_line(&serde_json::to_value(value).unwrap_or(Value::Null));
        } else {
            say(&human());
        }
    }

    /// One JSON document on its own line.
    pub fn json_line(&self, value: &Value) {
        say(&format!("{value}"));
    }

    /// A line of human text (nothing with `--json`).
    pub fn text(&self, line: &str) {
        if !self.json {
            say(line);
        }
    }

    /// A line of human text on stderr (nothing with `--json`): notes that
    /// must not mix with results piped elsewhere.
    pub fn note(&self, line: &str) {
        if !self.json {
            tell(line);
        }
    }

    /// A command's failure: JSON on stdout, or `error [code]: message` on stderr.
    pub fn failure(&self, failure: &Failure) {
        let next = failure.next_action.map(|n| n.as_str());
        if self.json {
            self.json_line(&json!({
                "error": {
                    "code": failure.error.code,
                    "message": failure.error.message,
                    "nextAction": next,
                }
            }));
        } else {
            tell(&format!(
                "error [{}]: {}",
                failure.error.code, failure.error.message
            ));
        }
    }

    /// A table with a header row, columns as wide as their widest cell.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        say(&line(header.to_vec()));
        for row in rows {
            say(&line(row.iter().map(String::as_str).collect()));
        }
    }
}

/// Writes a line to stdout. A closed pipe (`zpair devices | head`) ends
/// the output quietly instead of panicking as `println!` would.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Writes a line to stderr, quietly if it is closed.
pub fn tell(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `HH:MM:SS.mmm` (UTC) for live step lines.
pub fn clock(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[hour]:[minute]:[second].[subsecond digits:3]"
    ))
    .unwrap_or_default()
}

/// RFC 3339 for timestamps in tables and JSON.
pub fn timestamp(at: OffsetDateTime) -> String {
    zpair_proto::timestamp::format(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn step_clock_has_milliseconds() {
        assert_eq!(
            clock(datetime!(2024-11-25 12:00:01.2345 UTC)),
            "12:00:01.234"
        );
    }
}
