//! The few cryptographic operations the protocol needs, in one place so the
//! station and the monitor cannot drift apart: Ed25519 signatures, the
//! pairing-code MAC and HPKE sealing of the configuration.

use ed25519_dalek::{Signature, Signer as _};
use hmac::Mac as _;
use hpke::{Deserializable as _, Kem as _, Serializable as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::PairingCode;
use crate::b64;
use crate::canonical;
use crate::config::{ConfigurationPayload, SignedConfiguration};
use crate::device::StationSignature;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;
type HmacSha256 = hmac::Hmac<Sha256>;

/// HPKE `info`: binds the sealed box to its purpose.
const HPKE_INFO: &[u8] = b"zpair-v1 configuration";

/// Why a cryptographic check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key, signature or box was not valid base64url or had the wrong size.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A signature did not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The sealed configuration could not be opened.
    #[error("sealed configuration could not be opened")]
    Unseal,
    /// The operating system's random number generator failed.
    #[error("no randomness available")]
    Random,
}

/// Fresh random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// A new Ed25519 key from the operating system's CSPRNG.
pub fn generate_signing_key() -> Result<SigningKey, CryptoError> {
    let seed = Zeroizing::new(random_bytes::<32>()?);
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads an Ed25519 public key from base64url.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, CryptoError> {
    let bytes = b64::decode_array::<32>(text).ok_or(CryptoError::Malformed("public key"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| CryptoError::Malformed("public key"))
}

/// An Ed25519 public key as base64url.
pub fn public_key_text(key: &VerifyingKey) -> String {
    b64::encode(key.as_bytes())
}

/// Signs `message`; the signature as base64url.
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    b64::encode(key.sign(message).to_bytes())
}

/// Verifies a base64url signature with strict Ed25519 rules (no malleability).
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &str) -> Result<(), CryptoError> {
    let bytes = b64::decode_array::<64>(signature).ok_or(CryptoError::Malformed("signature"))?;
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .map_err(|_| CryptoError::BadSignature)
}

/// The MAC key for a pairing proof: from the code and, when it was scanned,
/// the QR's token. Hashing first keeps the key a fixed size.
pub fn pairing_key(code: &PairingCode, token: Option<&[u8]>) -> Zeroizing<[u8; 32]> {
    let material = Zeroizing::new(canonical::pairing_key_material(code.canonical(), token));
    Zeroizing::new(Sha256::digest(&*material).into())
}

/// A short, one-way name for a QR token, so the station can tell the monitor
/// which token it used without sending it.
pub fn token_id(token: &[u8]) -> String {
    b64::encode(&Sha256::digest(canonical::token_id_material(token))[..12])
}

/// The station's proof that it holds the pairing key, base64url.
pub fn pairing_proof(key: &[u8; 32], device_id: &str, challenge: &[u8]) -> String {
    b64::encode(pairing_mac(key, device_id, challenge))
}

/// Checks a pairing proof in constant time.
pub fn verify_pairing_proof(
    key: &[u8; 32],
    device_id: &str,
    challenge: &[u8],
    proof: &str,
) -> bool {
    let Some(given) = b64::decode_array::<32>(proof) else {
        return false;
    };
    let expected = pairing_mac(key, device_id, challenge);
    bool::from(expected.ct_eq(&given))
}

fn pairing_mac(key: &[u8; 32], device_id: &str, challenge: &[u8]) -> [u8; 32] {
    // A 32-byte key is always a valid HMAC key.
    let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
    mac.update(&canonical::pairing_proof(device_id, challenge));
    mac.finalize().into_bytes().into()
}

/// Signs a configuration with the station's provisioning key.
pub fn sign_configuration(
    key: &SigningKey,
    configuration: ConfigurationPayload,
) -> SignedConfiguration {
    let signature = sign(key, &canonical::configuration(&configuration));
    SignedConfiguration {
        configuration,
        signature,
    }
}

/// Verifies a configuration's signature with the station's public key.
pub fn verify_configuration(
    key: &VerifyingKey,
    signed: &SignedConfiguration,
) -> Result<(), CryptoError> {
    verify(
        key,
        &canonical::configuration(&signed.configuration),
        &signed.signature,
    )
}

