//! Requests the server must reject: data in `cases/rejections.json`, one case each.

use std::collections::BTreeMap;

use crate::support::*;
use reportcheck_model::Rule;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

/// A request the server must reject, from `cases/rejections.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rejection {
    name: String,
    rule: Rule,
    method: String,
    /// May name prepared reports: `{scheduled}`, `{generated}`, `{save}`, `{foreign}`,
    /// `{stored}` (a stored id of `{save_once}`), and `{tenant_a}`, `{tenant_b}`.
    path: String,
    /// Who calls: `a` (default), `b`, `none` (no Authorization), or a literal header value.
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    raw: Option<String>,
    status: u16,
    #[serde(default)]
    code: Option<i64>,
}

struct Prepared {
    a: Api,
    b: Api,
    names: BTreeMap<&'static str, String>,
}

async fn prepare(server: &reportcheck_server::RunningServer) -> Prepared {
    let a = Api::login(server, 0).await;
    let b = Api::login(server, 1).await;
    let tenant_a = a.tenant.clone();
    let mut names = BTreeMap::new();
    let scheduled = a.create(&scheduled_report(&tenant_a)).await;
    let mut generated = scheduled_report(&tenant_a);
    generated.as_object_mut().expect("object").remove("generation_date");
    let generated = a.create(&generated).await;
    let save = a
        .create(&json!({"result_action": "save", "parameters": {"tenant_id": tenant_a, "kind": "usage_daily",
            "level": "itself", "hide_zero_usage": true}, "schedule": {"type": "monthly"}}))
        .await;
    let save_once = a
        .create(&json!({"result_action": "save", "parameters": {"tenant_id": tenant_a, "kind": "usage_daily",
            "level": "itself", "formats": ["csv"]}, "schedule": {"type": "once"}}))
        .await;
    let foreign = b.create(&scheduled_report(&b.tenant)).await;
    let stored = a.send(Method::GET, &format!("/reports/{}/stored", save_once["id"].as_str().expect("id")), None).await;
    for (name, report) in [("scheduled", &scheduled), ("generated", &generated), ("save", &save), ("foreign", &foreign)]
    {
        names.insert(name, report["id"].as_str().expect("id").to_owned());
    }
    names.insert("save_once", save_once["id"].as_str().expect("id").to_owned());
    names.insert("stored", stored.body["items"][0]["id"].as_str().expect("stored id").to_owned());
    names.insert("tenant_a", tenant_a);
    names.insert("tenant_b", b.tenant.clone());
    Prepared { a, b, names }
}

/// Every prepared report as both tenants see them, to prove a rejection changed nothing.
async fn state(prepared: &Prepared) -> Vec<Value> {
    let mut seen = Vec::new();
    for (api, tenant) in [(&prepared.a, "tenant_a"), (&prepared.b, "tenant_b")] {
        seen.push(api.send(Method::GET, &format!("/tenants/{}/reports", prepared.names[tenant]), None).await.body);
    }
    for name in ["scheduled", "generated", "save", "save_once"] {
        seen.push(prepared.a.send(Method::GET, &format!("/reports/{}", prepared.names[name]), None).await.body);
    }
    seen.push(prepared.b.send(Method::GET, &format!("/reports/{}", prepared.names["foreign"]), None).await.body);
    seen
}

#[tokio::test]
async fn rejections() {
    let cases: Vec<Rejection> =
        serde_json::from_str(include_str!("cases/rejections.json")).expect("cases/rejections.json parses");
    let server = server(Some(seed_today())).await;
    let prepared = prepare(&server).await;
    let before = state(&prepared).await;
    let mut failures = Vec::new();
    for case in &cases {
        let mut path = case.path.clone();
        for (name, value) in &prepared.names {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let method = Method::from_bytes(case.method.as_bytes()).expect("method");
        let mut request = prepared.a.http.request(method, format!("{}{path}", prepared.a.base));
        request = match case.auth.as_deref() {
            None | Some("a") => request.bearer_auth(&prepared.a.token),
            Some("b") => request.bearer_auth(&prepared.b.token),
            Some("none") => request,
            Some(header) => request.header("authorization", header),
        };
        let body = match (&case.body, &case.raw) {
            (Some(json), None) => Some(serde_json::to_vec(json).expect("json")),
            (None, Some(raw)) => Some(raw.as_bytes().to_vec()),
            (None, None) => None,
            _ => panic!("{}: give at most one of body and raw", case.name),
        };
        if let Some(body) = body {
            let content_type = case.content_type.as_deref().unwrap_or("application/json");
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            request = request.body(body);
        }
        let reply = reply(request.send().await.expect("answered")).await;
        let mut problems = Vec::new();
        if reply.status != case.status {
            problems.push(format!("status {} (expected {})", reply.status, case.status));
        }
        if !reply.content_type().starts_with("application/json") {
            problems.push(format!("content type `{}`", reply.content_type()));
        }
        let error = &reply.body["error"];
        if !(error["message"].is_string() && error["details"].is_object() && error.get("domain").is_some()) {
            problems.push("not an errorScheme body".to_owned());
        }
        if let Some(code) = case.code {
            let found = error["code"].as_i64().or_else(|| error["code"].as_str().and_then(|c| c.parse().ok()));
            if found != Some(code) {
                problems.push(format!("code {found:?} (expected {code})"));
            }
        }
        if reply.text.contains(&prepared.a.token) || reply.text.contains(&prepared.b.token) {
            problems.push("the body echoes a token (SEC-2)".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!("{} [{}]: {} — {}", case.name, case.rule, problems.join(", "), reply.text));
        }
    }
    let after = state(&prepared).await;
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(before, after, "a rejected request changed state");
    // Every rule with a rejection in the profile has at least one case here.
    for rule in [
        Rule::Auth3,
        Rule::Crt2,
        Rule::Crt3,
        Rule::Crt4,
        Rule::Crt5,
        Rule::Crt6,
        Rule::Get2,
        Rule::Get3,
        Rule::Upd1,
        Rule::Upd2,
        Rule::Upd3,
        Rule::Upd5,
        Rule::Upd8,
        Rule::Del2,
        Rule::Del3,
        Rule::Del4,
        Rule::Sto4,
        Rule::Sec1,
        Rule::Err1,
        Rule::Err3,
    ] {
        assert!(cases.iter().any(|case| case.rule == rule), "no rejection case for {rule}");
    }
}
