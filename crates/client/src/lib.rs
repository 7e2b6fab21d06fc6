//! A typed async client of the usage reports API (Account Management API v2).
//!
//! ```no_run
//! # async fn example() -> Result<(), reportcheck_client::Error> {
//! use reportcheck_client::{Client, Credentials};
//! let client = Client::new(
//!     "https://eu2-cloud.acronis.com/api/2",
//!     Credentials::client_secret("client-id", "client-secret"),
//! )?;
//! let me = client.whoami().await?;
//! for id in client.list_reports(me.tenant_id).await? {
//!     println!("{:?}", client.get_report(id).await?);
//! }
//! # Ok(()) }
//! ```
//!
//! - OAuth2 client credentials (Basic or form fields) or a ready bearer token; one token
//!   fetch serves many concurrent calls; refreshed before it expires and once on a 401.
//! - Idempotent requests are retried on connection errors, 429, 502, 503 and 504,
//!   honouring `Retry-After`, with exponential backoff and jitter, bounded in attempts and
//!   time. POST only where nothing was processed (a failed connect, 429, a 503 with
//!   `Retry-After`) or when [`RetryPolicy::retry_post`] is set.
//! - One [`Error`] type that says where a call failed, with `status()`, `is_retryable()`.
//! - Secrets live in [`Secret`], which never prints; error texts are scrubbed of them.

mod client;
mod error;
mod options;
mod token;
mod transport;

pub use client::Client;
pub use error::{Error, is_retryable_status};
pub use options::{ClientOptions, Credentials, DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, TokenAuthMethod};
pub use reportcheck_model::Secret;
pub use transport::{RawRequest, RawResponse, RequestAuth, retry_after};