/// Signs one request to the monitor `device_id` with the station's
/// provisioning key, now, with a fresh nonce.
pub fn sign_station_request(
    key: &SigningKey,
    device_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Result<StationSignature, CryptoError> {
    let nonce = b64::encode(random_bytes::<16>()?);
    let message = canonical::station_request(
        device_id,
        method,
        path,
        &Sha256::digest(body).into(),
        now,
        &nonce,
    );
    Ok(StationSignature {
        timestamp: now,
        signature: sign(key, &message),
        nonce,
    })
}

/// Checks that the station's provisioning key signed exactly this request.
/// Freshness and replay are the monitor's to judge: it holds the clock and
/// the nonces it has seen.
pub fn verify_station_request(
    key: &VerifyingKey,
    device_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
    signed: &StationSignature,
) -> Result<(), CryptoError> {
    let message = canonical::station_request(
        device_id,
        method,
        path,
        &Sha256::digest(body).into(),
        signed.timestamp,
        &signed.nonce,
    );
    verify(key, &message, &signed.signature)
}

/// A one-time X25519 key pair a monitor offers for one configuration.
pub struct HpkeKeyPair {
    private: <Kem as hpke::Kem>::PrivateKey,
    /// The public half, sent in the challenge response.
    pub public: [u8; 32],
}

impl std::fmt::Debug for HpkeKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpkeKeyPair")
            .field("public", &b64::encode(self.public))
            .finish_non_exhaustive()
    }
}

impl HpkeKeyPair {
    /// A fresh pair from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::derive(&*Zeroizing::new(random_bytes::<32>()?)))
    }

    /// A pair derived from input keying material (RFC 9180 DeriveKeyPair):
    /// used by [`Self::generate`] and by golden-vector tests.
    pub fn derive(ikm: &[u8]) -> Self {
        let (private, public) = Kem::derive_keypair(ikm);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&public.to_bytes());
        Self {
            private,
            public: bytes,
        }
    }

    /// Opens a box sealed to this key for `device_id`.
    pub fn open(&self, device_id: &str, sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.encapped_key)
            .map_err(|_| CryptoError::Malformed("encapsulated key"))?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &hpke::OpModeR::Base,
            &self.private,
            &encapped,
            HPKE_INFO,
            &sealed.ciphertext,
            device_id.as_bytes(),
        )
        .map_err(|_| CryptoError::Unseal)
    }
}

/// An HPKE box: the encapsulated key and the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// HPKE `enc`.
    pub encapped_key: Vec<u8>,
    /// AEAD ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

/// Seals `plaintext` to a monitor's one-time HPKE key; the device ID is the
/// associated data, so a box for one monitor never opens on another.
pub fn seal(public_key: &[u8], device_id: &str, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(public_key)
        .map_err(|_| CryptoError::Malformed("HPKE public key"))?;
    let (encapped, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &hpke::OpModeS::Base,
        &pk,
        HPKE_INFO,
        plaintext,
        device_id.as_bytes(),
    )
    .map_err(|_| CryptoError::Random)?;
    Ok(Sealed {
        encapped_key: encapped.to_bytes().to_vec(),
        ciphertext,
    })
}

