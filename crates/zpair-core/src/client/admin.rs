//! The administrators' endpoints: accounts, the registry's pages and import
//! dry run, the audit log's pages and export, pairing reports, the
//! certificates overview; and a signed-in account's own password change.
//! One method per endpoint, as in the rest of the client; the station
//! enforces the role of each.

use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use zpair_proto::admin::{
    AccountRecord, AuditPage, AuditQuery, CertificateOverview, DevicePage, DeviceQuery,
    ImportPreview, MAX_PAGE, NewAccount, PairingReport, PasswordChange, ReportQuery,
    TemporaryPassword,
};
use zpair_proto::api::{AuditVerification, DeviceImport, DeviceSummary};

use super::{ClientError, MAX_BODY_BYTES, StationClient, Token, read_limited};

/// The most pages [`StationClient::list_devices`] follows (a million
/// monitors at 1,000 a page): a station that keeps answering `nextAfter`
/// cannot keep the client in a loop.
const MAX_PAGES: usize = 1_000;

/// A text answer read as it arrives (an export of the whole audit log may
/// be larger than any answer read at once).
#[derive(Debug)]
pub struct Download {
    response: Response,
    url: reqwest::Url,
}

impl Download {
    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        self.response
            .chunk()
            .await
            .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
            .map_err(|e| ClientError::transport(&self.url, &e))
    }
}

impl StationClient {
    // ----- accounts -----------------------------------------------------------

    /// `GET /api/users`: every account, in username order.
    pub async fn accounts(
        &self,
        token: &(impl Token + ?Sized),
    ) -> Result<Vec<AccountRecord>, ClientError> {
        self.call(self.authed(Method::GET, &["api", "users"], token))
            .await
    }

    /// `POST /api/users` → the temporary password the station chose.
    pub async fn create_account(
        &self,
        token: &(impl Token + ?Sized),
        account: &NewAccount,
    ) -> Result<TemporaryPassword, ClientError> {
        self.call(
            self.authed(Method::POST, &["api", "users"], token)
                .json(account),
        )
        .await
    }

    /// `POST /api/users/{username}/password/reset` → a new temporary
    /// password; the account's sessions end.
    pub async fn reset_password(
        &self,
        token: &(impl Token + ?Sized),
        username: &str,
    ) -> Result<TemporaryPassword, ClientError> {
        self.call(self.authed(
            Method::POST,
            &["api", "users", username, "password", "reset"],
            token,
        ))
        .await
    }

    /// `POST /api/users/{username}/{action}` for `unlock`, `disable`,
    /// `enable` and `sessions/end`: the account after the change when the
    /// station answers with it, `None` when it answers `204 No Content`.
    pub async fn change_account(
        &self,
        token: &(impl Token + ?Sized),
        username: &str,
        change: AccountChange,
    ) -> Result<Option<AccountRecord>, ClientError> {
        let mut segments = vec!["api", "users", username];
        segments.extend(change.path());
        let (response, url) = self
            .send(self.authed(Method::POST, &segments, token))
            .await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = read_limited(response, MAX_BODY_BYTES, &url).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| ClientError::InvalidResponse {
                detail: format!("{} {e}", url.path()),
            })
    }

    /// `POST /api/auth/password`: the signed-in account's own password.
    pub async fn change_password(
        &self,
        token: &(impl Token + ?Sized),
        current_password: &str,
        new_password: &str,
    ) -> Result<(), ClientError> {
        let body = PasswordChange {
            current_password: current_password.into(),
            new_password: new_password.into(),
        };
        self.call_empty(
            self.authed(Method::POST, &["api", "auth", "password"], token)
                .json(&body),
        )
        .await
    }

    // ----- registry -----------------------------------------------------------

    /// `GET /api/devices?search=&filter=&after=&limit=`: one page of the registry.
    pub async fn search_devices(
        &self,
        token: &(impl Token + ?Sized),
        query: &DeviceQuery,
    ) -> Result<DevicePage, ClientError> {
        self.call(self.authed_query(&["api", "devices"], query, token)?)
            .await
    }

    /// Every monitor in the registry: [`Self::search_devices`] page after
    /// page, following `nextAfter`.
    pub async fn list_devices(
        &self,
        token: &(impl Token + ?Sized),
    ) -> Result<Vec<DeviceSummary>, ClientError> {
        let mut query = DeviceQuery {
            limit: Some(MAX_PAGE),
            ..DeviceQuery::default()
        };
        let mut devices = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.search_devices(token, &query).await?;
            devices.extend(page.devices.into_iter().map(|d| DeviceSummary {
                device_id: d.device_id,
                device_serial: d.device_serial,
                device_label: d.device_label,
                bed_id: d.bed_id,
                ip_address: d.ip_address,
                state: d.state,
            }));
            match page.next_after {
                Some(after) if query.after.as_ref() != Some(&after) => query.after = Some(after),
                _ => return Ok(devices),
            }
        }
        Err(ClientError::InvalidResponse {
            detail: format!("/api/devices kept answering after {MAX_PAGES} pages"),
        })
    }

    /// `POST /api/devices/import/preview`: what importing `devices` would do,
    /// nothing written.
    pub async fn preview_import(
        &self,
        token: &(impl Token + ?Sized),
        devices: &[DeviceImport],
    ) -> Result<ImportPreview, ClientError> {
        self.call(
            self.authed(
                Method::POST,
                &["api", "devices", "import", "preview"],
                token,
            )
            .json(devices),
        )
        .await
    }

    // ----- audit --------------------------------------------------------------

    /// `GET /api/audit?…`: one page of the audit log, newest first.
    pub async fn audit_page(
        &self,
        token: &(impl Token + ?Sized),
        query: &AuditQuery,
    ) -> Result<AuditPage, ClientError> {
        self.call(self.authed_query(&["api", "audit"], query, token)?)
            .await
    }

    /// `GET /api/audit/verify`: the audit log's hash chain checked.
    pub async fn verify_audit(
        &self,
        token: &(impl Token + ?Sized),
    ) -> Result<AuditVerification, ClientError> {
        self.call(self.authed(Method::GET, &["api", "audit", "verify"], token))
            .await
    }

    /// `GET /api/audit/export?…`: every matching row as CSV, oldest first
    /// (the query's `before` and `limit` are not sent: the export is whole).
    pub async fn export_audit(
        &self,
        token: &(impl Token + ?Sized),
        query: &AuditQuery,
    ) -> Result<Download, ClientError> {
        let query = AuditQuery {
            before: None,
            limit: None,
            ..query.clone()
        };
        self.download(&["api", "audit", "export"], &query, token)
            .await
    }

    // ----- reports and certificates ---------------------------------------------

    /// `GET /api/reports/pairings?from=&to=&technician=`.
    pub async fn pairing_report(
        &self,
        token: &(impl Token + ?Sized),
        query: &ReportQuery,
    ) -> Result<PairingReport, ClientError> {
        self.call(self.authed_query(&["api", "reports", "pairings"], query, token)?)
            .await
    }

    /// `GET /api/reports/pairings/export?…`: the same report as CSV.
    pub async fn export_pairing_report(
        &self,
        token: &(impl Token + ?Sized),
        query: &ReportQuery,
    ) -> Result<Download, ClientError> {
        self.download(&["api", "reports", "pairings", "export"], query, token)
            .await
    }

    /// `GET /api/certificates`: certificates expiring, renewed and revoked.
    pub async fn certificate_overview(
        &self,
        token: &(impl Token + ?Sized),
    ) -> Result<CertificateOverview, ClientError> {
        self.call(self.authed(Method::GET, &["api", "certificates"], token))
            .await
    }

    // ----- plumbing -------------------------------------------------------------

    /// A GET with `query`'s fields as URL parameters (reqwest's own
    /// `query` is a feature this workspace leaves out).
    fn authed_query(
        &self,
        segments: &[&str],
        query: &impl Serialize,
        token: &(impl Token + ?Sized),
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let mut url = self.endpoint(segments);
        append_query(&mut url, query)?;
        Ok(self
            .http
            .get(url)
            .timeout(super::REQUEST_TIMEOUT)
            .bearer_auth(token.token_text()))
    }

    async fn download(
        &self,
        segments: &[&str],
        query: &impl Serialize,
        token: &(impl Token + ?Sized),
    ) -> Result<Download, ClientError> {
        let mut url = self.endpoint(segments);
        append_query(&mut url, query)?;
        // No overall timeout: a whole audit log takes as long as it takes;
        // the transfer fails on a dead connection instead.
        let request = self.http.get(url).bearer_auth(token.token_text());
        let (response, url) = self.send(request).await?;
        Ok(Download { response, url })
    }
}

