//! The typed client: one method per operation of the reports API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reportcheck_model::rule_check;
use reportcheck_model::{ApiClient, Id, Report, ReportPost, ReportPut, StoredReportList, StoredStatus, UuidList};
use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::Error;
use crate::options::{ClientOptions, Credentials};
use crate::token::TokenCache;
use crate::transport::{RawRequest, RawResponse, Transport};

/// A client of one API base (`<datacenter>/api/2`) with one set of credentials.
/// Cheap to clone; clones share the connection pool and the token.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.transport.base_url)
            .field("credentials", &self.transport.credentials)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default options.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Client, Error> {
        Client::with_options(base_url, credentials, ClientOptions::default())
    }

    pub fn with_options(base_url: &str, credentials: Credentials, options: ClientOptions) -> Result<Client, Error> {
        let parsed = reqwest::Url::parse(base_url).map_err(|err| Error::InvalidRequest {
            rule: None,
            message: format!("the base URL `{base_url}` is not a URL: {err}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            // `localhost:8080/api/2` parses with the scheme `localhost`: say what is missing.
            return Err(Error::InvalidRequest {
                rule: None,
                message: format!(
                    "the base URL `{base_url}` needs an http:// or https:// scheme (e.g. http://{})",
                    base_url.split("://").last().unwrap_or(base_url)
                ),
            });
        }
        if parsed.query().is_some() {
            return Err(Error::InvalidRequest {
                rule: None,
                message: format!("the base URL `{base_url}` must have no query (`?…`)"),
            });
        }
        let http = configured(&options)?;
        let http_raw = configured(&options)?.no_gzip();
        let cannot_build = |err: reqwest::Error| Error::InvalidRequest {
            rule: None,
            message: format!("cannot build the HTTP client: {err}"),
        };
        let http = http.build().map_err(cannot_build)?;
        let http_raw = http_raw.build().map_err(cannot_build)?;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let transport = Transport {
            http,
            http_raw,
            token_url: format!("{base_url}/idp/token"),
            base_url,
            credentials,
            options,
            tokens: TokenCache::default(),
        };
        Ok(Client { transport: Arc::new(transport) })
    }

    pub fn base_url(&self) -> &str {
        &self.transport.base_url
    }

    pub fn options(&self) -> &ClientOptions {
        &self.transport.options
    }

    /// How many tokens this client has fetched so far.
    pub fn token_fetches(&self) -> u64 {
        self.transport.tokens.fetches()
    }

    /// `POST /reports`.
    pub async fn create_report(&self, body: &ReportPost) -> Result<Report, Error> {
        if self.transport.options.validate_requests
            && let Some(violation) = rule_check::create_violations(body, utc_today()).into_iter().next()
        {
            return Err(invalid(violation));
        }
        self.json(RawRequest::new(Method::POST, "/reports").json(body), &[StatusCode::OK, StatusCode::CREATED]).await
    }

    /// `GET /reports/{id}`.
    pub async fn get_report(&self, id: Id) -> Result<Report, Error> {
        self.json(RawRequest::new(Method::GET, format!("/reports/{id}")), &[StatusCode::OK]).await
    }

    /// `PUT /reports/{id}`. With `validate_requests`, the current report is fetched first
    /// and a body the model knows breaks UPD-1/2/3 fails here with its rule.
    pub async fn update_report(&self, id: Id, body: &ReportPut) -> Result<Report, Error> {
        if self.transport.options.validate_requests {
            let current = self.get_report(id).await?;
            if let Some(violation) = rule_check::update_violations(&current, body, utc_today()).into_iter().next() {
                return Err(invalid(violation));
            }
        }
        self.json(RawRequest::new(Method::PUT, format!("/reports/{id}")).json(body), &[StatusCode::OK]).await
    }

    /// `DELETE /reports/{id}?version=N`.
    pub async fn delete_report(&self, id: Id, version: i64) -> Result<(), Error> {
        let response = self
            .transport
            .send(&RawRequest::new(Method::DELETE, format!("/reports/{id}?version={version}")), false)
            .await?;
        match response.status {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
            _ => Err(self.transport.status_error(&response)),
        }
    }

    /// `GET /tenants/{tenant_id}/reports`: the ids of a tenant's reports.
    pub async fn list_reports(&self, tenant_id: Id) -> Result<Vec<Id>, Error> {
        let list: UuidList =
            self.json(RawRequest::new(Method::GET, format!("/tenants/{tenant_id}/reports")), &[StatusCode::OK]).await?;
        Ok(list.items)
    }

    /// `GET /reports/{id}/stored`.
    pub async fn stored_reports(&self, id: Id) -> Result<StoredReportList, Error> {
        self.json(RawRequest::new(Method::GET, format!("/reports/{id}/stored")), &[StatusCode::OK]).await
    }

    /// Polls `GET /reports/{id}/stored` every `interval` until there is at least one
    /// stored report and every one is `saved` or `failed`, or `timeout` has passed.
    pub async fn wait_for_stored(
        &self,
        id: Id,
        interval: Duration,
        timeout: Duration,
    ) -> Result<StoredReportList, Error> {
        let started = tokio::time::Instant::now();
        loop {
            let list = self.stored_reports(id).await?;
            let done = !list.items.is_empty() && list.items.iter().all(|item| item.status != StoredStatus::InProgress);
            if done {
                return Ok(list);
            }
            if started.elapsed() + interval > timeout {
                return Err(Error::PollTimeout { waited: started.elapsed() });
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// `GET /reports/{id}/stored/{stored_id}`, streamed into `out`, gzip undone. Returns
    /// the number of bytes written.
    pub async fn download_stored<W: AsyncWrite + Unpin>(
        &self,
        id: Id,
        stored_id: Id,
        out: &mut W,
    ) -> Result<u64, Error> {
        // Streaming bypasses the buffered transport: one attempt, with the same auth.
        let token = self.transport.token().await?;
        let mut request = self
            .transport
            .http
            .get(self.transport.url(&format!("/reports/{id}/stored/{stored_id}")))
            .bearer_auth(token.expose());
        if let Some(timeout) = self.transport.options.request_timeout {
            request = request.timeout(timeout);
        }
        let redact = |text: &str| self.transport.redact(text);
        let mut response = request.send().await.map_err(|err| Error::transport(err, &redact))?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|err| Error::transport(err, &redact))?;
            return Err(self.transport.status_error(&RawResponse { status, headers, body, body_problem: None }));
        }
        let mut written = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|err| Error::transport(err, &redact))? {
            out.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        out.flush().await?;
        Ok(written)
    }

    /// `GET /clients/{client_id}`.
    pub async fn get_client(&self, client_id: Id) -> Result<ApiClient, Error> {
        self.json(RawRequest::new(Method::GET, format!("/clients/{client_id}")), &[StatusCode::OK]).await
    }

    /// The API client these credentials belong to, and so the caller's tenant (AUTH-4).
    pub async fn whoami(&self) -> Result<ApiClient, Error> {
        let client_id = self.transport.credentials.client_id().ok_or_else(|| Error::InvalidRequest {
            rule: None,
            message: "a bearer token alone does not name its client".to_owned(),
        })?;
        let client_id = client_id.parse().map_err(|_| Error::InvalidRequest {
            rule: None,
            message: "the client id is not a lower-case UUID".to_owned(),
        })?;
        self.get_client(client_id).await
    }

    /// Sends any request through the same authentication, retries and timeouts, and
    /// returns the answer whatever its status (a 401 too, after one token refresh).
    pub async fn send_raw(&self, request: &RawRequest) -> Result<RawResponse, Error> {
        self.transport.send(request, true).await
    }

    /// Replaces every secret this client knows (its client secret, its token) in `text`.
    pub fn redact(&self, text: &str) -> String {
        self.transport.redact(text)
    }

    async fn json<T: DeserializeOwned>(&self, mut request: RawRequest, success: &[StatusCode]) -> Result<T, Error> {
        request.headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let response = self.transport.send(&request, false).await?;
        if !success.contains(&response.status) {
            return Err(self.transport.status_error(&response));
        }
        if !rule_check::is_json_media_type(response.content_type()) {
            return Err(Error::UnexpectedContentType {
                status: response.status,
                expected: "application/json",
                found: response.content_type().map(str::to_owned),
            });
        }
        // The fast path decodes plainly; only a failure is decoded again to find its path.
        serde_json::from_slice(&response.body).map_err(|_| {
            let mut deserializer = serde_json::Deserializer::from_slice(&response.body);
            let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                Err(err) => (err.path().to_string(), err.inner().to_string()),
                Ok(_) => (".".to_owned(), "trailing characters".to_owned()),
            };
            Error::Decode { status: response.status, path, message, snippet: self.transport.snippet(&response.body) }
        })
    }
}

/// The client's idea of "today" for local validation: the UTC date.
fn utc_today() -> reportcheck_model::Date {
    time::OffsetDateTime::now_utc().date()
}

fn invalid(violation: rule_check::Violation) -> Error {
    Error::InvalidRequest { rule: Some(violation.rule), message: violation.message }
}

/// A reqwest builder with the options' timeouts, headers and TLS settings.
fn configured(options: &ClientOptions) -> Result<reqwest::ClientBuilder, Error> {
    let mut http = reqwest::Client::builder().user_agent(concat!("reportcheck/", env!("CARGO_PKG_VERSION")));
    if let Some(timeout) = options.connect_timeout {
        http = http.connect_timeout(timeout);
    }
    http = http.pool_idle_timeout(options.pool_idle_timeout);
    let invalid = |message: String| Error::InvalidRequest { rule: None, message };
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &options.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| invalid(format!("`{}` is not a header name", name.trim())))?;
        let mut value = HeaderValue::from_str(value.expose().trim())
            .map_err(|_| invalid(format!("the value of header `{name}` is not valid header text")))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    http = http.default_headers(headers);
    for pem in &options.root_certificates {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|err| invalid(format!("a CA certificate is not PEM: {err}")))?;
        if certificates.is_empty() {
            return Err(invalid("a CA certificate file holds no PEM certificate".to_owned()));
        }
        for certificate in certificates {
            http = http.add_root_certificate(certificate);
        }
    }
    if options.accept_invalid_certs {
        http = http.danger_accept_invalid_certs(true);
    }
    Ok(http)
}