/// SHA-256 as lowercase hex: the audit log's `configuration_hash`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn fixed_key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn sample() -> ConfigurationPayload {
        ConfigurationPayload {
            server_url: "https://127.0.0.1:8443".into(),
            ca_certificate: "CA".into(),
            client_certificate: "ME".into(),
            device_id: "ZM-1".into(),
            device_label: "ICU-MON-01".into(),
            bed_id: "ICU-1".into(),
            timestamp: datetime!(2024-11-25 14:25:00 UTC),
            expires_at: datetime!(2024-11-25 15:25:00 UTC),
        }
    }

    /// Golden vector: Ed25519 is deterministic, so a fixed key and message
    /// give a fixed signature.
    #[test]
    fn configuration_signature_golden_vector() {
        let signed = sign_configuration(&fixed_key(7), sample());
        assert_eq!(
            signed.signature,
            "AvLQCe5ZPBolos7DB-adGmeUNYiRD9hqTn4TwUr96ePVZplIZFlRguSqw7dRol0xv9N5leZDTbbPQ5ZlLw7RDw"
        );
        assert_eq!(
            verify_configuration(&fixed_key(7).verifying_key(), &signed),
            Ok(())
        );
    }

    #[test]
    fn tampered_configuration_or_wrong_key_is_refused() {
        let mut signed = sign_configuration(&fixed_key(7), sample());
        assert_eq!(
            verify_configuration(&fixed_key(8).verifying_key(), &signed),
            Err(CryptoError::BadSignature)
        );
        signed.configuration.server_url = "https://evil.example:8443".into();
        assert_eq!(
            verify_configuration(&fixed_key(7).verifying_key(), &signed),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn a_station_request_verifies_only_as_signed() {
        let key = fixed_key(7);
        let now = time::macros::datetime!(2024-11-25 14:25:00 UTC);
        let path = "/provisioning/configure";
        let signed = sign_station_request(&key, "ZM-1", "POST", path, b"{}", now).expect("sign");
        let check = |device: &str, path: &str, body: &[u8], signed: &StationSignature| {
            verify_station_request(&key.verifying_key(), device, "POST", path, body, signed)
        };
        assert_eq!(check("ZM-1", path, b"{}", &signed), Ok(()));
        let refused = Err(CryptoError::BadSignature);
        assert_eq!(check("ZM-2", path, b"{}", &signed), refused);
        assert_eq!(
            check("ZM-1", "/provisioning/commit", b"{}", &signed),
            refused
        );
        assert_eq!(check("ZM-1", path, b"{ }", &signed), refused);
        let mut later = signed.clone();
        later.timestamp += time::Duration::SECOND;
        assert_eq!(check("ZM-1", path, b"{}", &later), refused);
        let mut other_nonce = signed.clone();
        other_nonce.nonce = "BBBBBBBBBBBBBBBBBBBBBB".into();
        assert_eq!(check("ZM-1", path, b"{}", &other_nonce), refused);
        assert_eq!(
            verify_station_request(
                &fixed_key(8).verifying_key(),
                "ZM-1",
                "POST",
                path,
                b"{}",
                &signed
            ),
            refused
        );
    }

    #[test]
    fn pairing_proof_golden_vector_and_binding() {
        let code = PairingCode::parse("K7P-M3X-Q9R").expect("valid");
        let key = pairing_key(&code, Some(&[9u8; 16]));
        let proof = pairing_proof(&key, "ZM-1", &[1u8; 32]);
        assert_eq!(proof, "BTTq0YTow0viE9c1gOUkUAlgmsiQnGGMyUXU_LET2hY");
        assert!(verify_pairing_proof(&key, "ZM-1", &[1u8; 32], &proof));
        assert!(!verify_pairing_proof(&key, "ZM-2", &[1u8; 32], &proof));
        assert!(!verify_pairing_proof(&key, "ZM-1", &[2u8; 32], &proof));
        let other = PairingCode::parse("K7P-M3X-Q9S").expect("valid");
        assert!(!verify_pairing_proof(
            &pairing_key(&other, Some(&[9u8; 16])),
            "ZM-1",
            &[1u8; 32],
            &proof
        ));
        assert!(!verify_pairing_proof(
            &pairing_key(&code, None),
            "ZM-1",
            &[1u8; 32],
            &proof
        ));
        assert!(!verify_pairing_proof(
            &key,
            "ZM-1",
            &[1u8; 32],
            "not base64!"
        ));
        assert_eq!(token_id(&[9u8; 16]).len(), 16);
    }

    #[test]
    fn sealed_configuration_opens_only_for_its_device_and_key() {
        let pair = HpkeKeyPair::derive(b"golden-vector-ikm-for-hpke-tests");
        let sealed = seal(&pair.public, "ZM-1", b"secret configuration").expect("seal");
        assert_eq!(
            pair.open("ZM-1", &sealed).expect("open"),
            b"secret configuration"
        );
        assert_eq!(pair.open("ZM-2", &sealed), Err(CryptoError::Unseal));
        let other = HpkeKeyPair::derive(b"another-ikm-for-the-second-key!!");
        assert_eq!(other.open("ZM-1", &sealed), Err(CryptoError::Unseal));
        let mut flipped = sealed.clone();
        flipped.ciphertext[3] ^= 1;
        assert_eq!(pair.open("ZM-1", &flipped), Err(CryptoError::Unseal));
    }
}
