//! `errorScheme`: the body of every 4xx/5xx of the reports API.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rules::Rule;

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// The inner error object. Read leniently: a missing `domain` or `details` is tolerated
/// here and reported by the schema check (ERR-1) instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `error.code`: a platform code or an HTTP status, as a string or an integer.
/// `"1027"` and `1027` are the same code.
#[derive(Debug, Clone, Eq)]
pub enum ErrorCode {
    Number(i64),
    Text(String),
}

impl ErrorCode {
    /// "Version mismatch".
    pub const VERSION_MISMATCH: i64 = 1001;
    /// "Does not satisfy business rules".
    pub const BUSINESS_RULES: i64 = 1027;

    /// The code as a number, where it is one.
    pub fn as_number(&self) -> Option<i64> {
        match self {
            ErrorCode::Number(n) => Some(*n),
            ErrorCode::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl PartialEq for ErrorCode {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_number(), other.as_number()) {
            (Some(a), Some(b)) => a == b,
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl From<i64> for ErrorCode {
    fn from(value: i64) -> Self {
        ErrorCode::Number(value)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Number(n) => write!(f, "{n}"),
            ErrorCode::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ErrorCode::Number(n) => serializer.serialize_i64(*n),
            ErrorCode::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ErrorCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error code, string or integer")
            }
            fn visit_i64<E>(self, v: i64) -> Result<ErrorCode, E> {
                Ok(ErrorCode::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ErrorCode, E> {
                i64::try_from(v).map(ErrorCode::Number).map_err(|_| E::custom("error code out of range"))
            }
            fn visit_str<E>(self, v: &str) -> Result<ErrorCode, E> {
                Ok(ErrorCode::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl ErrorBody {
    /// An error body with `details.info` set to the message, as the API writes them.
    pub fn new(code: impl Into<ErrorCode>, message: impl Into<String>) -> ErrorBody {
        let message = message.into();
        let mut details = serde_json::Map::new();
        details.insert("info".to_owned(), serde_json::Value::String(message.clone()));
        ErrorBody {
            error: ApiError {
                code: code.into(),
                domain: Some("PlatformAccountServer".to_owned()),
                message,
                details,
                context: None,
            },
        }
    }

    /// Adds `details.rule`, so a client can tell which rule of the profile was broken.
    pub fn with_rule(mut self, rule: Rule) -> ErrorBody {
        self.set_rule(rule);
        self
    }

    /// Sets `details.rule`.
    pub fn set_rule(&mut self, rule: Rule) {
        self.error.details.insert("rule".to_owned(), serde_json::Value::String(rule.id().to_owned()));
    }

    /// The rule named in `details.rule`, where the server named one.
    pub fn rule(&self) -> Option<Rule> {
        self.error.details.get("rule")?.as_str()?.parse().ok()
    }
}
