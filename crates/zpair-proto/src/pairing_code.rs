//! The pairing code a Z Monitor shows under its QR: `XXX-XXX-XXX`.
//!
//! Parse and encode side by side, as rs-matter keeps its pairing code: the
//! monitor draws codes with [`PairingCode::generate`], the app and the station
//! read what a technician typed with [`PairingCode::parse`], and all three agree
//! on [`PairingCode::canonical`] — the nine characters without dashes — as the
//! key of the pairing proof.

use std::fmt;

/// Characters a code is drawn from: digits and capitals without the ones a
/// person confuses on a screen or a keyboard (0/O, 1/I/L).
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a code, without separators.
pub const CODE_LENGTH: usize = 9;
/// Characters between two dashes in the displayed form.
pub const GROUP_LENGTH: usize = 3;

/// A well-formed pairing code, held in its canonical nine-character form.
///
/// Its `Debug` output is redacted: a code binds a technician's request to a
/// monitor's session and must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode([u8; CODE_LENGTH]);

/// Why typed text is not a pairing code, in terms a technician can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingCodeError {
    /// Fewer or more than nine code characters.
    #[error(
        "a pairing code has 9 characters (XXX-XXX-XXX); this one has {0}. Check the code on the monitor's screen"
    )]
    WrongLength(usize),
    /// A character that never appears in a code.
    #[error(
        "'{0}' never appears in a pairing code (codes use no 0, O, 1, I or L). Check the code on the monitor's screen"
    )]
    InvalidCharacter(char),
}

impl PairingCode {
    /// Reads a code as a person typed it: any case, with or without dashes or
    /// spaces, full-width and Cyrillic/Greek look-alike letters folded to ASCII.
    pub fn parse(input: &str) -> Result<Self, PairingCodeError> {
        let mut code = [0u8; CODE_LENGTH];
        let mut len = 0usize;
        for raw in input.chars() {
            let Some(c) = fold(raw) else { continue };
            if !ALPHABET.contains(&c) {
                return Err(PairingCodeError::InvalidCharacter(raw));
            }
            if len < CODE_LENGTH {
                code[len] = c;
            }
            len += 1;
        }
        if len != CODE_LENGTH {
            return Err(PairingCodeError::WrongLength(len));
        }
        Ok(Self(code))
    }

    /// Draws a fresh code from the operating system's CSPRNG, without modulo
    /// bias (bytes at or above the largest multiple of 31 are redrawn).
    pub fn generate() -> Result<Self, getrandom::Error> {
        const LIMIT: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
        let mut code = [0u8; CODE_LENGTH];
        let mut filled = 0;
        let mut pool = [0u8; 32];
        while filled < CODE_LENGTH {
            getrandom::fill(&mut pool)?;
            for &b in &pool {
                if b < LIMIT && filled < CODE_LENGTH {
                    code[filled] = ALPHABET[usize::from(b) % ALPHABET.len()];
                    filled += 1;
                }
            }
        }
        Ok(Self(code))
    }

    /// The nine characters without dashes: what the pairing proof is keyed by.
    pub fn canonical(&self) -> &str {
        // Only ALPHABET bytes are ever stored, so this is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The displayed form, `XXX-XXX-XXX`.
    pub fn display(&self) -> String {
        let c = self.canonical();
        format!("{}-{}-{}", &c[0..3], &c[3..6], &c[6..9])
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(<redacted>)")
    }
}

/// How one typed character reads in a pairing code, for forms that format
/// the code as the technician types it (the same folding as [`PairingCode::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedChar {
    /// A code character, folded to its canonical capital.
    Code(char),
    /// A dash, space or other separator, ignored.
    Separator,
    /// A character that never appears in a code.
    Invalid,
}

/// Classifies one typed character as [`PairingCode::parse`] would read it.
pub fn classify(c: char) -> TypedChar {
    match fold(c) {
        None => TypedChar::Separator,
        Some(b) if ALPHABET.contains(&b) => TypedChar::Code(char::from(b)),
        Some(_) => TypedChar::Invalid,
    }
}

