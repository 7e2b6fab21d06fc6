//! Tokens and API clients.

use serde::{Deserialize, Serialize};

use crate::date::Timestamp;
use crate::enums::{ClientStatus, ClientType, TokenEndpointAuthMethod};
use crate::id::Id;
use crate::secret::Secret;

/// `token`: a successful answer of `POST /idp/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub access_token: Secret,
    /// `bearer`, in any case.
    pub token_type: String,
    /// Required by the schema, but a client needs only the access token: its absence is
    /// a finding (AUTH-1, SCH-1), not a reason to stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// Lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Expiry as Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
}

/// `tokenError`. `error` is an open string: servers send values outside the schema's
/// enum, such as `invalid_client` (REFERENCE.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    pub error_description: String,
}

impl Token {
    /// What AUTH-1 finds missing in a token answer: `token_type` other than `bearer` (in
    /// any case), no `id_token`, neither `expires_in` nor `expires_on`.
    pub fn auth1_problem(&self) -> Option<&'static str> {
        if !self.token_type.eq_ignore_ascii_case("bearer") {
            Some("token_type is not bearer")
        } else if self.id_token.is_none() {
            Some("the token answer has no id_token")
        } else if self.expires_in.is_none() && self.expires_on.is_none() {
            Some("the token answer has neither expires_in nor expires_on")
        } else {
            None
        }
    }
}

/// `client`: an API client as `GET /clients/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClient {
    pub client_id: Id,
    pub tenant_id: Id,
    pub client_secret_expires_at: i64,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub created_at: Option<Timestamp>,
    pub created_by: String,
    pub last_access_at: Option<Timestamp>,
    pub last_access_from_ip: Option<String>,
    pub status: ClientStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<String>,
}
