//! The request cases of `cases/requests.json`, shared by the tests that read them.

use reportcheck_model::Report;
use serde::Deserialize;

/// One request (a body, or for a delete the `version` query value in `raw`, absent for
/// none) and the rule it must break (`null` when it is valid).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub operation: Operation,
    #[serde(default)]
    pub today: Option<String>,
    #[serde(default)]
    pub current: Option<Report>,
    /// The body as JSON, or `raw` as exact text.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    #[serde(default)]
    pub raw: Option<String>,
    pub expect: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Update,
    Delete,
}

pub fn cases() -> Vec<Case> {
    serde_json::from_str(include_str!("../cases/requests.json")).expect("cases/requests.json parses")
}
