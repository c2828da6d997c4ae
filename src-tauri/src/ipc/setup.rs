use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_core::client::CertificateInfo;

use super::timestamp;

// How the station's certificate is trusted: chained to the hospital CA, or
// pinned by its own fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TrustKind {
    Ca,
    Fingerprint,
}

// The trusted anchor as the technician compares it: SHA-256 hex (of the CA
// certificate, or of the station's certificate) and its subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TrustInfo {
    #[ts(inline)]
    pub kind: TrustKind,
    pub fingerprint: String,
    pub subject: String,
}

// Which station the app talks to, and how it trusts it; both null before setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SetupState {
    pub station_url: Option<String>,
    pub trust: Option<TrustInfo>,
    /// The address given with `--station`, to fill in before setup; trusted
    /// only once its fingerprint is compared or its CA imported.
    pub suggested_station_url: Option<String>,
    /// Where the sign-in is kept (the system store chosen for this
    /// platform, and how long it lasts), shown in Settings; null when no
    /// usable store opened (signing in then says why).
    pub sign_in_kept_in: Option<String>,
}

// The certificate a station presents, read before trusting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StationProbe {
    pub station_url: String,
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
}

impl StationProbe {
    /// What `station_url` presented.
    pub fn new(station_url: &str, info: CertificateInfo) -> Self {
        Self {
            station_url: station_url.trim().to_owned(),
            fingerprint: info.fingerprint,
            subject: info.subject,
            issuer: info.issuer,
            not_after: timestamp(info.not_after),
        }
    }
}
