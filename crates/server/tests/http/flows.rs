//! Accepted requests and whole sessions.

use std::io::Read as _;
use std::time::Duration;

use crate::support::*;
use reportcheck_model::{Date, ErrorBody, Report, Token};
use reportcheck_server::{Config, Fixture, VersionScheme};
use reqwest::Method;
use serde_json::{Value, json};

fn day(text: &str) -> Date {
    reportcheck_model::date::parse_day(text).expect("date")
}

/// The seed page's session, sent as written: create a scheduled report, fetch it, PUT the
/// page's `report_data`; the answer is a 200 shaped like the page's response.
#[tokio::test]
async fn seed_page_session() {
    let server = server(Some(seed_today())).await;
    let api = Api::login(&server, 0).await;
    assert_eq!(api.tenant, "ede9f834-70b3-476c-83d9-736f9f8c7dae", "tenant A is the seed page's tenant");
    let created = api.create(&scheduled_report(&api.tenant)).await;
    let report_id = created["id"].as_str().expect("id");
    let fetched = api.send(Method::GET, &format!("/reports/{report_id}"), None).await;
    assert_eq!((fetched.status, &fetched.body), (200, &created));

    // As on the page: json.dumps(report_data, indent=4) sent with requests.put(data=...).
    let report_data = "{\n    \"recipients\": [\n        \"ca451758-b48a-45d9-9ae6-8f1059f67619\"\n    ],\n    \"parameters\": {\n        \"kind\": \"usage_current\",\n        \"level\": \"direct_partners\"\n    }\n}";
    let response = api
        .http
        .put(format!("{}/reports/{report_id}", api.base))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {}", api.token))
        .body(report_data)
        .send()
        .await
        .expect("answered");
    let updated = reply(response).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let mut page = json!({"generation_date": "2017-05-08", "id": report_id,
        "parameters": {"formats": ["csv", "html"], "kind": "usage_current", "level": "direct_partners",
            "period": {"end": "2017-05-07", "start": "2017-05-01"}, "tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae"},
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
        "schedule": {"enabled": true, "type": "once"}, "version": 1});
    page["version"] = updated.body["version"].clone();
    assert_eq!(updated.body, page);
    assert!(updated.body["version"].as_i64() > created["version"].as_i64());
}

