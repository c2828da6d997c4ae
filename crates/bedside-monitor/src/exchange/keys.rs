//! Step 1 of the exchange, the monitor's side: a fresh TLS key (its private
//! half never leaves the monitor) with a CSR, a one-time HPKE key for the
//! sealed configuration, and the identity key's signature binding both to
//! the station's challenge.

use rcgen::{CertificateParams, DnType, KeyPair, PublicKeyData as _};
use zeroize::Zeroizing;
use zpair_proto::crypto::{self, HpkeKeyPair, SigningKey};
use zpair_proto::device::ChallengeResponse;
use zpair_proto::{b64, canonical};

/// Why the keys for one exchange could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// rcgen could not make the key or the CSR.
    #[error("cannot make the TLS key or CSR: {0}")]
    Certificate(#[from] rcgen::Error),
    /// No randomness for the HPKE key.
    #[error("no randomness available")]
    Random,
}

/// The monitor's secrets for one exchange.
pub struct ExchangeKeys {
    /// The new TLS key, PKCS#8 PEM.
    pub tls_key_pem: Zeroizing<String>,
    /// Its public half as X.509 SubjectPublicKeyInfo DER, to match the issued certificate.
    pub tls_public_key: Vec<u8>,
    /// The key the configuration is sealed to.
    pub hpke: HpkeKeyPair,
}

impl std::fmt::Debug for ExchangeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeKeys")
            .field("hpke", &self.hpke)
            .finish_non_exhaustive()
    }
}

/// A fresh TLS key with its CSR: for a pairing, and for each renewal of
/// the client certificate.
pub struct TlsKey {
    /// The key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// Its public half as X.509 SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// The CSR for it, CN = device ID, PEM.
    pub csr_pem: String,
}

impl std::fmt::Debug for TlsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsKey").finish_non_exhaustive()
    }
}

/// Makes a new ECDSA P-256 TLS key and its CSR.
pub fn tls_key(device_id: &str) -> Result<TlsKey, KeysError> {
    let tls_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, device_id);
    let csr_pem = params.serialize_request(&tls_key)?.pem()?;
    Ok(TlsKey {
        key_pem: Zeroizing::new(tls_key.serialize_pem()),
        public_key: tls_key.subject_public_key_info(),
        csr_pem,
    })
}

/// Makes the keys and the signed answer to `challenge`.
pub fn answer_challenge(
    identity: &SigningKey,
    device_id: &str,
    challenge: &[u8],
) -> Result<(ExchangeKeys, ChallengeResponse), KeysError> {
    let TlsKey {
        key_pem,
        public_key,
        csr_pem,
    } = tls_key(device_id)?;
    let hpke = HpkeKeyPair::generate().map_err(|_| KeysError::Random)?;
    let signature = crypto::sign(
        identity,
        &canonical::challenge_response(device_id, challenge, &csr_pem, &hpke.public),
    );
    let response = ChallengeResponse {
        device_id: device_id.to_owned(),
        csr_pem,
        hpke_public_key: b64::encode(hpke.public),
        signature,
    };
    let keys = ExchangeKeys {
        tls_key_pem: key_pem,
        tls_public_key: public_key,
        hpke,
    };
    Ok((keys, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_signed_by_the_identity_key_over_csr_and_hpke_key() {
        let identity = crypto::generate_signing_key().expect("key");
        let challenge = [5u8; 32];
        let (keys, response) = answer_challenge(&identity, "ZM-1", &challenge).expect("answer");
        let message =
            canonical::challenge_response("ZM-1", &challenge, &response.csr_pem, &keys.hpke.public);
        assert_eq!(
            crypto::verify(&identity.verifying_key(), &message, &response.signature),
            Ok(())
        );
        // Bound to this challenge only.
        let other =
            canonical::challenge_response("ZM-1", &[6u8; 32], &response.csr_pem, &keys.hpke.public);
        assert!(crypto::verify(&identity.verifying_key(), &other, &response.signature).is_err());
        let csr = rcgen::CertificateSigningRequestParams::from_pem(&response.csr_pem).expect("csr");
        assert_eq!(
            csr.public_key.subject_public_key_info(),
            keys.tls_public_key
        );
        assert!(keys.tls_key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{keys:?}").contains("PRIVATE"));
    }
}
