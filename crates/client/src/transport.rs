//! Sending one request: authentication, retries, timeouts. Every operation goes through
//! [`Transport::send`], raw requests included.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use reportcheck_model::Secret;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use crate::error::{Error, is_retryable_status};
use crate::options::{ClientOptions, Credentials};
use crate::token::TokenCache;

/// How a request authenticates.
#[derive(Debug, Clone, Default)]
pub enum RequestAuth {
    /// The client's own bearer token (fetched and refreshed as needed).
    #[default]
    Client,
    /// No `Authorization` header at all.
    Anonymous,
    /// This exact `Authorization` header value, e.g. a bogus token.
    Header(Secret),
}

/// A request as the harness wants to send it, valid or not.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: Method,
    /// Relative to the base URL, e.g. `/reports/{id}?version=3`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub auth: RequestAuth,
}

impl RawRequest {
    pub fn new(method: Method, path: impl Into<String>) -> RawRequest {
        RawRequest { method, path: path.into(), headers: HeaderMap::new(), body: None, auth: RequestAuth::Client }
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(mut self, body: &impl serde::Serialize) -> RawRequest {
        self.headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(serde_json::to_vec(body).unwrap_or_default().into());
        self
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as read: whole, or what arrived before `body_problem`.
    pub body: Bytes,
    /// Why the body is not whole: it broke off (a reset, a wrong length, a body that
    /// does not decode under its `Content-Encoding`, a timeout) or passed
    /// `max_response_bytes`. The answer is still the server's, for the harness to judge.
    pub body_problem: Option<String>,
}

impl RawResponse {
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(reqwest::header::CONTENT_TYPE).and_then(|value| value.to_str().ok())
    }
}

#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    /// The same client without transparent decompression, for requests that name their
    /// own `Accept-Encoding` and want the bytes as sent (STO-3 decodes them honestly).
    pub(crate) http_raw: reqwest::Client,
    pub(crate) base_url: String,
    /// `{base_url}/idp/token`, built once.
    pub(crate) token_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) options: ClientOptions,
    pub(crate) tokens: TokenCache,
}

