//! The server as a client maintainer's test server: the request log and its verdicts
//! (`Config.log`), busy answers (`Config.chaos`), slow ones (`Config.latency`), the token
//! lifetime (`Config.token_lifetime`) and faults as a client sees them. Time is tokio's
//! paused clock wherever a delay or an expiry is involved; nothing sleeps on the wall clock.

use std::sync::Arc;
use std::time::Duration;

use reportcheck_server::{CHAOS_RETRY_AFTER, Chaos, Config, Fault, Fixture, LoggedLines, RequestLog, RunningServer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{self, RECIPIENT, Reply};

fn logged(config: Config) -> (Config, LoggedLines) {
    let (log, lines) = RequestLog::in_memory();
    (Config { log: Some(Arc::new(log)), ..config }, lines)
}

/// How a case authenticates.
#[derive(Debug, Clone, Copy)]
enum Auth {
    Token,
    Nothing,
    /// Basic credentials at the token endpoint, the secret given.
    Basic(&'static str),
}

/// A reqwest client without an idle pool, so that no connection outlives a jump of the
/// paused clock.
fn http() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client")
}

async fn login(server: &RunningServer) -> (String, Value) {
    let reply = send(server, "", Method::POST, "/idp/token", Auth::Basic(Fixture::CLIENT_A_SECRET), None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    (reply.body["access_token"].as_str().expect("access_token").to_owned(), reply.body)
}

async fn send(
    server: &RunningServer,
    token: &str,
    method: Method,
    path: &str,
    auth: Auth,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = http().request(method, format!("{}{path}", server.base_url()));
    request = match auth {
        Auth::Token => request.bearer_auth(token),
        Auth::Nothing => request,
        Auth::Basic(secret) => request
            .basic_auth(Fixture::CLIENT_A, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials"),
    };
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    support::reply(request.send().await.expect("answered")).await
}

fn save_report() -> Value {
    json!({"result_action": "save",
        "parameters": {"tenant_id": Fixture::TENANT_A, "kind": "usage_summary", "level": "accounts"},
        "schedule": {"type": "monthly"}})
}

fn monthly_send() -> Value {
    json!({"recipients": [RECIPIENT], "result_action": "send",
        "parameters": {"tenant_id": Fixture::TENANT_A, "kind": "usage_summary", "level": "accounts"},
        "schedule": {"type": "monthly"}})
}

async fn create(server: &RunningServer, token: &str, body: &Value) -> Value {
    let reply =
        send(server, token, Method::POST, "/reports", Auth::Token, Some("application/json"), Some(body_of(body))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

fn body_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

/// One request and the line the log must write for it.
struct Case {
    method: Method,
    /// `{save}` is a save report's id.
    path: &'static str,
    auth: Auth,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    status: u16,
    verdict: &'static str,
}

fn case(method: Method, path: &'static str, body: Option<Value>, status: u16, verdict: &'static str) -> Case {
    let content_type = body.as_ref().map(|_| "application/json");
    Case { method, path, auth: Auth::Token, content_type, body: body.as_ref().map(body_of), status, verdict }
}

fn reference_cases() -> Vec<Case> {
    vec![
        case(Method::POST, "/reports", Some(monthly_send()), 200, "ok CRT-1"),
        case(Method::GET, "/reports/{save}", None, 200, "ok GET-1"),
        case(
            Method::PUT,
            "/reports/{save}",
            Some(json!({"recipients": [RECIPIENT]})),
            400,
            "refused UPD-3 (as the rules require)",
        ),
        case(Method::PUT, "/reports/{save}", Some(json!({"parameters": {"kind": "usage_daily"}})), 200, "ok UPD-6"),
        case(Method::PUT, "/reports/{save}", Some(json!({"version": 1})), 400, "refused UPD-5 (as the rules require)"),
        case(Method::DELETE, "/reports/{save}", None, 400, "refused DEL-2 (as the rules require)"),
        case(Method::DELETE, "/reports/{save}?version=999", None, 409, "refused DEL-3 (as the rules require)"),
        case(
            Method::GET,
            "/reports/7b0e8c36-4d1f-4e26-9a3b-5c8d2e1f0a97",
            None,
            404,
            "refused GET-2 (as the rules require)",
        ),
        case(
            Method::GET,
            "/tenants/9d2b7e14-2c5f-4a88-b0d6-41e3f7a9c215/reports",
            None,
            403,
            "refused SEC-1 (as the rules require)",
        ),
        case(Method::GET, "/tenants/ede9f834-70b3-476c-83d9-736f9f8c7dae/reports", None, 200, "ok LST-1"),
        case(Method::GET, "/reports/{save}/stored", None, 200, "ok STO-1"),
        case(Method::GET, "/clients/0a6f3c1e-58b2-4d97-a3e0-6c9d2b4f7e18", None, 200, "ok AUTH-4"),
        Case {
            content_type: Some("text/plain"),
            ..case(Method::POST, "/reports", Some(monthly_send()), 415, "refused CRT-5 (as the rules require)")
        },
        Case {
            auth: Auth::Nothing,
            ..case(Method::GET, "/reports/{save}", None, 401, "refused AUTH-3 (as the rules require)")
        },
        Case {
            auth: Auth::Basic("not-the-secret"),
            ..case(Method::POST, "/idp/token", None, 401, "refused AUTH-2 (as the rules require)")
        },
        Case {
            auth: Auth::Basic(Fixture::CLIENT_A_SECRET),
            ..case(Method::POST, "/idp/token", None, 200, "ok AUTH-1")
        },
    ]
}

/// Sends each case and compares the line the log wrote for it; returns the log.
async fn run_cases(config: Config, cases: Vec<Case>) -> (LoggedLines, String, Vec<String>) {
    let (config, memory) = logged(config);
    let server = reportcheck_server::spawn(config).await.expect("server");
    let (token, _) = login(&server).await;
    let save = create(&server, &token, &save_report()).await["id"].as_str().expect("id").to_owned();
    let mut failures = Vec::new();
    for case in cases {
        let path = case.path.replace("{save}", &save);
        let reply = send(&server, &token, case.method.clone(), &path, case.auth, case.content_type, case.body).await;
        let line = memory.lines().pop().expect("a line");
        let verdict = line["verdict"].as_str().unwrap_or_default();
        if reply.status != case.status || !verdict.starts_with(case.verdict) || line["status"] != case.status {
            failures.push(format!(
                "{} {path}: answered {} ({}), logged {line}; wanted {} and `{}`",
                case.method, reply.status, reply.text, case.status, case.verdict
            ));
        }
        if line["method"] != case.method.as_str() || line["path"] != format!("/api/2{path}") {
            failures.push(format!("{} {path}: logged {line}", case.method));
        }
    }
    (memory, token, failures)
}

#[tokio::test]
async fn every_request_is_logged_with_the_models_verdict_and_no_secret() {
    let (memory, token, failures) = run_cases(Config::default(), reference_cases()).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let text = memory.text();
    for secret in [Fixture::CLIENT_A_SECRET, "not-the-secret", token.as_str(), "Basic ", "Bearer ", "id_token"] {
        assert!(!text.contains(secret), "the log holds `{secret}`:\n{text}");
    }
    for line in memory.lines() {
        for field in ["time", "method", "path", "status", "latency_ms", "verdict", "rule", "faults"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
        assert!(line["time"].as_str().is_some_and(|time| time.ends_with('Z')), "{line}");
        assert!(line["faults"].as_array().is_some_and(Vec::is_empty), "{line}");
        let verdict = line["verdict"].as_str().unwrap_or_default();
        if let Some(rule) = line["rule"].as_str() {
            assert!(verdict.contains(rule), "{line}");
        }
    }
}

#[tokio::test]
async fn faults_change_what_a_client_sees_and_the_log_names_them() {
    let faults = [Fault::RecipientsOnSave, Fault::Bom500, Fault::WrongSecretIs400].into_iter().collect();
    let cases = vec![
        case(
            Method::PUT,
            "/reports/{save}",
            Some(json!({"recipients": [RECIPIENT]})),
            200,
            "fault recipients-on-save: answered 200 where the rules admit [400] (UPD-3)",
        ),
        Case {
            content_type: Some("application/json"),
            body: Some(b"\xef\xbb\xbf{}".to_vec()),
            ..case(Method::POST, "/reports", None, 500, "fault bom-500: answered 500")
        },
        case(Method::GET, "/reports/{save}", None, 200, "ok GET-1"),
        Case {
            auth: Auth::Basic("not-the-secret"),
            ..case(Method::POST, "/idp/token", None, 400, "fault wrong-secret-is-400: answered 400 (AUTH-2)")
        },
    ];
    let (memory, _, failures) = run_cases(Config { faults, ..Config::default() }, cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let lines = memory.lines();
    let fault_of = |verdict: &str| {
        lines.iter().find(|line| line["verdict"].as_str().is_some_and(|text| text.starts_with(verdict))).cloned()
    };
    let upd3 = fault_of("fault recipients-on-save").expect("logged");
    assert_eq!(upd3["rule"], "UPD-3");
    assert_eq!(upd3["faults"], json!(["recipients-on-save"]));
}

/// The request as a client sends it, for the chaos table: method, path, body.
fn chaos_requests() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::POST, "/idp/token", None),
        (Method::POST, "/reports", Some(monthly_send())),
        (Method::GET, "/reports/{save}", None),
        (Method::PUT, "/reports/{save}", Some(json!({"parameters": {"kind": "usage_daily"}}))),
        (Method::PUT, "/reports/{save}", Some(json!({"schedule": {"enabled": false}}))),
        (Method::DELETE, "/reports/{save}?version=1", None),
        (Method::GET, "/tenants/ede9f834-70b3-476c-83d9-736f9f8c7dae/reports", None),
        (Method::GET, "/reports/{save}/stored", None),
        (Method::GET, "/clients/0a6f3c1e-58b2-4d97-a3e0-6c9d2b4f7e18", None),
    ]
}

fn is_busy(reply: &Reply) -> Result<(), String> {
    let retry_after = reply.headers.get("retry-after").and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let shaped = reply.body["error"]["message"].is_string() && reply.body["error"]["details"].is_object()
        || reply.body["error"] == "temporarily_unavailable" && reply.body["error_description"].is_string();
    let ok = matches!(reply.status, 429 | 503)
        && retry_after.is_some_and(|seconds| CHAOS_RETRY_AFTER.contains(&seconds))
        && reply.content_type().starts_with("application/json")
        && shaped;
    if ok { Ok(()) } else { Err(format!("{} {:?}: {}", reply.status, reply.headers, reply.text)) }
}

#[tokio::test]
async fn chaos_answers_say_when_to_retry_and_apply_nothing() {
    let (config, memory) = logged(Config { chaos: Some(Chaos::new(1.0, 3).expect("chaos")), ..Config::default() });
    let server = reportcheck_server::spawn(config).await.expect("server");
    // The report and the token come from the store itself: every request over HTTP is busy.
    let store = server.store();
    let caller = store.first_client();
    let report = store.create(caller, Some("application/json"), &body_of(&save_report())).expect("created");
    let token = store.issue_token(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET).expect("token");
    let token = token.access_token.expose().to_owned();
    let mut failures = Vec::new();
    for (method, path, body) in chaos_requests() {
        let path = path.replace("{save}", &report.id.to_string());
        let auth = if path == "/idp/token" { Auth::Basic(Fixture::CLIENT_A_SECRET) } else { Auth::Token };
        let content_type = body.as_ref().map(|_| "application/json");
        let reply = send(&server, &token, method.clone(), &path, auth, content_type, body.as_ref().map(body_of)).await;
        if let Err(problem) = is_busy(&reply) {
            failures.push(format!("{method} {path}: {problem}"));
        }
        if path == "/idp/token" && reply.body["error"] != "temporarily_unavailable" {
            failures.push(format!("the token endpoint's busy answer is no tokenError: {}", reply.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing was applied: one report, as created, still there.
    let listed = store.list(caller, Fixture::TENANT_A).expect("list");
    assert_eq!(listed.items, vec![report.id]);
    assert_eq!(store.get(caller, &report.id.to_string()).expect("get"), report);
    let lines = memory.lines();
    assert_eq!(lines.len(), chaos_requests().len());
    assert!(lines.iter().all(|line| line["verdict"] == format!("chaos {}", line["status"])), "{lines:#?}");
}

#[tokio::test]
async fn seeded_chaos_is_repeatable_and_a_busy_create_creates_nothing() {
    async fn statuses(seed: u64) -> (Vec<u16>, usize) {
        let server = reportcheck_server::spawn(Config {
            chaos: Some(Chaos::new(0.5, seed).expect("chaos")),
            ..Config::default()
        })
        .await
        .expect("server");
        let store = server.store();
        let token = store.issue_token(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET).expect("token");
        let token = token.access_token.expose().to_owned();
        let mut statuses = Vec::new();
        for _ in 0..24 {
            let reply = send(
                &server,
                &token,
                Method::POST,
                "/reports",
                Auth::Token,
                Some("application/json"),
                Some(body_of(&monthly_send())),
            )
            .await;
            if reply.status != 200 {
                is_busy(&reply).expect("a busy answer");
            }
            statuses.push(reply.status);
        }
        let listed = store.list(store.first_client(), Fixture::TENANT_A).expect("list").items.len();
        (statuses, listed)
    }
    let (first, listed) = statuses(11).await;
    let created = first.iter().filter(|status| **status == 200).count();
    assert!(created > 0 && created < first.len(), "{first:?}");
    assert_eq!(listed, created, "a busy create created a report: {first:?}");
    assert_eq!(statuses(11).await.0, first, "the same seed, other answers");
    assert_ne!(statuses(12).await.0, first, "another seed, the same answers");
}

#[tokio::test]
async fn the_token_lifetime_is_its_expires_in() {
    let server = reportcheck_server::spawn(Config { token_lifetime: Duration::from_secs(77), ..Config::default() })
        .await
        .expect("server");
    let (token, answer) = login(&server).await;
    assert_eq!(answer["expires_in"], 77, "{answer}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let expires_on = answer["expires_on"].as_u64().expect("expires_on");
    assert!((now + 75..=now + 79).contains(&expires_on), "{expires_on} vs {now}");
    let list = "/tenants/ede9f834-70b3-476c-83d9-736f9f8c7dae/reports";
    assert_eq!(send(&server, &token, Method::GET, list, Auth::Token, None, None).await.status, 200);

    // A lifetime of zero: every token is expired when it is issued.
    let server = reportcheck_server::spawn(Config { token_lifetime: Duration::ZERO, ..Config::default() })
        .await
        .expect("server");
    let (token, answer) = login(&server).await;
    assert_eq!(answer["expires_in"], 0);
    let refused = send(&server, &token, Method::GET, list, Auth::Token, None, None).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert!(refused.text.contains("expired"), "{}", refused.text);
}

#[tokio::test(start_paused = true)]
async fn a_token_expires_after_its_lifetime() {
    let (config, memory) = logged(Config { token_lifetime: Duration::from_secs(60), ..Config::default() });
    let server = reportcheck_server::spawn(config).await.expect("server");
    let (token, _) = login(&server).await;
    let list = "/tenants/ede9f834-70b3-476c-83d9-736f9f8c7dae/reports";
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(send(&server, &token, Method::GET, list, Auth::Token, None, None).await.status, 200);
    tokio::time::advance(Duration::from_secs(2)).await;
    let refused = send(&server, &token, Method::GET, list, Auth::Token, None, None).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    let line = memory.lines().pop().expect("logged");
    assert_eq!(line["verdict"], "refused AUTH-3 (as the rules require)");
}

#[tokio::test(start_paused = true)]
async fn answers_are_held_back_after_the_request_is_applied() {
    let latency: reportcheck_server::Latency = "200-300".parse().expect("latency");
    let (config, memory) = logged(Config { latency: Some(latency), ..Config::default() });
    let server = Arc::new(reportcheck_server::spawn(config).await.expect("server"));
    let (token, _) = login(&server).await;
    for _ in 0..5 {
        let started = tokio::time::Instant::now();
        let reply = send(&server, &token, Method::GET, "/reports/not-an-id", Auth::Token, None, None).await;
        let waited = started.elapsed();
        assert_eq!(reply.status, 404);
        assert!(waited >= latency.min && waited <= latency.max + Duration::from_millis(5), "{waited:?}");
        let logged = memory.lines().pop().expect("logged")["latency_ms"].as_u64().expect("latency_ms");
        assert!((200..=300).contains(&logged), "{logged}");
    }
    // A create is applied before its answer leaves: the report is there while the client waits.
    let fixed: reportcheck_server::Latency = "1000".parse().expect("latency");
    let (config, _) = logged(Config { latency: Some(fixed), ..Config::default() });
    let server = Arc::new(reportcheck_server::spawn(config).await.expect("server"));
    let (token, _) = login(&server).await;
    let pending = tokio::spawn({
        let server = Arc::clone(&server);
        async move { create(&server, &token, &monthly_send()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished());
    let store = server.store();
    assert_eq!(store.list(store.first_client(), Fixture::TENANT_A).expect("list").items.len(), 1);
    let created = pending.await.expect("task");
    assert!(created["id"].is_string());
}
