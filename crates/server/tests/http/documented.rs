//! What the spec documents beyond the reports: the client management operations answer
//! as documented (403 for a client without a management role, 401 without credentials),
//! and a method a path does not have is 405 with a complete `Allow`. A table of requests;
//! found by fuzzing the server with Schemathesis against `spec/openapi.json`.

use reportcheck_server::Fixture;
use reqwest::Method;
use serde_json::json;

use crate::support::{Api, reply, scheduled_report, seed_today, server};

/// (method, path, authenticated, status, methods `Allow` must list).
const CASES: &[(&str, &str, bool, u16, &[&str])] = &[
    ("GET", "/clients/not-a-client-id", true, 404, &[]),
    ("GET", "/clients/6F1D4C3A-0000-4000-8000-000000000000", true, 404, &[]),
    ("POST", "/clients", true, 403, &[]),
    ("POST", "/clients", false, 401, &[]),
    ("PUT", "/clients/{client}", true, 403, &[]),
    ("PUT", "/clients/{client}", false, 401, &[]),
    ("DELETE", "/clients/{client}", true, 403, &[]),
    ("DELETE", "/clients/{client}", false, 401, &[]),
    ("PATCH", "/clients/{client}", true, 405, &["GET", "PUT", "DELETE"]),
    ("TRACE", "/reports", true, 405, &["POST"]),
    ("GET", "/reports", true, 405, &["POST"]),
    ("TRACE", "/reports/{report}", true, 405, &["GET", "PUT", "DELETE"]),
    ("PATCH", "/reports/{report}", true, 405, &["GET", "PUT", "DELETE"]),
    ("POST", "/tenants/{tenant}/reports", true, 405, &["GET"]),
    ("POST", "/idp/token/", true, 404, &[]),
];

#[tokio::test]
async fn documented_operations_and_methods_answer_as_documented() {
    let server = server(Some(seed_today())).await;
    let api = Api::login(&server, 0).await;
    let report = api.create(&scheduled_report(&api.tenant)).await;
    let mut failures = Vec::new();
    for &(method, path, authenticated, status, allow) in CASES {
        let path = path
            .replace("{client}", Fixture::CLIENT_A)
            .replace("{report}", report["id"].as_str().expect("id"))
            .replace("{tenant}", &api.tenant);
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = api.http.request(method.clone(), format!("{}{path}", api.base)).json(&json!({}));
        if authenticated {
            request = request.bearer_auth(&api.token);
        }
        let answer = reply(request.send().await.expect("answered")).await;
        let allowed = answer.headers.get("allow").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        let listed = allowed.split(',').map(str::trim).collect::<Vec<_>>();
        if answer.status != status
            || answer.body["error"]["code"].as_i64() != Some(i64::from(status))
            || !answer.body["error"]["message"].is_string()
            || allow.iter().any(|wanted| !listed.contains(wanted))
        {
            failures.push(format!("{method} {path}: {} allow [{allowed}] {}", answer.status, answer.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