#[tokio::test]
async fn token_endpoint() {
    let server = server(None).await;
    let url = format!("{}/idp/token", server.base_url());
    let http = reqwest::Client::new();
    let form = "application/x-www-form-urlencoded";

    // AUTH-1, Basic and form fields.
    let basic = reply(
        http.post(&url)
            .basic_auth(Fixture::CLIENT_A, Some(Fixture::CLIENT_A_SECRET))
            .header("content-type", form)
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(basic.status, 200, "{}", basic.text);
    let token: Token = serde_json::from_value(basic.body.clone()).expect("token schema");
    assert!(token.token_type.eq_ignore_ascii_case("bearer"));
    assert!(token.expires_in.is_some() && token.expires_on.is_some());
    assert_eq!(basic.headers["cache-control"], "no-store");
    let posted = reply(
        http.post(&url)
            .header("content-type", form)
            .body(format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                Fixture::CLIENT_B,
                Fixture::CLIENT_B_SECRET
            ))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(posted.status, 200, "{}", posted.text);

    // AUTH-2 and malformed requests: tokenError bodies, never the secret tried.
    let tried = "wrong-secret-value-123";
    for (auth, body, content_type, status, error) in [
        (Some((Fixture::CLIENT_A, tried)), "grant_type=client_credentials", form, 401, "access_denied"),
        (
            Some(("0d0d0d0d-0000-4000-8000-000000000000", tried)),
            "grant_type=client_credentials",
            form,
            401,
            "access_denied",
        ),
        (Some(("not-a-uuid", tried)), "grant_type=client_credentials", form, 401, "access_denied"),
        (None, "grant_type=client_credentials", form, 401, "access_denied"),
        (Some((Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET)), "", form, 400, "invalid_request"),
        (Some((Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET)), "grant_type=password", form, 400, "invalid_request"),
        (Some((Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET)), "{}", "application/json", 400, "invalid_request"),
    ] {
        let mut request = http.post(&url).header("content-type", content_type).body(body);
        if let Some((id, secret)) = auth {
            request = request.basic_auth(id, Some(secret));
        }
        let answer = reply(request.send().await.expect("answered")).await;
        assert_eq!((answer.status, answer.body["error"].as_str()), (status, Some(error)), "{body}: {}", answer.text);
        assert!(answer.body["error_description"].is_string());
        assert!(!answer.text.contains(tried) && !answer.text.contains(Fixture::CLIENT_A_SECRET));
    }
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let server = reportcheck_server::spawn(Config { token_lifetime: Duration::ZERO, ..Config::default() })
        .await
        .expect("server");
    let api = Api::login(&server, 0).await;
    let answer = api.send(Method::GET, &format!("/tenants/{}/reports", api.tenant), None).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    let body: ErrorBody = serde_json::from_value(answer.body).expect("errorScheme");
    assert_eq!(body.error.code.as_number(), Some(401));
}

#[tokio::test]
async fn clients_show_their_tenant() {
    let server = server(None).await;
    let api = Api::login(&server, 0).await;
    let own = api.send(Method::GET, &format!("/clients/{}", Fixture::CLIENT_A), None).await;
    assert_eq!(own.status, 200, "{}", own.text);
    let client: reportcheck_model::ApiClient = serde_json::from_value(own.body).expect("client schema");
    assert_eq!(client.tenant_id.to_string(), Fixture::TENANT_A);
    // `/clients` also takes Basic authentication.
    let basic = reply(
        api.http
            .get(format!("{}/clients/{}", api.base, Fixture::CLIENT_B))
            .basic_auth(Fixture::CLIENT_B, Some(Fixture::CLIENT_B_SECRET))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!((basic.status, basic.body["tenant_id"].as_str()), (200, Some(Fixture::TENANT_B)));
}

#[tokio::test]
async fn create_echoes_and_fills_defaults() {
    let server = server(Some(day("2024-03-15"))).await;
    let api = Api::login(&server, 0).await;
    let minimal = api
        .create(&json!({"result_action": "save", "parameters": {"tenant_id": api.tenant, "kind": "usage_daily",
            "level": "itself"}, "schedule": {"type": "once"}}))
        .await;
    let report: Report = serde_json::from_value(minimal.clone()).expect("report schema");
    assert_eq!(minimal["parameters"]["formats"], json!(["csv"]));
    assert_eq!(minimal["parameters"]["period"], json!({"start": "2024-02-01", "end": "2024-02-29"}));
    assert_eq!(minimal["recipients"], json!([]));
    assert_eq!(minimal["generation_date"], "2024-03-15");
    assert_eq!(minimal["schedule"], json!({"enabled": true, "type": "once"}));
    assert!(report.version >= 1);

    let monthly = api
        .create(&json!({"recipients": [RECIPIENT], "result_action": "send", "parameters": {"tenant_id": api.tenant,
            "kind": "usage_current", "level": "all_partners", "formats": ["html", "json_v2_0"], "show_skus": true,
            "period": {"start": "2024-01-01", "end": "2024-01-31"}}, "schedule": {"type": "monthly", "enabled": false}}))
        .await;
    assert_eq!(monthly["generation_date"], "2024-04-01", "a monthly report's next run");
    assert_eq!(monthly["parameters"]["formats"], json!(["html", "json_v2_0"]));
    assert_eq!(monthly["parameters"]["show_skus"], true);
    assert_eq!(monthly["schedule"]["enabled"], false);
    assert_ne!(monthly["id"], minimal["id"]);

    // A child tenant is inside the caller's subtree (CRT-6 accepts it).
    let child = api.create(&scheduled_report(Fixture::TENANT_A_CHILD)).await;
    let listed = api.send(Method::GET, &format!("/tenants/{}/reports", Fixture::TENANT_A_CHILD), None).await;
    assert_eq!(listed.body["items"], json!([child["id"]]));
}

#[tokio::test]
async fn report_lifecycle() {
    let server = server(Some(seed_today())).await;
    let api = Api::login(&server, 0).await;
    let list_path = format!("/tenants/{}/reports", api.tenant);
    let created = api.create(&scheduled_report(&api.tenant)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/reports/{id}");
    assert!(
        api.send(Method::GET, &list_path, None).await.body["items"].as_array().expect("items").contains(&json!(id))
    );

    // UPD-4: disable and enable, visible in GET.
    let mut version = created["version"].as_i64().expect("version");
    for enabled in [false, true] {
        let answer = api.send(Method::PUT, &path, Some(&json!({"schedule": {"enabled": enabled}}))).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["schedule"]["enabled"], enabled);
        assert!(answer.body["version"].as_i64().expect("version") > version);
        version = answer.body["version"].as_i64().expect("version");
        assert_eq!(api.send(Method::GET, &path, None).await.body, answer.body);
    }

    // UPD-6 / UPD-7: a change, then a no-op that still counts as a write.
    let changed = api
        .send(Method::PUT, &path, Some(&json!({"parameters": {"kind": "usage_daily", "formats": ["csv", "html"]}})))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let mut expected = api.send(Method::GET, &path, None).await.body;
    assert_eq!(changed.body, expected);
    expected["parameters"]["kind"] = json!("usage_daily");
    assert_eq!(changed.body, expected);
    let noop = api.send(Method::PUT, &path, Some(&json!({}))).await;
    assert!(noop.body["version"].as_i64() > changed.body["version"].as_i64());

    // DEL-3 keeps it; DEL-1 removes it from GET and the list.
    let current = noop.body["version"].as_i64().expect("version");
    let stale = api.send(Method::DELETE, &format!("{path}?version={}", current - 1), None).await;
    assert_eq!(stale.status, 409);
    let deleted = api.send(Method::DELETE, &format!("{path}?version={current}"), None).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    assert_eq!(api.send(Method::GET, &path, None).await.status, 404);
    assert!(
        !api.send(Method::GET, &list_path, None).await.body["items"].as_array().expect("items").contains(&json!(id))
    );
    assert_eq!(api.send(Method::DELETE, &format!("{path}?version={current}"), None).await.status, 404);
}

#[tokio::test]
async fn stored_reports_are_generated_and_downloaded() {
    let server =
        reportcheck_server::spawn(Config { save_delay: Duration::ZERO, ..Config::default() }).await.expect("server");
    let api = Api::login(&server, 0).await;
    let formats = ["csv", "html", "json_v1", "csv_v2_0", "json_v2_0"];
    let report = api
        .create(&json!({"result_action": "save", "parameters": {"tenant_id": api.tenant, "kind": "usage_summary",
            "level": "accounts", "formats": formats}, "schedule": {"type": "once"}}))
        .await;
    let stored = api.send(Method::GET, &format!("/reports/{}/stored", report["id"].as_str().expect("id")), None).await;
    let list: reportcheck_model::StoredReportList = serde_json::from_value(stored.body.clone()).expect("stored schema");
    let mut seen: Vec<_> = list.items.iter().map(|item| item.report_format.as_str()).collect();
    seen.sort_unstable();
    let mut wanted = formats.to_vec();
    wanted.sort_unstable();
    assert_eq!(seen, wanted, "one stored report per format (STO-2)");
    let raw = reqwest::Client::builder().no_gzip().build().expect("client");
    for item in &list.items {
        assert_eq!(item.status, reportcheck_model::StoredStatus::Saved);
        let url =
            format!("{}/reports/{}/stored/{}", api.base, report["id"].as_str().expect("id"), item.id.expect("id"));
        let plain = raw.get(&url).bearer_auth(&api.token).send().await.expect("answered");
        assert_eq!(plain.status(), 200);
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.expect("body");
        let gzipped =
            raw.get(&url).bearer_auth(&api.token).header("accept-encoding", "gzip").send().await.expect("answered");
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        let compressed = gzipped.bytes().await.expect("body");
        assert_eq!(item.size, Some(compressed.len() as i64), "size is the compressed size");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut unzipped).expect("gzip");
        assert_eq!(unzipped, plain.to_vec());
        let text = String::from_utf8(unzipped).expect("utf-8");
        match item.report_format.as_str() {
            "csv" | "csv_v2_0" => {
                let widths: Vec<_> = text.lines().map(|line| line.split(',').count()).collect();
                assert!(widths.len() > 1 && widths.iter().all(|w| *w == widths[0]), "{text}");
            }
            "html" => assert!(text.starts_with("<!DOCTYPE html>") && text.contains("<table>"), "{text}"),
            _ => assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}"),
        }
    }

    // STO-4: a report that has not run has none; a send report stores nothing.
    let pending = api.create(&scheduled_report(&api.tenant)).await;
    let empty = api.send(Method::GET, &format!("/reports/{}/stored", pending["id"].as_str().expect("id")), None).await;
    assert_eq!((empty.status, &empty.body), (200, &json!({"items": []})));
}

