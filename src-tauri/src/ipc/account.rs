use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_proto::api::{self, Role};

// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Its password is temporary: the UI shows only the password change
    /// until it is changed (the station refuses everything else meanwhile).
    pub must_change_password: bool,
}

impl From<api::Account> for Account {
    fn from(account: api::Account) -> Self {
        Self {
            username: account.username,
            display_name: account.display_name,
            role: account.role,
            must_change_password: account.must_change_password,
        }
    }
}
