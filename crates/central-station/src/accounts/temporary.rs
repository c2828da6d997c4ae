//! Passwords the station chooses for an account (created, or reset by an
//! administrator): shown once to the administrator who asked, to hand to
//! the account's owner, who must change it at the first sign-in.

use zeroize::Zeroizing;
use zpair_proto::crypto::{CryptoError, random_bytes};

/// Letters and digits a person reads back without doubt: no `i`, `l`, `o`,
/// `0` or `1`.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters drawn, in groups of [`GROUP`] joined by `-`: 20 of 31 are
/// about 99 bits.
const CHARS: usize = 20;
const GROUP: usize = 5;

/// A fresh temporary password (`xxxxx-xxxxx-xxxxx-xxxxx`) from the
/// operating system's CSPRNG, each character uniform over [`ALPHABET`].
pub(crate) fn generate() -> Result<Zeroizing<String>, CryptoError> {
    // Bytes of 248 and above are dropped so the rest fall evenly on the 31
    // characters (248 = 8 × 31).
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut password = Zeroizing::new(String::with_capacity(CHARS + CHARS / GROUP));
    let mut drawn = 0;
    while drawn < CHARS {
        let bytes = Zeroizing::new(random_bytes::<32>()?);
        for &byte in bytes.iter().filter(|&&b| b < limit) {
            if drawn == CHARS {
                break;
            }
            if drawn > 0 && drawn % GROUP == 0 {
                password.push('-');
            }
            password.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            drawn += 1;
        }
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_fresh_and_from_the_alphabet() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 23, "{}", *a);
        assert!(a.chars().count() >= 16);
        for (i, c) in a.chars().enumerate() {
            if i % 6 == 5 {
                assert_eq!(c, '-');
            } else {
                assert!(ALPHABET.contains(&(c as u8)), "{c}");
            }
        }
        // Every character of the alphabet turns up (a stuck draw would not).
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            seen.extend(generate().expect("random").chars().filter(|c| *c != '-'));
        }
        assert_eq!(seen.len(), ALPHABET.len());
    }
}
