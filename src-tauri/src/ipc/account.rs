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
}

impl From<api::Account> for Account {
    fn from(account: api::Account) -> Self {
        Self {
            username: account.username,
            display_name: account.display_name,
            role: account.role,
        }
    }
}
