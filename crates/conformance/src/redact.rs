//! One redaction vocabulary for everything the harness prints or writes: failure
//! details, JUnit and JSON reports, recorded contracts.

use serde_json::Value;

/// Object keys whose values are secrets wherever they appear.
pub const SECRET_KEYS: &[&str] =
    &["access_token", "id_token", "refresh_token", "client_secret", "password", "assertion"];

/// Headers whose values are secrets.
pub const SECRET_HEADERS: &[&str] = &["authorization", "cookie", "set-cookie", "proxy-authorization"];

pub const PLACEHOLDER: &str = "[redacted]";

/// Known secret values (client secrets, tokens seen during the run) plus the keys above.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers a secret value; empty and very short values are ignored (they would
    /// redact innocent text).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 6 && !self.secrets.iter().any(|known| known == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is replaced whole.
            self.secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
        }
    }

    /// Replaces every known secret value in `text`.
    pub fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), PLACEHOLDER);
            }
        }
        text
    }

    /// Redacts secret keys and known secret values anywhere in a JSON value.
    pub fn json(&self, value: &Value) -> Value {
        match value {
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| {
                        let redacted = if SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                            Value::String(PLACEHOLDER.to_owned())
                        } else {
                            self.json(value)
                        };
                        (key.clone(), redacted)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|item| self.json(item)).collect()),
            Value::String(text) => Value::String(self.text(text)),
            other => other.clone(),
        }
    }

    /// A header value as it may be shown.
    pub fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            let scheme = value.split_once(' ').map(|(scheme, _)| format!("{scheme} ")).unwrap_or_default();
            format!("{scheme}{PLACEHOLDER}")
        } else {
            self.text(value)
        }
    }

    /// Whether `text` still holds a known secret.
    pub fn leaks(&self, text: &str) -> Option<&str> {
        self.secrets.iter().find(|secret| text.contains(secret.as_str())).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_values_and_headers() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret-value");
        redactor.add("abc");
        let value =
            serde_json::json!({"access_token": "anything", "note": "has s3cret-value inside", "n": [{"id_token": 1}]});
        let redacted = redactor.json(&value);
        assert_eq!(redacted["access_token"], PLACEHOLDER);
        assert_eq!(redacted["note"], "has [redacted] inside");
        assert_eq!(redacted["n"][0]["id_token"], PLACEHOLDER);
        assert_eq!(redactor.header("Authorization", "Bearer xyz"), "Bearer [redacted]");
        assert_eq!(redactor.text("abc stays: too short to redact"), "abc stays: too short to redact");
        assert_eq!(redactor.leaks("x s3cret-value"), Some("s3cret-value"));
    }
}
