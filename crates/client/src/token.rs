//! The bearer token: fetched once for many concurrent calls, refreshed before it expires
//! and once after a 401.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reportcheck_model::{Secret, Token, TokenError};
use reqwest::StatusCode;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Error;
use crate::options::{Credentials, TokenAuthMethod};

#[derive(Debug, Clone)]
struct Cached {
    /// Shared, so the hot path hands out a pointer instead of copying the token.
    token: Arc<Secret>,
    /// When to fetch a new one: the expiry less the refresh margin.
    refresh_at: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }
}

/// The token of one client. Reads take a short synchronous read lock; a fetch holds the
/// async `fetching` lock, so concurrent callers wait for the one fetch in flight instead
/// of starting their own.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    cached: parking_lot::RwLock<Option<Cached>>,
    fetching: Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    /// A valid token, fetching one if there is none or it is due for refresh.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        token_url: &str,
        credentials: &Credentials,
        margin: Duration,
        timeout: Option<Duration>,
    ) -> Result<Arc<Secret>, Error> {
        let (client_id, client_secret, method) = match credentials {
            Credentials::Bearer(token) => return Ok(Arc::new(token.clone())),
            Credentials::ClientSecret { client_id, client_secret, method } => (client_id, client_secret, *method),
        };
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _fetching = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = fetch(http, token_url, client_id, client_secret, method, timeout).await?;
        let refresh_at =
            lifetime(&token).map(|lifetime| Instant::now() + lifetime.saturating_sub(margin.min(lifetime / 2)));
        let secret = Arc::new(token.access_token);
        *self.cached.write() = Some(Cached { token: Arc::clone(&secret), refresh_at });
        Ok(secret)
    }

    fn fresh(&self) -> Option<Arc<Secret>> {
        self.cached.read().as_ref().filter(|cached| cached.is_fresh()).map(|cached| Arc::clone(&cached.token))
    }

    /// Forgets `rejected`, unless another call already replaced it.
    pub(crate) fn invalidate(&self, rejected: &Secret) {
        let mut cached = self.cached.write();
        if cached.as_ref().is_some_and(|current| *current.token == *rejected) {
            *cached = None;
        }
    }

    /// How many tokens were fetched (for tests and diagnostics).
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current token, for redaction.
    pub(crate) fn current(&self) -> Option<Arc<Secret>> {
        self.cached.read().as_ref().map(|cached| Arc::clone(&cached.token))
    }
}

/// How long a token lives from now: `expires_in`, else `expires_on` against the clock.
fn lifetime(token: &Token) -> Option<Duration> {
    if let Some(seconds) = token.expires_in {
        return Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    token.expires_on.map(|on| Duration::from_secs(u64::try_from(on).unwrap_or(0).saturating_sub(now)))
}

/// The most of a token endpoint's answer read.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

async fn fetch(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: &Secret,
    method: TokenAuthMethod,
    timeout: Option<Duration>,
) -> Result<Token, Error> {
    let mut form = vec![("grant_type", "client_credentials")];
    let mut request = http.post(token_url);
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    match method {
        TokenAuthMethod::Basic => request = request.basic_auth(client_id, Some(client_secret.expose())),
        TokenAuthMethod::Form => {
            form.push(("client_id", client_id));
            form.push(("client_secret", client_secret.expose()));
        }
    }
    let redact = |text: &str| crate::error::redact_value(text, client_secret.expose());
    let mut response = request.form(&form).send().await.map_err(|err| Error::transport(err, &redact))?;
    let status = response.status();
    // A token is a few KiB: a larger answer is refused before it costs memory.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| Error::transport(err, &redact))? {
        if body.len() + chunk.len() > MAX_TOKEN_BYTES {
            return Err(Error::Auth {
                status: Some(status),
                token_error: None,
                message: format!("the token endpoint's answer is larger than {MAX_TOKEN_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    if status == StatusCode::OK {
        return serde_json::from_slice::<Token>(&body).map_err(|err| Error::Auth {
            status: Some(status),
            token_error: None,
            message: format!("the token response is not a token: {err}"),
        });
    }
    let token_error = serde_json::from_slice::<TokenError>(&body)
        .ok()
        .map(|error| TokenError { error: redact(&error.error), error_description: redact(&error.error_description) });
    let message = match &token_error {
        Some(error) => format!("{}: {}", error.error, error.error_description),
        None if status == StatusCode::NOT_FOUND => format!(
            "the token endpoint answered {status}: {token_url} does not exist; the base URL must be the API base, ending in /api/2"
        ),
        None => format!("the token endpoint answered {status}"),
    };
    Err(Error::Auth { status: Some(status), token_error, message })
}
