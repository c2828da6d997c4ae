//! The registry as administrators browse it: a search over the text an
//! administrator knows a monitor by, one of the groups of
//! [`RegistryFilter`], and pages in device-ID order (keyset: the page
//! after a device ID), with the count of every match.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use time::OffsetDateTime;
use zpair_proto::admin::{
    DEFAULT_PAGE, DevicePage, DeviceQuery, EXPIRING_WITHIN_DAYS, MAX_PAGE, RegistryEntry,
    RegistryFilter,
};
use zpair_proto::api::DeviceState;

use crate::clock;
use crate::db::{DbError, parse_column};

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    /// The page size is outside 1..=[`MAX_PAGE`].
    #[error("limit must be 1 to {MAX_PAGE} monitors.")]
    Limit,
}

/// The rows' state of their latest pairing job.
const LAST_JOB: &str = "(SELECT j.state FROM jobs j WHERE j.device_id = d.device_id
                         ORDER BY j.created_at DESC, j.rowid DESC LIMIT 1)";

/// The condition of `filter`, over `d` (the device) and `c` (its current
/// certificate); `?1` is now (Unix seconds).
fn condition(filter: RegistryFilter) -> String {
    match filter {
        RegistryFilter::NeverPaired => "NOT EXISTS (SELECT 1 FROM jobs j
             WHERE j.device_id = d.device_id AND j.state = 'PROVISIONED')"
            .to_owned(),
        RegistryFilter::Provisioned => format!("d.state = '{}'", DeviceState::Provisioned.as_str()),
        RegistryFilter::Failed => format!("{LAST_JOB} = 'FAILED'"),
        RegistryFilter::CertificateExpiring => format!(
            "d.state = '{}' AND c.not_after <= CAST(?1 AS BIGINT) + {}",
            DeviceState::Provisioned.as_str(),
            EXPIRING_WITHIN_DAYS * 24 * 60 * 60
        ),
        RegistryFilter::Deprovisioned => {
            format!("d.state = '{}'", DeviceState::Deprovisioned.as_str())
        }
    }
}

/// One page of the registry for `query`, at `now`.
pub(crate) fn page(
    conn: &Connection,
    query: &DeviceQuery,
    now: OffsetDateTime,
) -> Result<Result<DevicePage, QueryError>, DbError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Ok(Err(QueryError::Limit));
    }
    // ?1 now, ?2 the folded search text (NULL for none).
    let mut values: Vec<Value> = vec![
        Value::Integer(clock::unix(now)),
        query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or(Value::Null, |s| Value::Text(s.to_lowercase())),
    ];
    let mut conditions = vec![
        "(CAST(?2 AS TEXT) IS NULL OR instr(fold(d.device_id), ?2) > 0
          OR instr(fold(d.device_serial), ?2) > 0 OR instr(fold(d.device_label), ?2) > 0
          OR instr(fold(d.bed_id), ?2) > 0 OR instr(fold(COALESCE(d.ip_address, '')), ?2) > 0)"
            .to_owned(),
    ];
    if let Some(filter) = query.filter {
        conditions.push(condition(filter));
    }
    let matching = conditions.join(" AND ");
    let from = "FROM devices d LEFT JOIN certificates c ON c.serial = d.certificate_serial";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) {from} WHERE {matching}"),
        params_from_iter(values.iter()),
        |r| r.get(0),
    )?;
    values.push(query.after.clone().map_or(Value::Null, Value::Text));
    values.push(Value::Integer(i64::from(limit) + 1));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT d.device_id, d.device_serial, d.device_label, d.bed_id, d.ip_address, d.state,
                {LAST_JOB} = 'FAILED', c.not_after, d.last_heartbeat_ms
         {from} WHERE {matching} AND (CAST(?3 AS TEXT) IS NULL OR d.device_id > ?3)
         ORDER BY d.device_id LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ),
                (
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<bool>>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                ),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut devices = rows
        .into_iter()
        .map(
            |(
                (device_id, device_serial, device_label, bed_id, ip_address),
                (state, failed, not_after, heartbeat),
            )| {
                Ok(RegistryEntry {
                    device_id,
                    device_serial,
                    device_label,
                    bed_id,
                    ip_address,
                    state: parse_column(&state, DeviceState::parse, "device state")?,
                    last_pairing_failed: failed.unwrap_or(false),
                    certificate_not_after: not_after.map(clock::from_unix),
                    last_heartbeat: heartbeat.map(clock::from_unix_ms),
                })
            },
        )
        .collect::<Result<Vec<_>, DbError>>()?;
    let next_after = if devices.len() > limit as usize {
        devices.truncate(limit as usize);
        devices.last().map(|d| d.device_id.clone())
    } else {
        None
    };
    Ok(Ok(DevicePage {
        devices,
        total: u64::try_from(total).unwrap_or(0),
        next_after,
    }))
}