/// What [`StationClient::change_account`] does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// Clears a lockout and the count of wrong passwords.
    Unlock,
    /// The account can no longer sign in; its sessions end.
    Disable,
    /// The account can sign in again.
    Enable,
    /// Every session of the account ends.
    EndSessions,
}

impl AccountChange {
    fn path(self) -> &'static [&'static str] {
        match self {
            AccountChange::Unlock => &["unlock"],
            AccountChange::Disable => &["disable"],
            AccountChange::Enable => &["enable"],
            AccountChange::EndSessions => &["sessions", "end"],
        }
    }

    /// What was done, for a sentence: `unlocked`, `disabled`, ….
    pub fn done(self) -> &'static str {
        match self {
            AccountChange::Unlock => "unlocked",
            AccountChange::Disable => "disabled",
            AccountChange::Enable => "enabled",
            AccountChange::EndSessions => "signed out everywhere",
        }
    }
}

/// Appends the fields of `query` that are set, as `name=value`.
fn append_query(url: &mut reqwest::Url, query: &impl Serialize) -> Result<(), ClientError> {
    let value = serde_json::to_value(query).map_err(|e| ClientError::InvalidResponse {
        detail: format!("query not encodable: {e}"),
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Ok(());
    };
    let pairs: Vec<(String, String)> = fields
        .into_iter()
        .filter_map(|(name, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some((name, text)),
            other => Some((name, other.to_string())),
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::admin::RegistryFilter;

    #[test]
    fn queries_carry_only_the_fields_set_in_camel_case() {
        let mut url = reqwest::Url::parse("https://s/api/audit").expect("url");
        append_query(
            &mut url,
            &AuditQuery {
                device_id: Some("ZM 1&2".into()),
                event_type: Some("PAIRING_STARTED".into()),
                before: Some(42),
                ..AuditQuery::default()
            },
        )
        .expect("query");
        assert_eq!(
            url.as_str(),
            "https://s/api/audit?before=42&deviceId=ZM+1%262&eventType=PAIRING_STARTED"
        );
        let mut url = reqwest::Url::parse("https://s/api/devices").expect("url");
        append_query(
            &mut url,
            &DeviceQuery {
                filter: Some(RegistryFilter::CertificateExpiring),
                ..DeviceQuery::default()
            },
        )
        .expect("query");
        assert_eq!(
            url.as_str(),
            "https://s/api/devices?filter=certificate_expiring"
        );
        let mut url = reqwest::Url::parse("https://s/api/devices").expect("url");
        append_query(&mut url, &DeviceQuery::default()).expect("query");
        assert_eq!(url.as_str(), "https://s/api/devices", "no stray `?`");
    }
}
