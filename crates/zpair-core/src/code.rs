//! The pairing code as a technician types it: normalisation is
//! [`PairingCode::parse`] (case, dashes, spaces, look-alike letters, in
//! `zpair-proto` so the station reads codes the same way); this module adds
//! the as-you-type view a form needs.

use serde::Serialize;
use zpair_proto::pairing_code::{CODE_LENGTH, GROUP_LENGTH, TypedChar, classify};
pub use zpair_proto::pairing_code::{PairingCode, PairingCodeError};

use crate::error::{UserFacing as _, UserFacingError};

/// What a code field shows while the technician types (serialises as the
/// app's `CodeCheck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeCheck {
    /// The input re-formatted: capitals, dashes between groups (`k7pm` → `K7P-M`).
    pub display: String,
    /// Whether the input is a whole, valid code.
    pub complete: bool,
    /// A character that never appears in a code, or too many characters.
    pub error: Option<UserFacingError>,
}

/// Re-formats partial input and reports what is already wrong with it; the
/// display never shows more than a code's nine characters.
pub fn check_typed(input: &str) -> CodeCheck {
    let mut chars = Vec::with_capacity(CODE_LENGTH);
    let mut count = 0usize;
    let mut error = None;
    for raw in input.chars() {
        match classify(raw) {
            TypedChar::Separator => {}
            TypedChar::Code(c) => {
                count += 1;
                if chars.len() < CODE_LENGTH {
                    chars.push(c);
                }
            }
            TypedChar::Invalid => {
                error.get_or_insert(PairingCodeError::InvalidCharacter(raw));
            }
        }
    }
    if count > CODE_LENGTH {
        error.get_or_insert(PairingCodeError::WrongLength(count));
    }
    let mut display = String::with_capacity(CODE_LENGTH + 2);
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && i % GROUP_LENGTH == 0 {
            display.push('-');
        }
        display.push(*c);
    }
    CodeCheck {
        complete: error.is_none() && count == CODE_LENGTH,
        display,
        error: error.map(|e| e.user_facing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_typed() {
        let cases = [
            ("", "", false),
            ("k", "K", false),
            ("k7p", "K7P", false),
            ("k7pm", "K7P-M", false),
            ("K7P-M3", "K7P-M3", false),
            ("k7p m3x q9", "K7P-M3X-Q9", false),
            ("k7pm3xq9r", "K7P-M3X-Q9R", true),
            ("К7Р-М3Х-Q9R", "K7P-M3X-Q9R", true),
        ];
        for (input, display, complete) in cases {
            let check = check_typed(input);
            assert_eq!(check.display, display, "{input}");
            assert_eq!(check.complete, complete, "{input}");
            assert_eq!(check.error, None, "{input}");
        }
    }

    #[test]
    fn flags_ambiguous_characters_and_overflow() {
        let check = check_typed("K7P-0");
        assert_eq!(check.display, "K7P");
        assert!(!check.complete);
        let error = check.error.expect("0 never appears");
        assert_eq!(error.code, zpair_proto::ErrorCode::InvalidCode);
        assert!(error.message.contains("'0'"), "{}", error.message);

        let check = check_typed("K7P-M3X-Q9RA");
        assert_eq!(check.display, "K7P-M3X-Q9R");
        assert!(!check.complete);
        assert!(check.error.is_some());
    }

    #[test]
    fn complete_means_parse_accepts_it() {
        for input in ["k7pm3xq9r", "K7P M3X Q9R", "k7p-m3x-q9r-"] {
            assert!(check_typed(input).complete);
            assert!(PairingCode::parse(input).is_ok());
        }
    }
}
