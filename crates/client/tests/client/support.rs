//! Mocks shared by the scenarios.

use std::sync::atomic::{AtomicU64, Ordering};

use reportcheck_client::{Client, ClientOptions, Credentials, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "0a6f3c1e-58b2-4d97-a3e0-6c9d2b4f7e18";
pub const SECRET: &str = "very-secret-client-secret-42";
pub const REPORT_ID: &str = "20dffb36-d77b-45c6-b2fa-39276e98d5fc";

pub fn report_json() -> Value {
    json!({"id": REPORT_ID, "version": 2, "result_action": "send",
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"],
        "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "level": "accounts", "formats": ["csv"],
            "kind": "usage_summary", "period": {"start": "2017-05-01", "end": "2017-05-07"}},
        "schedule": {"enabled": true, "type": "once"}, "generation_date": "2017-05-08"})
}

pub fn report_path() -> String {
    format!("/api/2/reports/{REPORT_ID}")
}

/// A mock of `GET /reports/{REPORT_ID}`, to finish with an answer.
pub fn get_report() -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path(report_path()))
}

/// 200 with the report.
pub fn ok_report() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(report_json())
}

/// Issues `token-1`, `token-2`, ... living `lifetime` seconds.
pub struct Tokens {
    pub issued: AtomicU64,
    pub lifetime: i64,
}

impl Respond for Tokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({"access_token": format!("token-{n}"), "token_type": "bearer",
            "id_token": "id-token", "expires_in": self.lifetime}))
    }
}

pub async fn mount_tokens(server: &MockServer, lifetime: i64) {
    Mock::given(method("POST"))
        .and(path("/api/2/idp/token"))
        .respond_with(Tokens { issued: AtomicU64::new(0), lifetime })
        .mount(server)
        .await;
}

/// Options for paused-time tests: no timers in reqwest or its pool (the paused clock
/// jumps to the next timer whenever a request waits on the socket).
pub fn paused_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: None,
        request_timeout: None,
        pool_idle_timeout: None,
        retry: RetryPolicy { max_attempts: 4, busy_attempts: 4, ..RetryPolicy::default() },
        ..ClientOptions::default()
    }
}

pub fn client(server: &MockServer, options: ClientOptions) -> Client {
    Client::with_options(&format!("{}/api/2", server.uri()), Credentials::client_secret(CLIENT_ID, SECRET), options)
        .expect("client")
}

pub async fn hits(server: &MockServer, wanted_path: &str) -> usize {
    let requests = server.received_requests().await.expect("recording is on");
    requests.iter().filter(|request| request.url.path() == wanted_path).count()
}

pub fn id(text: &str) -> reportcheck_model::Id {
    text.parse().expect("id")
}
