//! Realistic Z Monitor QR payloads: the JSON a monitor in provisioning mode
//! shows (see ARCHITECTURE.md, "The pairing flow"), varied per seed so tests and
//! benchmarks exercise different QR layouts of the same size class.

use std::net::{IpAddr, Ipv4Addr};

use time::{Date, Month, OffsetDateTime, Time};
use zpair_proto::pairing_code::{ALPHABET, CODE_LENGTH};
use zpair_proto::qr::PAIRING_TOKEN_BYTES;
use zpair_proto::{PairingCode, QrPayload};

use crate::rng::SplitMix;

const WARDS: [&str; 8] = ["ICU", "CCU", "NICU", "PICU", "ER", "OR", "W3B", "STEPDOWN"];

/// A Z Monitor pairing payload (about 200–230 bytes of JSON), deterministic
/// from `seed`, built by the protocol's own type as a monitor builds it.
#[must_use]
pub fn sample_payload(seed: u64) -> String {
    let mut rng = SplitMix::new(seed ^ 0x5A4D_5041_4952);
    let ward = WARDS[rng.below(WARDS.len())];
    let bed = 1 + rng.below(48);
    let year = 2019 + rng.below(7);
    let serial = rng.below(1_000_000);
    let ip_host = u8::try_from(2 + rng.below(250)).unwrap_or(2);
    let letters: String = (0..CODE_LENGTH)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
        .collect();
    let code = PairingCode::parse(&letters).unwrap_or_else(|_| unreachable!("drawn from ALPHABET"));
    let token: [u8; PAIRING_TOKEN_BYTES] = std::array::from_fn(|_| rng.next_u64().to_le_bytes()[0]);
    let expires_at = expiry(&mut rng);
    let fw = (1 + rng.below(3), rng.below(10), rng.below(20));
    QrPayload::new(
        &format!("ZM-{ward}-{bed:02}"),
        &format!("SN-{year}-{serial:06}"),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, ip_host)),
        &code,
        &token,
        expires_at,
        &format!("{}.{}.{}", fw.0, fw.1, fw.2),
    )
    .to_json()
}

/// A whole minute in 2026.
fn expiry(rng: &mut SplitMix) -> OffsetDateTime {
    let month =
        Month::try_from(u8::try_from(1 + rng.below(12)).unwrap_or(1)).unwrap_or(Month::January);
    let day = u8::try_from(1 + rng.below(28)).unwrap_or(1);
    let hour = u8::try_from(rng.below(24)).unwrap_or(0);
    let minute = u8::try_from(rng.below(60)).unwrap_or(0);
    let date = Date::from_calendar_date(2026, month, day).unwrap_or(Date::MIN);
    let time = Time::from_hms(hour, minute, 0).unwrap_or(Time::MIDNIGHT);
    date.with_time(time).assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_documented_size_and_vary() {
        let a = sample_payload(1);
        let b = sample_payload(2);
        assert_ne!(a, b);
        for s in 0..200 {
            let p = sample_payload(s);
            assert!((195..=235).contains(&p.len()), "{} bytes: {p}", p.len());
            assert!(p.contains("\"pairingToken\":\""));
        }
    }

    #[test]
    fn payloads_are_what_a_monitor_shows() {
        for s in 0..50 {
            let payload: QrPayload =
                serde_json::from_str(&sample_payload(s)).expect("the protocol's JSON");
            assert!(PairingCode::parse(&payload.pairing_code).is_ok());
            assert_eq!(payload.pairing_token.len(), 22, "16 bytes, base64url");
            assert!(payload.device_id.starts_with("ZM-"));
        }
    }
}
