//! Offline administration on a station's data directory and database, for
//! the binary's subcommands, tests and demos. Safe to run while stations
//! serve the same database (their writing transactions and these take the
//! same lock; a lock file guards first-run key creation).

use std::path::Path;

use zpair_proto::api::{AuditVerification, DeviceImport, ImportReport, Role};

use crate::db::Database;
use crate::error::StationError;
use crate::{accounts, audit, db, pki, registry};

/// The actor recorded in the audit log for what is done here.
const ACTOR: &str = "admin-cli";

/// Creates a technician or administrator account (audited).
pub fn create_user(
    data_dir: &Path,
    database: &Database,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> Result<(), StationError> {
    let conn = db::open(data_dir, database)?;
    accounts::create(&conn, username, display_name, role, password, ACTOR)
}

/// Adds or updates monitors in the registry from their registration records.
pub fn import_devices(
    data_dir: &Path,
    database: &Database,
    records: &[DeviceImport],
) -> Result<ImportReport, StationError> {
    let mut conn = db::open(data_dir, database)?;
    let (report, _) = registry::import(&mut conn, records, ACTOR, &audit::Source::default())?;
    Ok(report)
}

/// Checks the audit log's hash chain and names its first broken link.
pub fn verify_audit(
    data_dir: &Path,
    database: &Database,
) -> Result<AuditVerification, StationError> {
    let conn = db::open(data_dir, database)?;
    Ok(audit::verify(&conn)?)
}

/// The hospital CA, PEM (made on first use).
pub fn ca_certificate_pem(data_dir: &Path) -> Result<String, StationError> {
    Ok(pki::load_or_create(data_dir, None)?.ca.pem().to_owned())
}

/// SHA-256 of the server certificate, lowercase hex (made on first use).
pub fn server_certificate_fingerprint(data_dir: &Path) -> Result<String, StationError> {
    Ok(pki::load_or_create(data_dir, None)?
        .server
        .fingerprint()
        .to_owned())
}

/// The provisioning key's public half, base64url (made on first use).
pub fn station_public_key(data_dir: &Path) -> Result<String, StationError> {
    let identity = pki::load_or_create(data_dir, None)?;
    Ok(zpair_proto::crypto::public_key_text(
        &identity.provisioning_key.verifying_key(),
    ))
}
