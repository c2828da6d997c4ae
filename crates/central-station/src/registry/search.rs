//! The registry as administrators browse it: a search over the text an
//! administrator knows a monitor by, one of the groups of
//! [`RegistryFilter`], and pages in device-ID order (keyset: the page
//! after a device ID), with the count of every match.

use crate::db::Value;
use crate::db::{Connection, params_from_iter};
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

/// Adds `value` to the parameters and names its placeholder. Statements
/// built from optional parts number their parameters as they go, so every
/// number they bind is one they use (PostgreSQL cannot type an unused one).
fn bind(values: &mut Vec<Value>, value: Value) -> String {
    values.push(value);
    format!("?{}", values.len())
}

/// The condition of `filter`, over `d` (the device) and `c` (its current
/// certificate), at `now`.
fn condition(filter: RegistryFilter, now: OffsetDateTime, values: &mut Vec<Value>) -> String {
    match filter {
        RegistryFilter::NeverPaired => "NOT EXISTS (SELECT 1 FROM jobs j
             WHERE j.device_id = d.device_id AND j.state = 'PROVISIONED')"
            .to_owned(),
        RegistryFilter::Provisioned => format!("d.state = '{}'", DeviceState::Provisioned.as_str()),
        RegistryFilter::Failed => format!("{LAST_JOB} = 'FAILED'"),
        RegistryFilter::CertificateExpiring => {
            let deadline = clock::unix(now) + EXPIRING_WITHIN_DAYS * 24 * 60 * 60;
            format!(
                "d.state = '{}' AND c.not_after <= {}",
                DeviceState::Provisioned.as_str(),
                bind(values, Value::Integer(deadline))
            )
        }
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
    let mut values = Vec::new();
    let mut conditions = Vec::new();
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(search) = search {
        let text = bind(&mut values, Value::Text(search.to_lowercase()));
        conditions.push(format!(
            "(instr(fold(d.device_id), {text}) > 0 OR instr(fold(d.device_serial), {text}) > 0
              OR instr(fold(d.device_label), {text}) > 0 OR instr(fold(d.bed_id), {text}) > 0
              OR instr(fold(COALESCE(d.ip_address, '')), {text}) > 0)"
        ));
    }
    if let Some(filter) = query.filter {
        conditions.push(condition(filter, now, &mut values));
    }
    let matching = if conditions.is_empty() {
        "TRUE".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let from = "FROM devices d LEFT JOIN certificates c ON c.serial = d.certificate_serial";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) {from} WHERE {matching}"),
        params_from_iter(values.iter()),
        |r| r.get(0),
    )?;
    let after = match query.after.as_deref() {
        Some(after) => format!(
            "AND d.device_id > {}",
            bind(&mut values, Value::Text(after.to_owned()))
        ),
        None => String::new(),
    };
    let page_end = bind(&mut values, Value::Integer(i64::from(limit) + 1));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT d.device_id, d.device_serial, d.device_label, d.bed_id, d.ip_address, d.state,
                {LAST_JOB} = 'FAILED', c.not_after, d.last_heartbeat_ms
         {from} WHERE {matching} {after}
         ORDER BY d.device_id LIMIT {page_end}"
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
