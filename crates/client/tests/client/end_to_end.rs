//! Every operation against the reference server over loopback.

use std::time::Duration;

use reportcheck_client::{Client, ClientOptions, Credentials, Error, RawRequest, RequestAuth, Secret};
use reportcheck_model::{Format, Kind, ReportPost, ReportPut, Rule, StoredStatus};
use reportcheck_server::{Config, Fixture, RunningServer};
use reqwest::Method;
use serde_json::json;

async fn server() -> RunningServer {
    reportcheck_server::spawn(Config { save_delay: Duration::from_millis(30), ..Config::default() })
        .await
        .expect("server")
}

fn tenant_a_client(server: &RunningServer, credentials: Credentials) -> Client {
    Client::new(server.base_url(), credentials).expect("client")
}

fn post(value: serde_json::Value) -> ReportPost {
    serde_json::from_value(value).expect("a reportPost")
}

#[tokio::test]
async fn every_operation() {
    let server = server().await;
    let client = tenant_a_client(&server, Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET));
    let me = client.whoami().await.expect("whoami");
    assert_eq!(me.tenant_id.to_string(), Fixture::TENANT_A);

    let created = client
        .create_report(&post(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
            "parameters": {"tenant_id": me.tenant_id, "kind": "usage_summary", "level": "accounts"},
            "schedule": {"type": "monthly"}})))
        .await
        .expect("create");
    assert_eq!(client.get_report(created.id).await.expect("get"), created);
    assert!(client.list_reports(me.tenant_id).await.expect("list").contains(&created.id));

    let put: ReportPut = serde_json::from_value(json!({"parameters": {"kind": "usage_daily"}})).expect("body");
    let updated = client.update_report(created.id, &put).await.expect("update");
    assert_eq!(updated.parameters.kind, Kind::UsageDaily);
    assert!(updated.version > created.version);

    let stale = client.delete_report(created.id, created.version).await.expect_err("stale version");
    assert_eq!(stale.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(stale.rule(), Some(Rule::Del3));
    client.delete_report(created.id, updated.version).await.expect("delete");
    let gone = client.get_report(created.id).await.expect_err("deleted");
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    assert!(!client.list_reports(me.tenant_id).await.expect("list").contains(&created.id));
}

#[tokio::test]
async fn stored_reports_are_polled_and_downloaded() {
    let server = server().await;
    let client =
        tenant_a_client(&server, Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET).in_form());
    let report = client
        .create_report(&post(json!({"result_action": "save", "parameters": {"tenant_id": Fixture::TENANT_A,
            "kind": "usage_summary", "level": "accounts", "formats": ["csv", "json_v2_0"]}, "schedule": {"type": "once"}})))
        .await
        .expect("create");
    let stored =
        client.wait_for_stored(report.id, Duration::from_millis(10), Duration::from_secs(10)).await.expect("saved");
    assert_eq!(stored.items.len(), 2);
    for item in &stored.items {
        assert_eq!(item.status, StoredStatus::Saved);
        let mut file = Vec::new();
        let written = client.download_stored(report.id, item.id.expect("id"), &mut file).await.expect("download");
        assert_eq!(written as usize, file.len());
        let text = String::from_utf8(file).expect("utf-8");
        match item.report_format {
            Format::Csv => assert!(text.starts_with("tenant_id,"), "{text}"),
            _ => assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{text}"),
        }
    }

    // A report that never runs during the test: polling gives up.
    let pending = client
        .create_report(&post(json!({"result_action": "save", "parameters": {"tenant_id": Fixture::TENANT_A,
            "kind": "usage_summary", "level": "accounts"}, "schedule": {"type": "monthly"}})))
        .await
        .expect("create");
    let err = client
        .wait_for_stored(pending.id, Duration::from_millis(5), Duration::from_millis(30))
        .await
        .expect_err("never");
    assert!(matches!(err, Error::PollTimeout { .. }), "{err:?}");
}

#[tokio::test]
async fn raw_requests_share_auth_and_see_any_status() {
    let server = server().await;
    let client = tenant_a_client(&server, Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET));
    let mut request = RawRequest::new(Method::POST, "/reports");
    request.headers.insert("content-type", "application/json".parse().expect("header"));
    request.body = Some(bytes::Bytes::from_static(b"{not json"));
    let answer = client.send_raw(&request).await.expect("answered");
    assert_eq!(answer.status.as_u16(), 400);
    assert_eq!(answer.content_type(), Some("application/json"));

    let mut anonymous = RawRequest::new(Method::GET, format!("/tenants/{}/reports", Fixture::TENANT_A));
    anonymous.auth = RequestAuth::Anonymous;
    assert_eq!(client.send_raw(&anonymous).await.expect("answered").status.as_u16(), 401);
    anonymous.auth = RequestAuth::Header(Secret::new("Bearer forged"));
    assert_eq!(client.send_raw(&anonymous).await.expect("answered").status.as_u16(), 401);
}

#[tokio::test]
async fn bad_credentials_and_local_validation() {
    let server = server().await;
    let wrong = tenant_a_client(&server, Credentials::client_secret(Fixture::CLIENT_A, "not-the-secret"));
    let err = wrong.whoami().await.expect_err("wrong secret");
    assert!(matches!(&err, Error::Auth { token_error: Some(e), .. } if e.error == "access_denied"), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));

    let strict = Client::with_options(
        server.base_url(),
        Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
        ClientOptions { validate_requests: true, ..ClientOptions::default() },
    )
    .expect("client");
    let generated = strict
        .create_report(&post(json!({"result_action": "save", "parameters": {"tenant_id": Fixture::TENANT_A,
            "kind": "usage_summary", "level": "accounts"}, "schedule": {"type": "once"}})))
        .await
        .expect("create");
    let put: ReportPut = serde_json::from_value(json!({"parameters": {"kind": "usage_daily"}})).expect("body");
    let err = strict.update_report(generated.id, &put).await.expect_err("not scheduled");
    assert!(matches!(err, Error::InvalidRequest { rule: Some(Rule::Upd1), .. }), "{err:?}");
    // Without local validation the server says the same.
    let lax = tenant_a_client(&server, Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET));
    assert_eq!(lax.update_report(generated.id, &put).await.expect_err("server refuses").rule(), Some(Rule::Upd1));
}
