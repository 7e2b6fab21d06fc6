//! The client's one error type.

use std::time::Duration;

use reportcheck_model::{ErrorBody, Rule, TokenError};
use reqwest::StatusCode;

/// Everything a call can fail with, by where it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before sending: a bad base URL or argument, or (with
    /// `validate_requests`) a body the model knows breaks a rule.
    #[error("invalid request{}: {message}", rule.map(|r| format!(" ({r})")).unwrap_or_default())]
    InvalidRequest { rule: Option<Rule>, message: String },

    /// No HTTP answer: connection refused or reset, DNS, TLS, or a timeout.
    #[error("transport error{}: {message}", if *timeout { " (timed out)" } else { "" })]
    Transport {
        message: String,
        timeout: bool,
        connect: bool,
        #[source]
        source: reqwest::Error,
    },

    /// The token endpoint refused the credentials, or the API refused a fresh token.
    #[error("authentication failed{}: {message}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Auth { status: Option<StatusCode>, token_error: Option<TokenError>, message: String },

    /// The API answered with an `errorScheme` body.
    #[error("API error {status}: code {}: {}", body.error.code, body.error.message)]
    Api { status: StatusCode, body: Box<ErrorBody> },

    /// An answer whose body could not be read whole (it broke off, did not decode, or
    /// passed `max_response_bytes`).
    #[error("the {status} answer's body could not be read: {message}")]
    Body { status: StatusCode, message: String },

    /// A 2xx body that is not the expected JSON.
    #[error("cannot decode the {status} response at `{path}`: {message}; body starts: {snippet}")]
    Decode { status: StatusCode, path: String, message: String, snippet: String },

    /// A response with a `Content-Type` other than the one the operation answers with.
    #[error("unexpected content type {found:?} (expected {expected}) with status {status}")]
    UnexpectedContentType { status: StatusCode, expected: &'static str, found: Option<String> },

    /// A status the operation does not answer with, without an `errorScheme` body.
    #[error("unexpected status {status}; body starts: {snippet}")]
    UnexpectedStatus { status: StatusCode, snippet: String },

    /// Every attempt allowed by the retry policy failed; `last` is the final failure.
    #[error("gave up after {attempts} attempts in {elapsed:?}: {last}")]
    RetriesExhausted { attempts: u32, elapsed: Duration, last: Box<Error> },

    /// Polling stored reports did not finish in time.
    #[error("stored reports not ready after {waited:?}")]
    PollTimeout { waited: Duration },

    /// Writing a download failed.
    #[error("cannot write the download: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The HTTP status, where the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. }
            | Error::Body { status, .. }
            | Error::Decode { status, .. }
            | Error::UnexpectedContentType { status, .. }
            | Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Auth { status, .. } => *status,
            Error::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::PollTimeout { .. } | Error::RetriesExhausted { .. } => true,
            Error::Api { status, .. } | Error::UnexpectedStatus { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// The profile rule named by a local validation or in the server's `details.rule`.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Error::InvalidRequest { rule, .. } => *rule,
            Error::Api { body, .. } => body.rule(),
            Error::RetriesExhausted { last, .. } => last.rule(),
            _ => None,
        }
    }

    /// The `errorScheme` body, for API errors.
    pub fn error_body(&self) -> Option<&ErrorBody> {
        match self {
            Error::Api { body, .. } => Some(body),
            Error::RetriesExhausted { last, .. } => last.error_body(),
            _ => None,
        }
    }

    pub(crate) fn transport(source: reqwest::Error, redact: &dyn Fn(&str) -> String) -> Error {
        // reqwest puts the URL in its messages; ours carry no secret, but redact anyway.
        // The cause chain says what happened (refused, DNS, TLS); the top alone does not.
        let message = redact(&cause_chain(&source));
        Error::Transport {
            message,
            timeout: source.is_timeout(),
            connect: source.is_connect(),
            source: source.without_url(),
        }
    }
}

/// An error and its causes, `top: cause: root cause`, repeats dropped, with a hint where
/// the cause is a classic mistake (TLS spoken to a plain-HTTP port).
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if !parts.iter().any(|known| known.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    let mut message = parts.join(": ");
    let lower = message.to_ascii_lowercase();
    if lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("wrong version number")
    {
        message.push_str(" (the port does not speak TLS: is this an https URL for a plain-http server?)");
    }
    message
}

/// `text` with every occurrence of `secret` replaced; an empty secret redacts nothing
/// (replacing "" would put the placeholder between every character).
pub(crate) fn redact_value(text: &str, secret: &str) -> String {
    if secret.trim().is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, reportcheck_model::Secret::PLACEHOLDER)
    }
}

/// 429, 502, 503 and 504: the server says "not now".
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}
