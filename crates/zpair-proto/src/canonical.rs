//! The exact bytes each signed or MACed message stands for, one function per
//! message.
//!
//! Every message starts with its own domain tag, so a signature over one kind
//! can never be replayed as another, and every field is length-prefixed
//! (u32, big-endian), so no two field lists encode to the same bytes.
//! Golden vectors in the tests pin the encoding: changing it breaks every
//! deployed monitor.

use crate::config::ConfigurationPayload;
use crate::device::DeviceCommand;
use time::OffsetDateTime;

/// Appends tagged, length-prefixed fields.
struct Encoder(Vec<u8>);

impl Encoder {
    fn new(tag: &str) -> Self {
        let mut e = Self(Vec::with_capacity(256));
        e.field(tag.as_bytes());
        e
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.field(text.as_bytes())
    }

    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Signed by the monitor's identity key in answer to a challenge: binds its
/// new TLS key (CSR) and its one-time HPKE key to this station's challenge.
pub fn challenge_response(
    device_id: &str,
    challenge: &[u8],
    csr_pem: &str,
    hpke_public_key: &[u8],
) -> Vec<u8> {
    Encoder::new("zpair-v1/challenge-response")
        .text(device_id)
        .field(challenge)
        .text(csr_pem)
        .field(hpke_public_key)
        .finish()
}

/// MACed by the station with the pairing key: proves it holds the code the
/// technician entered without sending it.
pub fn pairing_proof(device_id: &str, challenge: &[u8]) -> Vec<u8> {
    Encoder::new("zpair-v1/pairing-proof")
        .text(device_id)
        .field(challenge)
        .finish()
}

/// Input of [`crate::crypto::pairing_key`]: the code and, when scanned, the token.
pub fn pairing_key_material(code_canonical: &str, token: Option<&[u8]>) -> Vec<u8> {
    let mut e = Encoder::new("zpair-v1/pairing-key");
    e.text(code_canonical);
    if let Some(token) = token {
        e.field(token);
    }
    e.finish()
}

/// Input of [`crate::crypto::token_id`].
pub fn token_id_material(token: &[u8]) -> Vec<u8> {
    Encoder::new("zpair-v1/token-id").field(token).finish()
}

/// Signed by the station's provisioning key: every field of the configuration.
pub fn configuration(c: &ConfigurationPayload) -> Vec<u8> {
    Encoder::new("zpair-v1/configuration")
        .text(&c.server_url)
        .text(&c.ca_certificate)
        .text(&c.client_certificate)
        .text(&c.device_id)
        .text(&c.device_label)
        .text(&c.bed_id)
        .text(&crate::timestamp::format(c.timestamp))
        .text(&crate::timestamp::format(c.expires_at))
        .finish()
}

/// Signed by the station's provisioning key: a command to one monitor.
pub fn device_command(c: &DeviceCommand) -> Vec<u8> {
    Encoder::new("zpair-v1/device-command")
        .text(&c.device_id)
        .text(c.command.as_str())
        .text(&crate::timestamp::format(c.issued_at))
        .text(&c.nonce)
        .finish()
}

/// Signed by the station's provisioning key: one HTTP request to one monitor
/// (method, path, SHA-256 of the body), when and with which nonce.
pub fn station_request(
    device_id: &str,
    method: &str,
    path: &str,
    body_sha256: &[u8; 32],
    timestamp: OffsetDateTime,
    nonce: &str,
) -> Vec<u8> {
    Encoder::new("zpair-v1/station-request")
        .text(device_id)
        .text(method)
        .text(path)
        .field(body_sha256)
        .text(&crate::timestamp::format(timestamp))
        .text(nonce)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::CommandKind;
    use sha2::{Digest, Sha256};
    use time::macros::datetime;

    fn digest(bytes: &[u8]) -> String {
        crate::hex::encode(&Sha256::digest(bytes))
    }

    fn sample_configuration() -> ConfigurationPayload {
        ConfigurationPayload {
            server_url: "https://127.0.0.1:8443".into(),
            ca_certificate: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".into(),
            client_certificate: "-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n"
                .into(),
            device_id: "ZM-ICU-04".into(),
            device_label: "ICU-MON-04".into(),
            bed_id: "ICU-3B".into(),
            timestamp: datetime!(2024-11-25 14:25:00 UTC),
            expires_at: datetime!(2024-11-25 15:25:00 UTC),
        }
    }

    #[test]
    fn pairing_proof_golden_bytes() {
        let bytes = pairing_proof("ZM-1", &[0xAB; 2]);
        let mut expected = Vec::new();
        expected.extend_from_slice(&22u32.to_be_bytes());
        expected.extend_from_slice(b"zpair-v1/pairing-proof");
        expected.extend_from_slice(&4u32.to_be_bytes());
        expected.extend_from_slice(b"ZM-1");
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(&[0xAB, 0xAB]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn configuration_golden_digest() {
        assert_eq!(
            digest(&configuration(&sample_configuration())),
            "9577b9cd957f2b80a2e58284b41cd25163191696e1ed0c37fde3bd07c5c8413d"
        );
    }

    #[test]
    fn every_configuration_field_is_covered() {
        let base = configuration(&sample_configuration());
        let mut changed = Vec::new();
        for edit in 0..8 {
            let mut c = sample_configuration();
            match edit {
                0 => c.server_url.push('x'),
                1 => c.ca_certificate.push('x'),
                2 => c.client_certificate.push('x'),
                3 => c.device_id.push('x'),
                4 => c.device_label.push('x'),
                5 => c.bed_id.push('x'),
                6 => c.timestamp += time::Duration::SECOND,
                _ => c.expires_at += time::Duration::SECOND,
            }
            changed.push(configuration(&c) != base);
        }
        assert!(changed.iter().all(|c| *c), "{changed:?}");
    }

    #[test]
    fn device_command_and_challenge_golden_digests() {
        let command = DeviceCommand {
            device_id: "ZM-ICU-04".into(),
            command: CommandKind::Reprovision,
            issued_at: datetime!(2024-11-25 14:25:00 UTC),
            nonce: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            signature: String::new(),
        };
        assert_eq!(
            digest(&device_command(&command)),
            "cfb23741268f1dc1acf0e9ef813ddef09969d8c75f96b618a012262ba85ce76e"
        );
        assert_eq!(
            digest(&challenge_response("ZM-ICU-04", &[1; 32], "CSR", &[2; 32])),
            "9b8033025ee501be2eb33f6e62fc5eee289d8b062b78b5725183485b155d580d"
        );
    }

    #[test]
    fn station_request_golden_digest() {
        let bytes = station_request(
            "ZM-ICU-04",
            "POST",
            "/provisioning/challenge",
            &[7; 32],
            datetime!(2024-11-25 14:25:00 UTC),
            "AAAAAAAAAAAAAAAAAAAAAA",
        );
        assert_eq!(
            digest(&bytes),
            "b5bd5dd60ba96fd8cbf5250039fc0b9aeb41bd3534b6b2396825db3990198239"
        );
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        assert_ne!(pairing_proof("ZM-1", b"AB"), pairing_proof("ZM-1A", b"B"));
        assert_ne!(
            pairing_key_material("ABC", None),
            pairing_key_material("ABC", Some(b""))
        );
    }
}
