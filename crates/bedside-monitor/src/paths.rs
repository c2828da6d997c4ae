//! Where each piece of the monitor's data lives inside its data directory, in
//! one place so the library, the binary and tests agree.

use std::path::{Path, PathBuf};

/// The layout of a monitor's data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Device ID and serial (not secret).
    pub fn identity(&self) -> PathBuf {
        self.root.join("identity.json")
    }

    /// The long-term Ed25519 identity key, PKCS#8 PEM, 0600.
    pub fn identity_key(&self) -> PathBuf {
        self.root.join("identity-key.pem")
    }

    /// Settings that survive re-provisioning: the station key it trusts.
    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// The simulated patient data that re-provisioning must keep.
    pub fn patient_data(&self) -> PathBuf {
        self.root.join("patient-data.json")
    }

    /// The provisioning state machine's state.
    pub fn state(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// The current pairing code and its tokens, 0600.
    pub fn pairing(&self) -> PathBuf {
        self.root.join("pairing.json")
    }

    /// The committed configuration; writing it is the commit.
    pub fn configuration(&self) -> PathBuf {
        self.root.join("configuration.json")
    }

    /// A configuration tested and prepared to commit, waiting for the
    /// station's confirmation until its fail-safe deadline.
    pub fn prepared(&self) -> PathBuf {
        self.root.join("prepared.json")
    }

    /// A renewed client certificate staged and not yet in use: the
    /// monitor switches to it once the station accepts a heartbeat with it.
    pub fn renewal(&self) -> PathBuf {
        self.root.join("renewal.json")
    }

    /// Folders of certificates and keys, one per received configuration.
    pub fn certificates(&self) -> PathBuf {
        self.root.join("certs")
    }

    /// One configuration's certificates and key.
    pub fn generation(&self, generation: &str) -> PathBuf {
        self.certificates().join(generation)
    }

    /// The provisioning event log, one JSON object a line.
    pub fn events(&self) -> PathBuf {
        self.root.join("events.jsonl")
    }

    /// "The monitor's screen": what a camera pointed at it would see.
    pub fn screen(&self) -> PathBuf {
        self.root.join("screen")
    }

    /// The QR code as shown, PNG.
    pub fn screen_qr_png(&self) -> PathBuf {
        self.screen().join("qr.png")
    }

    /// The QR code's text.
    pub fn screen_qr_json(&self) -> PathBuf {
        self.screen().join("qr.json")
    }

    /// The message the screen shows about the last pairing's outcome (a
    /// rollback, a certificate the station refused).
    pub fn screen_notice(&self) -> PathBuf {
        self.screen().join("notice.txt")
    }
}

/// File names inside one configuration's folder.
pub mod generation {
    /// The client certificate the station issued, PEM.
    pub const CLIENT_CERTIFICATE: &str = "client-cert.pem";
    /// The monitor's own TLS key, PKCS#8 PEM.
    pub const CLIENT_KEY: &str = "client-key.pem";
    /// The station's CA, PEM.
    pub const CA_CERTIFICATE: &str = "ca-cert.pem";
}
