//! `GET /api/certificates`: the monitors' client certificates an
//! administrator watches — current ones about to end, renewals issued, and
//! revocations, each of the last 30 days.

use crate::db::{Connection, params};
use axum::Json;
use axum::extract::State;
use time::OffsetDateTime;
use zpair_proto::admin::{
    CertificateEntry, CertificateOverview, CertificateStanding, EXPIRING_WITHIN_DAYS, MAX_PAGE,
};

use crate::accounts::AdministratorCaller;
use crate::clock;
use crate::db::DbError;
use crate::http::HttpError;
use crate::state::AppState;

const COLUMNS: &str = "c.serial, c.device_id, COALESCE(d.device_label, c.device_id), c.issued_at,
    c.not_after, c.revoked_at, c.revocation_reason";

/// The certificates of one list: `condition` and `order` over `c` (the
/// certificate) and `d` (its device); `?1` is the window's edge.
fn list(
    conn: &Connection,
    standing: CertificateStanding,
    condition: &str,
    order: &str,
    edge: OffsetDateTime,
) -> Result<Vec<CertificateEntry>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM certificates c LEFT JOIN devices d ON d.device_id = c.device_id
         WHERE {condition} ORDER BY {order} LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![clock::unix(edge), MAX_PAGE], |r| {
        Ok(CertificateEntry {
            serial: r.get(0)?,
            device_id: r.get(1)?,
            device_label: r.get(2)?,
            standing,
            issued_at: clock::from_unix(r.get(3)?),
            not_after: clock::from_unix(r.get(4)?),
            revoked_at: r.get::<_, Option<i64>>(5)?.map(clock::from_unix),
            revocation_reason: r.get(6)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The overview at `now`: at most [`MAX_PAGE`] certificates in each list.
pub(crate) fn overview(
    conn: &Connection,
    now: OffsetDateTime,
) -> Result<CertificateOverview, DbError> {
    let window = time::Duration::days(EXPIRING_WITHIN_DAYS);
    Ok(CertificateOverview {
        expiring: list(
            conn,
            CertificateStanding::Expiring,
            "c.serial = d.certificate_serial AND c.revoked_at IS NULL AND c.not_after <= ?1",
            "c.not_after, c.serial",
            now + window,
        )?,
        renewed: list(
            conn,
            CertificateStanding::Renewed,
            "c.renews IS NOT NULL AND c.issued_at >= ?1",
            "c.issued_at DESC, c.serial",
            now - window,
        )?,
        revoked: list(
            conn,
            CertificateStanding::Revoked,
            "c.revoked_at >= ?1",
            "c.revoked_at DESC, c.serial",
            now - window,
        )?,
    })
}

/// The certificates to watch (administrators).
///
/// `expiring`: each monitor's current certificate that ends within 30 days
/// (or has ended), soonest first; `renewed`: certificates issued by a
/// renewal in the last 30 days, newest first; `revoked`: certificates
/// revoked in the last 30 days, newest first. At most 1000 in each.
#[utoipa::path(get, path = "/api/certificates", operation_id = "certificateOverview", tag = "devices",
    security(("bearerAuth" = ["administrator"])),
    responses((status = 200, description = "The overview.", body = CertificateOverview)))]
pub(crate) async fn certificates(
    State(state): State<AppState>,
    _administrator: AdministratorCaller,
) -> Result<Json<CertificateOverview>, HttpError> {
    let overview = state.db().call(|c| overview(c, clock::now())).await?;
    Ok(Json(overview))
}
