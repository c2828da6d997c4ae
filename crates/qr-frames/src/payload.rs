//! Realistic Z Monitor QR payloads: the JSON a monitor in provisioning mode
//! shows (see ARCHITECTURE.md, "The pairing flow"), varied per seed so tests and
//! benchmarks exercise different QR layouts of the same size class.

use crate::rng::SplitMix;

/// The pairing-code alphabet: no 0/O, 1/I/L, so it can be typed unambiguously.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const WARDS: [&str; 8] = ["ICU", "CCU", "NICU", "PICU", "ER", "OR", "W3B", "STEPDOWN"];

/// A Z Monitor pairing payload (about 200–230 bytes of JSON), deterministic
/// from `seed`.
#[must_use]
pub fn sample_payload(seed: u64) -> String {
    let mut rng = SplitMix::new(seed ^ 0x5A4D_5041_4952);
    let ward = WARDS[rng.below(WARDS.len())];
    let bed = 1 + rng.below(48);
    let year = 2019 + rng.below(7);
    let serial = rng.below(1_000_000);
    let ip_host = 2 + rng.below(250);
    let code: String = (0..9)
        .map(|i| {
            let c = char::from(CODE_ALPHABET[rng.below(CODE_ALPHABET.len())]);
            if i == 3 || i == 6 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect();
    let token = base64url_16(&mut rng);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let hour = rng.below(24);
    let minute = rng.below(60);
    let fw = (1 + rng.below(3), rng.below(10), rng.below(20));
    format!(
        "{{\"deviceId\":\"ZM-{ward}-{bed:02}\",\"deviceSerial\":\"SN-{year}-{serial:06}\",\
         \"ipAddress\":\"127.0.0.{ip_host}\",\"pairingCode\":\"{code}\",\
         \"pairingToken\":\"{token}\",\"expiresAt\":\"2026-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z\",\
         \"firmwareVersion\":\"{}.{}.{}\"}}",
        fw.0, fw.1, fw.2
    )
}

/// 16 random bytes as unpadded base64url (22 characters), like a real token.
fn base64url_16(rng: &mut SplitMix) -> String {
    let bytes: Vec<u8> = (0..16).map(|_| rng.next_u64().to_le_bytes()[0]).collect();
    let mut out = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3F;
            out.push(char::from(BASE64URL[idx as usize]));
        }
    }
    out
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
    fn token_is_22_base64url_chars() {
        let mut rng = SplitMix::new(7);
        let t = base64url_16(&mut rng);
        assert_eq!(t.len(), 22);
        assert!(t.bytes().all(|c| BASE64URL.contains(&c)));
    }
}
