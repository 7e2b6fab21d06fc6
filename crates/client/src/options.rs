//! How a client authenticates, times out and retries.

use std::fmt;
use std::time::Duration;

use reportcheck_model::Secret;

/// What the client presents to the API.
#[derive(Clone)]
pub enum Credentials {
    /// OAuth2 client credentials, exchanged at `POST /idp/token` for a bearer token.
    ClientSecret { client_id: String, client_secret: Secret, method: TokenAuthMethod },
    /// A ready bearer token; it cannot be refreshed.
    Bearer(Secret),
}

impl Credentials {
    /// Client credentials sent with HTTP Basic authentication (the platform's default).
    pub fn client_secret(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Credentials {
        Credentials::ClientSecret {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            method: TokenAuthMethod::Basic,
        }
    }

    /// Sends the client credentials as form fields instead (`client_secret_post`).
    pub fn in_form(self) -> Credentials {
        match self {
            Credentials::ClientSecret { client_id, client_secret, .. } => {
                Credentials::ClientSecret { client_id, client_secret, method: TokenAuthMethod::Form }
            }
            bearer => bearer,
        }
    }

    pub fn bearer(token: impl Into<Secret>) -> Credentials {
        Credentials::Bearer(token.into())
    }

    /// The client id, where there is one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Credentials::ClientSecret { client_id, .. } => Some(client_id),
            Credentials::Bearer(_) => None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientSecret { client_id, method, .. } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .field("method", method)
                .finish_non_exhaustive(),
            Credentials::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// Where the token request carries the client credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuthMethod {
    /// `Authorization: Basic base64(id:secret)` (`client_secret_basic`).
    Basic,
    /// `client_id` and `client_secret` form fields (`client_secret_post`).
    Form,
}

/// Timeouts, retries, token refresh and local validation.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Limit for establishing a connection; `None` waits as long as the OS does.
    pub connect_timeout: Option<Duration>,
    /// Limit for one whole attempt, from sending to the last body byte; `None` for none.
    pub request_timeout: Option<Duration>,
    /// How long an idle keep-alive connection is kept; `None` keeps it (and runs no timer,
    /// which tests on tokio's paused clock need).
    pub pool_idle_timeout: Option<Duration>,
    pub retry: RetryPolicy,
    /// Refresh a token this long before it expires.
    pub refresh_margin: Duration,
    /// Check requests with the model before sending (CRT-2/3/4, UPD-1/2/3/5) and fail
    /// locally with the rule ID. Off by default: the harness must send bad requests.
    pub validate_requests: bool,
    /// Headers sent with every request (a gateway's API key, a tracing header); their
    /// values are secrets, redacted like the client secret.
    pub headers: Vec<(String, Secret)>,
    /// More certificate authorities to trust (PEM), for servers behind a private CA.
    pub root_certificates: Vec<Vec<u8>>,
    /// Accept any TLS certificate. Only for test servers: anyone on the path can read
    /// the credentials.
    pub accept_invalid_certs: bool,
    /// The largest response body read; the rest of a larger one is not read and the
    /// answer carries a [`crate::RawResponse::body_problem`] (memory stays bounded
    /// whatever a server sends).
    pub max_response_bytes: usize,
}

/// The default [`ClientOptions::max_response_bytes`]: a few MiB, far above any answer of
/// the API the fixture's reports produce.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(Duration::from_secs(30)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            retry: RetryPolicy::default(),
            refresh_margin: Duration::from_secs(60),
            validate_requests: false,
            headers: Vec::new(),
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// When and how often to retry. Idempotent requests (GET, PUT, DELETE, HEAD) are retried
/// on connection errors and on 429, 502, 503 and 504; POST on a failed connect, a 429 and
/// a 503 with `Retry-After` (nothing was processed), and on the rest only when
/// `retry_post` is set.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Attempts in all while the server answers that it is busy (429, 502, 503, 504):
    /// it is there, so it gets more than a server that cannot be reached (at least
    /// `max_attempts`; none when `max_attempts` is 1).
    pub busy_attempts: u32,
    /// The first backoff; each further one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
    /// Retry POST as well (only safe when the server deduplicates).
    pub retry_post: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            busy_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
            retry_post: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy { max_attempts: 1, busy_attempts: 1, ..RetryPolicy::default() }
    }

    /// The backoff after `attempt` failed attempts: exponential with "equal jitter", i.e.
    /// uniform in `[base/2, base]` with base = initial·2^(attempt-1), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let base = self.initial_backoff.saturating_mul(1 << exponent).min(self.max_backoff);
        let half = base / 2;
        half + half.mul_f64(fastrand::f64())
    }
}
