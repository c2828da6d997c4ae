//! The secrets of a WebDriver run searched for in the app's log: the suite
//! writes every password, code, QR token and session token that went through
//! the app, and each is looked for in every form a log line might carry it
//! in. The app ran at trace level (checked), so a secret any line could leak
//! would be there. A finding never prints the secret itself.

use std::path::Path;

use crate::json;
use crate::process::Failure;

/// Fails if the log at `log` was not written at trace level, or holds any
/// of the secrets listed (a JSON array of strings) in `secrets`.
pub fn check_log(log: &Path, secrets: &Path) -> Result<(), Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::Step(format!("cannot read {}: {e}", path.display())))
    };
    let text = read(log)?;
    let listed = json::parse(&read(secrets)?)
        .map_err(|e| Failure::Step(format!("{} is not JSON: {e}", secrets.display())))?;
    let secrets: Vec<&str> = listed
        .as_array()
        .iter()
        .filter_map(json::Value::as_str)
        .collect();
    if !text.contains("TRACE") {
        return Err(Failure::Step(format!(
            "{} has no TRACE line: the app did not log at trace level, so the search proves nothing",
            log.display()
        )));
    }
    if secrets.len() < 4 {
        return Err(Failure::Step(format!(
            "only {} secrets listed: the suite did not record what went through the app",
            secrets.len()
        )));
    }
    for (n, secret) in secrets.iter().enumerate() {
        for (form, text_form) in forms(secret) {
            if text.contains(&text_form) {
                return Err(Failure::Step(format!(
                    "secret #{} of the run ({} characters) is in {} ({form})",
                    n + 1,
                    secret.len(),
                    log.display()
                )));
            }
        }
    }
    crate::process::say(&format!(
        "{} secrets, none in the app's log ({} KiB at trace level)",
        secrets.len(),
        text.len() / 1024
    ));
    Ok(())
}

/// The forms searched: as is, in either case, URL-encoded, in standard
/// base64 and hex, and for base64url text its bytes in hex and standard
/// base64. Forms shorter than 8 characters would match by chance.
fn forms(secret: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("as is", secret.to_owned()),
        ("lower case", secret.to_lowercase()),
        ("upper case", secret.to_uppercase()),
        ("URL-encoded", url_encode(secret)),
        ("base64", base64(secret.as_bytes())),
        ("hex", hex(secret.as_bytes())),
    ];
    if let Some(bytes) = base64url_decode(secret) {
        out.push(("its bytes in hex", hex(&bytes)));
        out.push(("its bytes in base64", base64(&bytes)));
    }
    out.retain(|(_, f)| f.len() >= 8);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without padding (a padded form contains it).
fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(STANDARD[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The bytes of base64url text (no padding), or `None` if it is not that.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    };
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)?) << (18 - 6 * i);
        }
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_ways_matches_the_reference() {
        assert_eq!(base64(b"Ma"), "TWE");
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8");
        assert_eq!(base64url_decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode("TWFu"), Some(b"Man".to_vec()));
        assert_eq!(base64url_decode("a+b"), None);
    }

    #[test]
    fn a_secret_in_any_form_is_found_and_not_printed() {
        let dir = std::env::temp_dir().join(format!("zpair-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (log, list) = (dir.join("app.log"), dir.join("secrets.json"));
        let secret = "q8Zk-3_Ab9Xy";
        std::fs::write(&list, format!("[\"{secret}\",\"one\",\"two\",\"three\"]")).expect("list");
        for leaked in [
            secret.to_owned(),
            hex(&base64url_decode(secret).expect("b64url")),
            url_encode("a b c d e f"),
        ] {
            std::fs::write(&log, format!("TRACE x\nDEBUG {leaked}\n")).expect("log");
            let found = check_log(&log, &list);
            if leaked.contains('%') {
                assert!(found.is_ok(), "not a listed secret");
                continue;
            }
            let Err(Failure::Step(message)) = found else {
                panic!("{leaked} not found");
            };
            assert!(!message.contains(secret), "{message}");
        }
        std::fs::write(&log, "DEBUG nothing\n").expect("log");
        assert!(check_log(&log, &list).is_err(), "no TRACE line");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
