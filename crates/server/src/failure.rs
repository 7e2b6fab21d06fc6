//! Every non-2xx answer of the reports endpoints: a status and an `errorScheme` body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reportcheck_model::{ErrorBody, Rule, TokenError, Violation};

use crate::request_log::Named;

/// A rejected request, rendered as JSON with the documented status.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    /// Boxed: failures travel in `Result`s on every request path.
    pub body: Box<ErrorBody>,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure { status, body: Box::new(ErrorBody::new(i64::from(status.as_u16()), message)) }
    }

    pub fn rule(mut self, rule: Rule) -> Failure {
        self.body.set_rule(rule);
        self
    }

    pub fn unauthenticated(reason: &str) -> Failure {
        Failure::new(StatusCode::UNAUTHORIZED, format!("Method required an authenticated user: {reason}."))
            .rule(Rule::Auth3)
    }

    pub fn forbidden(rule: Rule) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, "Current user is not authorized to access this endpoint or its method.")
            .rule(rule)
    }

    pub fn not_found(what: &str, rule: Rule) -> Failure {
        Failure::new(StatusCode::NOT_FOUND, format!("Not Found: {what}.")).rule(rule)
    }

    pub fn payload_too_large(limit: usize) -> Failure {
        Failure::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The request body exceeds {limit} bytes.")).rule(Rule::Err3)
    }
}

impl From<Violation> for Failure {
    fn from(violation: Violation) -> Self {
        let status = StatusCode::from_u16(violation.status).unwrap_or(StatusCode::BAD_REQUEST);
        Failure { status, body: Box::new(violation.to_error_body()) }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let rule = self.body.rule();
        let mut response = (self.status, axum::Json(*self.body)).into_response();
        if let Some(rule) = rule {
            response.extensions_mut().insert(Named(rule));
        }
        response
    }
}

/// A rejected token request, rendered as a `tokenError` body.
#[derive(Debug)]
pub struct TokenFailure {
    pub status: StatusCode,
    pub body: TokenError,
}

impl TokenFailure {
    pub fn new(status: StatusCode, error: &str, description: &str) -> TokenFailure {
        TokenFailure { status, body: TokenError { error: error.to_owned(), error_description: description.to_owned() } }
    }
}

impl IntoResponse for TokenFailure {
    fn into_response(self) -> Response {
        // A malformed token request breaks AUTH-1's form; refused credentials are AUTH-2's.
        let rule = if self.status == StatusCode::BAD_REQUEST && self.body.error == "invalid_request" {
            Rule::Auth1
        } else {
            Rule::Auth2
        };
        let busy = self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if !busy {
            response.extensions_mut().insert(Named(rule));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        }
        response
    }
}

/// Turns any error answer that is not JSON yet (an unknown route, a wrong method, a path
/// the router could not decode) into an `errorScheme` body (ERR-1).
pub async fn ensure_json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| reportcheck_model::rule_check::is_json_media_type(Some(value)));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut failure = Failure::new(status, reason).rule(Rule::Err1).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        failure.headers_mut().insert(header::ALLOW, allow.clone());
    }
    failure
}
