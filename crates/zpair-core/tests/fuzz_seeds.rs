//! The `qr_payload` fuzz target's committed seeds do what they are for: one
//! is a payload validation accepts, so every run reaches the target's
//! assertions (random bytes almost never make valid JSON with a live code).
//! Read from the checkout the test runs in, found at run time.

use std::path::PathBuf;

use time::OffsetDateTime;
use zpair_core::qr;

fn seed(name: &str) -> (OffsetDateTime, String) {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = PathBuf::from(manifest)
        .join("../../fuzz/seeds/qr_payload")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (clock, text) = bytes.split_first_chunk::<8>().expect("8 bytes of clock");
    let now = OffsetDateTime::from_unix_timestamp(i64::from_le_bytes(*clock)).expect("clock");
    (now, String::from_utf8(text.to_vec()).expect("UTF-8"))
}

#[test]
fn the_valid_seeds_pass_validation_and_the_others_fail_as_named() {
    for name in ["valid", "valid-ipv6"] {
        let (now, text) = seed(name);
        assert!(
            qr::validate(&text, now).is_ok(),
            "{name}: {:?}",
            qr::validate(&text, now)
        );
    }
    for name in [
        "expired",
        "too-far-ahead",
        "bad-code",
        "bad-token",
        "not-json",
    ] {
        let (now, text) = seed(name);
        assert!(qr::validate(&text, now).is_err(), "{name} was accepted");
    }
}