#[tokio::test]
async fn stored_reports_in_progress_cannot_be_downloaded() {
    let server = reportcheck_server::spawn(Config { save_delay: Duration::from_secs(3600), ..Config::default() })
        .await
        .expect("server");
    let api = Api::login(&server, 0).await;
    let report = api
        .create(&json!({"result_action": "save", "parameters": {"tenant_id": api.tenant, "kind": "usage_summary",
            "level": "accounts"}, "schedule": {"type": "once"}}))
        .await;
    let id = report["id"].as_str().expect("id");
    let stored = api.send(Method::GET, &format!("/reports/{id}/stored"), None).await;
    assert_eq!(stored.body["items"][0]["status"], "in_progress");
    let stored_id = stored.body["items"][0]["id"].as_str().expect("id");
    let download = api.send(Method::GET, &format!("/reports/{id}/stored/{stored_id}"), None).await;
    assert!((400..500).contains(&download.status), "{}", download.text);
}

/// UPD-9: parallel PUTs to one report get distinct versions; the last one wins whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_are_serialised() {
    for versions in [VersionScheme::Sequential, VersionScheme::UnixMillis] {
        let server = reportcheck_server::spawn(Config { today: Some(seed_today()), versions, ..Config::default() })
            .await
            .expect("server");
        let api = Api::login(&server, 0).await;
        let created = api.create(&scheduled_report(&api.tenant)).await;
        let path = format!("/reports/{}", created["id"].as_str().expect("id"));
        let kinds = reportcheck_model::Kind::ALL;
        let levels = reportcheck_model::Level::ALL;
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let api = api.clone();
                let path = path.clone();
                let body = json!({"parameters": {"kind": kinds[i % kinds.len()], "level": levels[i % levels.len()]}});
                tokio::spawn(async move { api.send(Method::PUT, &path, Some(&body)).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            let answer = task.await.expect("task");
            assert_eq!(answer.status, 200, "{}", answer.text);
            answers.push(answer.body);
        }
        let mut versions_seen: Vec<i64> = answers.iter().map(|a| a["version"].as_i64().expect("version")).collect();
        versions_seen.sort_unstable();
        versions_seen.dedup();
        assert_eq!(versions_seen.len(), answers.len(), "versions are distinct");
        let last = answers.iter().max_by_key(|a| a["version"].as_i64()).expect("answers");
        assert_eq!(&api.send(Method::GET, &path, None).await.body, last, "the last write wins, whole");
        assert!(versions_seen[0] > created["version"].as_i64().expect("version"));
    }
}