/// Maps one typed character to an ASCII capital, or `None` for separators.
fn fold(c: char) -> Option<u8> {
    let c = match c {
        // Full-width forms, as some tablet keyboards produce them.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    let c = match c {
        // Cyrillic and Greek capitals and small letters that look like Latin ones.
        'А' | 'а' | 'Α' | 'α' => 'A',
        'В' | 'в' | 'Β' | 'β' => 'B',
        'Е' | 'е' | 'Ε' | 'ε' => 'E',
        'К' | 'к' | 'Κ' | 'κ' => 'K',
        'М' | 'м' | 'Μ' => 'M',
        'Н' | 'н' | 'Η' => 'H',
        'Р' | 'р' | 'Ρ' | 'ρ' => 'P',
        'С' | 'с' | 'Ϲ' => 'C',
        'Т' | 'т' | 'Τ' | 'τ' => 'T',
        'Х' | 'х' | 'Χ' | 'χ' => 'X',
        'У' | 'у' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        'Ν' => 'N',
        'О' | 'о' | 'Ο' | 'ο' => 'O',
        _ => c,
    };
    match c {
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '_' | '.' | '·' => None,
        c if c.is_whitespace() => None,
        c if c.is_ascii() => Some(c.to_ascii_uppercase() as u8),
        // Anything else is reported as it was typed by the caller.
        _ => Some(0),
    }
}

/// A technician typed it: the same `invalid_code` as the station answers.
impl crate::user_facing::UserFacing for PairingCodeError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidCode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_typed_form_of_the_same_code() {
        for typed in [
            "K7P-M3X-Q9R",
            "k7p-m3x-q9r",
            "K7PM3XQ9R",
            " k7p m3x q9r ",
            "K7P–M3X—Q9R",
            "Ｋ７Ｐ-Ｍ３Ｘ-Ｑ９Ｒ",
            "К7Р-М3Х-Q9R", // Cyrillic К, Р, М, Х
        ] {
            let code = PairingCode::parse(typed).unwrap_or_else(|e| panic!("{typed}: {e}"));
            assert_eq!(code.canonical(), "K7PM3XQ9R", "{typed}");
            assert_eq!(code.display(), "K7P-M3X-Q9R");
        }
    }

    #[test]
    fn refuses_ambiguous_characters_and_wrong_lengths() {
        assert_eq!(
            PairingCode::parse("K7P-M3X-Q90"),
            Err(PairingCodeError::InvalidCharacter('0'))
        );
        assert_eq!(
            PairingCode::parse("K7P-M3X-QIR"),
            Err(PairingCodeError::InvalidCharacter('I'))
        );
        assert_eq!(
            PairingCode::parse("l7P-M3X-Q9R"),
            Err(PairingCodeError::InvalidCharacter('l'))
        );
        assert_eq!(
            PairingCode::parse("K7P-M3X-Q9"),
            Err(PairingCodeError::WrongLength(8))
        );
        assert_eq!(
            PairingCode::parse("K7P-M3X-Q9RR"),
            Err(PairingCodeError::WrongLength(10))
        );
        assert_eq!(
            PairingCode::parse(""),
            Err(PairingCodeError::WrongLength(0))
        );
        assert_eq!(
            PairingCode::parse("K7P-M3X-Q9€"),
            Err(PairingCodeError::InvalidCharacter('€'))
        );
    }

    #[test]
    fn generated_codes_use_only_the_alphabet_and_differ() {
        let a = PairingCode::generate().expect("rng");
        let b = PairingCode::generate().expect("rng");
        assert_ne!(a, b);
        assert!(a.canonical().bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(PairingCode::parse(&a.display()), Ok(a));
    }

    #[test]
    fn classify_folds_like_parse() {
        assert_eq!(classify('k'), TypedChar::Code('K'));
        assert_eq!(classify('К'), TypedChar::Code('K'));
        assert_eq!(classify('７'), TypedChar::Code('7'));
        assert_eq!(classify('-'), TypedChar::Separator);
        assert_eq!(classify(' '), TypedChar::Separator);
        assert_eq!(classify('0'), TypedChar::Invalid);
        assert_eq!(classify('€'), TypedChar::Invalid);
    }

    #[test]
    fn debug_never_shows_the_code() {
        let code = PairingCode::parse("K7P-M3X-Q9R").expect("valid");
        assert!(!format!("{code:?}").contains("K7P"));
    }
}
