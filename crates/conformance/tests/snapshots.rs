//! insta snapshots of the wire format, in `snapshots/` at the repository root: what the
//! client sends, and what the reference server answers (free fields redacted). Any change
//! to a payload shows up in review as a snapshot diff.

use reportcheck_client::RawRequest;
use reportcheck_model::{ReportPost, ReportPut};
use reqwest::Method;
use serde_json::{Value, json};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The bodies the typed client serialises, from typed values.
#[test]
fn client_payloads() {
    let post: ReportPost = serde_json::from_value(json!({
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
        "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "kind": "usage_summary", "level": "accounts",
            "formats": ["csv", "json_v2_0"], "period": {"start": "2017-05-01", "end": "2017-05-07"}, "show_skus": true},
        "schedule": {"type": "once"}, "generation_date": "2017-05-08"}))
    .expect("post");
    let put: ReportPut = serde_json::from_value(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"],
        "parameters": {"kind": "usage_current", "level": "direct_partners"}}))
    .expect("put");
    let disable: ReportPut = serde_json::from_value(json!({"schedule": {"enabled": false}})).expect("put");
    settings().bind(|| {
        insta::assert_json_snapshot!("client_create_body", post);
        insta::assert_json_snapshot!("client_update_body", put);
        insta::assert_json_snapshot!("client_disable_body", disable);
    });
}

/// The reference server's answers to the seed page's session and its neighbours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_server_answers() {
    let today = reportcheck_model::date::parse_day("2017-05-07").expect("date");
    let server = reportcheck_server::spawn(reportcheck_server::Config {
        today: Some(today),
        save_delay: std::time::Duration::ZERO,
        ..reportcheck_server::Config::default()
    })
    .await
    .expect("server");
    let fixture = &server.fixture().clients[0];
    let client = reportcheck_client::Client::new(
        server.base_url(),
        reportcheck_client::Credentials::client_secret(fixture.client_id.to_string(), fixture.client_secret.clone()),
    )
    .expect("client");
    let send = |method: Method, path: String, body: Option<Value>| {
        let client = client.clone();
        async move {
            let mut request = RawRequest::new(method, path);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = client.send_raw(&request).await.expect("answered");
            let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            json!({"status": response.status.as_u16(), "content_type": response.content_type(), "body": body})
        }
    };
    let created = send(Method::POST, "/reports".to_owned(), Some(json!({
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
        "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "kind": "usage_summary", "level": "accounts",
            "formats": ["csv", "html"], "period": {"start": "2017-05-01", "end": "2017-05-07"}},
        "schedule": {"type": "once"}, "generation_date": "2017-05-08"})))
    .await;
    let id = created["body"]["id"].as_str().expect("id").to_owned();
    let updated = send(
        Method::PUT,
        format!("/reports/{id}"),
        Some(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"],
        "parameters": {"kind": "usage_current", "level": "direct_partners"}})),
    )
    .await;
    let refused = send(Method::PUT, format!("/reports/{id}"), Some(json!({"parameters": {"formats": ["csv"]}}))).await;
    let saved = send(Method::POST, "/reports".to_owned(), Some(json!({"result_action": "save",
        "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "kind": "usage_daily", "level": "itself", "formats": ["csv"]},
        "schedule": {"type": "once"}})))
    .await;
    let stored =
        send(Method::GET, format!("/reports/{}/stored", saved["body"]["id"].as_str().expect("id")), None).await;
    let unknown = send(Method::GET, "/reports/00000000-0000-4000-8000-000000000000".to_owned(), None).await;
    let me = send(Method::GET, format!("/clients/{}", fixture.client_id), None).await;
    settings().bind(|| {
        // Ids are free: redacted, but only after checking each one is a lower-case UUID.
        let id = || {
            insta::dynamic_redaction(|value, _| {
                assert!(
                    value.as_str().is_some_and(|text| text.parse::<reportcheck_model::Id>().is_ok()),
                    "an id: {value:?}"
                );
                "[id]"
            })
        };
        insta::assert_json_snapshot!("server_create", created, { ".body.id" => id() });
        insta::assert_json_snapshot!("server_seed_update", updated, { ".body.id" => id() });
        insta::assert_json_snapshot!("server_update_refused", refused);
        // The content, and so its compressed size, depends on the random report id.
        let size = insta::dynamic_redaction(|value, _| {
            assert!(value.as_u64().is_some_and(|size| size > 0), "a compressed size: {value:?}");
            "[size]"
        });
        insta::assert_json_snapshot!("server_stored", stored, {
            ".body.items[].id" => id(), ".body.items[].created_at" => "[timestamp]", ".body.items[].size" => size });
        insta::assert_json_snapshot!("server_unknown_report", unknown);
        insta::assert_json_snapshot!("server_client", me);
    });
}