impl Transport {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Replaces every secret the client knows with a placeholder.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let configured = match &self.credentials {
            Credentials::ClientSecret { client_secret, .. } => client_secret,
            Credentials::Bearer(token) => token,
        };
        let current = self.tokens.current();
        let headers = self.options.headers.iter().map(|(_, value)| value);
        for secret in std::iter::once(configured).chain(current.as_deref()).chain(headers) {
            text = crate::error::redact_value(&text, secret.expose());
        }
        text
    }

    /// Sends once or more, as the retry policy and a 401 allow, and returns the final
    /// answer; only transport failures and exhausted retries are errors here.
    ///
    /// With `raw`, a 401 that survives the token refresh is returned as a response (the
    /// harness judges it); otherwise it is an [`Error::Auth`].
    pub(crate) async fn send(&self, request: &RawRequest, raw: bool) -> Result<RawResponse, Error> {
        let policy = &self.options.retry;
        let retryable_method = match request.method {
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS => true,
            Method::POST => policy.retry_post,
            _ => false,
        };
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut refreshed = false;
        loop {
            attempts += 1;
            let token = match &request.auth {
                RequestAuth::Client => Some(self.token().await?),
                _ => None,
            };
            let outcome = self.attempt(request, token.as_ref()).await;
            let delay = match &outcome {
                // A 401 on our own token: fetch a new one, once, without using a retry.
                Ok(response) if response.status == StatusCode::UNAUTHORIZED && token.is_some() => {
                    let cannot_refresh = refreshed || matches!(self.credentials, Credentials::Bearer(_));
                    if cannot_refresh && raw {
                        return outcome;
                    }
                    if cannot_refresh {
                        return Err(Error::Auth {
                            status: Some(StatusCode::UNAUTHORIZED),
                            token_error: None,
                            message: if refreshed {
                                "the API refused a freshly issued token".to_owned()
                            } else {
                                "the API refused the bearer token".to_owned()
                            },
                        });
                    }
                    if let Some(token) = &token {
                        self.tokens.invalidate(token);
                    }
                    refreshed = true;
                    attempts -= 1;
                    continue;
                }
                Ok(response) if is_retryable_status(response.status) => retry_after(&response.headers),
                // An answer whose body broke off is still an answer: the caller judges it.
                Ok(response) if response.body_problem.is_some() && !raw => {
                    return Err(Error::Body {
                        status: response.status,
                        message: response.body_problem.clone().unwrap_or_default(),
                    });
                }
                Ok(_) => return outcome,
                Err(Error::Transport { connect: true, .. }) => None,
                Err(_) => return outcome,
            };
            let delay = delay.unwrap_or_else(|| policy.backoff(attempts));
            let out_of_budget = started.elapsed() + delay > policy.max_elapsed;
            // Any method may be sent again when the answer says it was not processed
            // (429, 503) or nothing was sent (a failed connect): a POST too.
            // A 503 without `Retry-After` may come from a proxy after the upstream got the
            // request: a POST is sent again only on one that says when to come back.
            let not_processed = match &outcome {
                Ok(response) => {
                    response.status == StatusCode::TOO_MANY_REQUESTS
                        || (response.status == StatusCode::SERVICE_UNAVAILABLE
                            && response.headers.contains_key(RETRY_AFTER))
                }
                Err(Error::Transport { connect: true, .. }) => true,
                Err(_) => false,
            };
            let retryable = retryable_method || not_processed;
            let limit = match &outcome {
                // `max_attempts: 1` disables retries altogether.
                Ok(_) if policy.max_attempts > 1 => policy.max_attempts.max(policy.busy_attempts),
                _ => policy.max_attempts,
            };
            if !retryable || attempts >= limit || out_of_budget {
                if attempts == 1 && !retryable {
                    return outcome;
                }
                // Raw: the last answer is the server's, for the harness to judge.
                if raw && outcome.is_ok() {
                    return outcome;
                }
                let last = match outcome {
                    Ok(response) => self.status_error(&response),
                    Err(err) => err,
                };
                return Err(Error::RetriesExhausted { attempts, elapsed: started.elapsed(), last: Box::new(last) });
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// The bearer token: the cached one, or a fresh fetch, retried as the policy allows
    /// when the token endpoint is busy (429, 502, 503, 504) or cannot be reached.
    pub(crate) async fn token(&self) -> Result<std::sync::Arc<Secret>, Error> {
        let policy = &self.options.retry;
        let started = Instant::now();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let fetched = self
                .tokens
                .get(
                    &self.http,
                    &self.token_url,
                    &self.credentials,
                    self.options.refresh_margin,
                    self.options.request_timeout,
                )
                .await;
            let busy = match &fetched {
                Err(Error::Auth { status: Some(status), .. }) => is_retryable_status(*status),
                Err(Error::Transport { connect: true, .. }) => true,
                _ => false,
            };
            let delay = policy.backoff(attempts);
            let limit = match &fetched {
                Err(Error::Auth { .. }) if policy.max_attempts > 1 => policy.max_attempts.max(policy.busy_attempts),
                _ => policy.max_attempts,
            };
            if !busy || attempts >= limit || started.elapsed() + delay > policy.max_elapsed {
                return fetched;
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        request: &RawRequest,
        token: Option<&std::sync::Arc<Secret>>,
    ) -> Result<RawResponse, Error> {
        let http =
            if request.headers.contains_key(reqwest::header::ACCEPT_ENCODING) { &self.http_raw } else { &self.http };
        let mut builder =
            http.request(request.method.clone(), self.url(&request.path)).headers(request.headers.clone());
        if let Some(timeout) = self.options.request_timeout {
            builder = builder.timeout(timeout);
        }
        match (&request.auth, token) {
            (_, Some(token)) => builder = builder.bearer_auth(token.expose()),
            (RequestAuth::Header(value), None) => {
                builder = builder.header(reqwest::header::AUTHORIZATION, value.expose())
            }
            _ => {}
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let redact = |text: &str| self.redact(text);
        let mut response = builder.send().await.map_err(|err| Error::transport(err, &redact))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // Read in chunks, up to the cap: an endless or huge body costs at most the cap.
        let cap = self.options.max_response_bytes;
        let mut body = bytes::BytesMut::new();
        let mut body_problem = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > cap => {
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    body_problem = Some(format!(
                        "the body is larger than {cap} bytes (--max-response-bytes); the rest was not read"
                    ));
                    break;
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    let err = Error::transport(err, &redact);
                    body_problem = Some(format!("the body broke off after {} bytes: {err}", body.len()));
                    break;
                }
            }
        }
        Ok(RawResponse { status, headers, body: body.freeze(), body_problem })
    }

    /// The error a non-success response stands for.
    pub(crate) fn status_error(&self, response: &RawResponse) -> Error {
        match serde_json::from_slice::<reportcheck_model::ErrorBody>(&response.body) {
            Ok(mut body) => {
                body.error.message = self.redact(&body.error.message);
                let details = serde_json::Value::Object(std::mem::take(&mut body.error.details)).to_string();
                if let Ok(serde_json::Value::Object(details)) = serde_json::from_str(&self.redact(&details)) {
                    body.error.details = details;
                }
                Error::Api { status: response.status, body: Box::new(body) }
            }
            Err(_) => Error::UnexpectedStatus { status: response.status, snippet: self.snippet(&response.body) },
        }
    }

    /// The start of a body, redacted, for error messages.
    pub(crate) fn snippet(&self, body: &[u8]) -> String {
        const LIMIT: usize = 200;
        let text = String::from_utf8_lossy(body);
        let mut snippet: String = self.redact(&text).chars().take(LIMIT).collect();
        if text.chars().count() > LIMIT {
            snippet.push('…');
        }
        snippet
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).expect("header"));
        let delay = retry_after(&headers).expect("date");
        assert!(delay > Duration::from_secs(100) && delay <= Duration::from_secs(120), "{delay:?}");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a past date means now");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = crate::RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..crate::RetryPolicy::default()
        };
        for attempt in 1..30 {
            let base = (Duration::from_millis(100) * 2u32.pow((attempt - 1).min(20))).min(Duration::from_secs(1));
            let delay = policy.backoff(attempt);
            assert!(delay >= base / 2 && delay <= base, "attempt {attempt}: {delay:?}");
        }
    }
}
