//! A small HTTP helper over reqwest for the server's integration tests.

use reportcheck_model::Date;
use reportcheck_server::{Config, RunningServer};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const RECIPIENT: &str = "ca451758-b48a-45d9-9ae6-8f1059f67619";

/// The seed page's "today": its update example is a one-time report still to run.
pub fn seed_today() -> Date {
    reportcheck_model::date::parse_day("2017-05-07").expect("date")
}

pub async fn server(today: Option<Date>) -> RunningServer {
    reportcheck_server::spawn(Config { today, ..Config::default() }).await.expect("server starts")
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// One API client of the fixture with its token.
#[derive(Debug, Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub tenant: String,
}

impl Api {
    /// Logs in as fixture client `index` (0: tenant A, 1: tenant B).
    pub async fn login(server: &RunningServer, index: usize) -> Api {
        let http = reqwest::Client::new();
        let client = &server.fixture().clients[index];
        let response = http
            .post(format!("{}/idp/token", server.base_url()))
            .basic_auth(client.client_id.to_string(), Some(client.client_secret.expose()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), 200);
        let token: Value = response.json().await.expect("token json");
        Api {
            http,
            base: server.base_url().to_owned(),
            token: token["access_token"].as_str().expect("access_token").to_owned(),
            tenant: client.tenant_id.to_string(),
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        reply(request.send().await.expect("request is answered")).await
    }

    pub async fn create(&self, body: &Value) -> Value {
        let reply = self.send(Method::POST, "/reports", Some(body)).await;
        assert_eq!(reply.status, 200, "create failed: {}", reply.text);
        reply.body
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

/// A one-time `send` report of `tenant` still to run on the seed page's day.
pub fn scheduled_report(tenant: &str) -> Value {
    json!({
        "recipients": [RECIPIENT],
        "result_action": "send",
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts",
            "formats": ["csv", "html"], "period": {"start": "2017-05-01", "end": "2017-05-07"}},
        "schedule": {"type": "once"},
        "generation_date": "2017-05-08"
    })
}
