//! Every freedom of PROFILE.md has a variation that a client can see: the same probe
//! requests, sent to the reference server and to a server with only that variation, get
//! answers that differ once what always differs (ids, tokens, clocks) is set aside.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::*;
use reportcheck_model::{Date, Freedom};
use reportcheck_server::{Config, Fixture, RunningServer, Variations};
use reqwest::Method;
use serde_json::{Value, json};

/// One answer with what varies between two runs of the same server taken out.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    probe: &'static str,
    status: u16,
    content_type: String,
    header_names: Vec<String>,
    /// The JSON body, ids numbered by first appearance (keeping their UUID version),
    /// tokens, expiry instants and sizes blanked, timestamp digits zeroed.
    body: Value,
    /// The raw text's structure characters and whitespace.
    layout: String,
    /// Object keys in the order the raw text has them.
    keys: Vec<String>,
}

/// Numbers ids by first appearance across one run.
#[derive(Default)]
struct Ids(BTreeMap<String, usize>);

impl Ids {
    fn name(&mut self, id: &str) -> String {
        let next = self.0.len();
        let index = *self.0.entry(id.to_owned()).or_insert(next);
        format!("<id {index} v{}>", &id[14..15])
    }

    fn normalize(&mut self, value: &mut Value) {
        match value {
            Value::String(text) if text.parse::<reportcheck_model::Id>().is_ok() => *text = self.name(text),
            Value::String(text) if text.parse::<reportcheck_model::Timestamp>().is_ok() => {
                *text = text.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect();
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.normalize(item)),
            Value::Object(object) => {
                for (key, item) in object.iter_mut() {
                    if matches!(key.as_str(), "access_token" | "expires_on" | "size") {
                        *item = json!("<varies>");
                    } else {
                        self.normalize(item);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The keys of every object in `text`, in textual order.
fn keys_in_order(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut string = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                c => string.push(c),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&':') {
            keys.push(string);
        }
    }
    keys
}

struct Prober {
    http: reqwest::Client,
    base: String,
    ids: Ids,
    answers: Vec<Fingerprint>,
}

impl Prober {
    async fn send(&mut self, probe: &'static str, request: reqwest::RequestBuilder) -> Value {
        let reply = reply(request.send().await.expect("answered")).await;
        let mut header_names: Vec<String> = reply.headers.keys().map(|name| name.as_str().to_owned()).collect();
        header_names.sort();
        let is_json = reply.content_type().starts_with("application/json");
        let mut body = if is_json { reply.body.clone() } else { Value::Null };
        self.ids.normalize(&mut body);
        let (layout, keys) = if is_json {
            (reply.text.chars().filter(|c| "{}[]:,\n\t ".contains(*c)).collect(), keys_in_order(&reply.text))
        } else {
            (String::new(), Vec::new())
        };
        self.answers.push(Fingerprint {
            probe,
            status: reply.status,
            content_type: reply.content_type().to_owned(),
            header_names,
            body,
            layout,
            keys,
        });
        reply.body
    }

    fn token(&self, client: &str, secret: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/idp/token", self.base))
            .basic_auth(client, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
    }

    fn call(&self, token: &str, method: Method, path: &str, body: Option<&Value>) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    }
}

fn today() -> Date {
    reportcheck_model::date::parse_day("2026-11-26").expect("date")
}

/// The probe requests: each freedom shows in at least one answer.
async fn probe(server: &RunningServer) -> Vec<Fingerprint> {
    let mut prober = Prober {
        http: reqwest::Client::builder().no_gzip().build().expect("client"),
        base: server.base_url().to_owned(),
        ids: Ids::default(),
        answers: Vec::new(),
    };
    let (a, b, child) = (Fixture::TENANT_A, Fixture::TENANT_B, Fixture::TENANT_A_CHILD);
    let token = prober.send("token", prober.token(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET)).await;
    let token_a = token["access_token"].as_str().expect("token").to_owned();
    prober.send("refused token", prober.token(Fixture::CLIENT_A, "wrong")).await;
    let token = prober.send("token of B", prober.token(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET)).await;
    let token_b = token["access_token"].as_str().expect("token").to_owned();
    let list = format!("/tenants/{a}/reports");
    prober.send("list at start", prober.call(&token_a, Method::GET, &list, None)).await;
    let monthly = json!({"result_action": "save", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": a, "kind": "usage_daily", "level": "itself"}});
    prober.send("create monthly", prober.call(&token_a, Method::POST, "/reports", Some(&monthly))).await;
    let once = json!({"result_action": "save", "schedule": {"type": "once"},
        "parameters": {"tenant_id": a, "kind": "usage_daily", "level": "itself", "formats": ["csv"]}});
    let once = prober.send("create once", prober.call(&token_a, Method::POST, "/reports", Some(&once))).await;
    let once = once["id"].as_str().expect("id").to_owned();
    let stored_path = format!("/reports/{once}/stored");
    let stored = prober.send("stored", prober.call(&token_a, Method::GET, &stored_path, None)).await;
    let stored_id = stored["items"][0]["id"].as_str().expect("stored id").to_owned();
    let download = format!("{stored_path}/{stored_id}");
    prober.send("download", prober.call(&token_a, Method::GET, &download, None)).await;
    let of_child = json!({"result_action": "save", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": child, "kind": "usage_daily", "level": "itself", "hide_zero_usage": true,
            "show_skus": true}});
    prober.send("create in child", prober.call(&token_a, Method::POST, "/reports", Some(&of_child))).await;
    prober.send("list", prober.call(&token_a, Method::GET, &list, None)).await;
    prober.send("malformed id", prober.call(&token_a, Method::GET, "/reports/not-a-uuid", None)).await;
    let foreign = json!({"result_action": "save", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": b, "kind": "usage_daily", "level": "itself", "hide_zero_usage": false,
            "show_skus": false}, "generation_date": "2026-12-01"});
    let foreign = prober.send("create of B", prober.call(&token_b, Method::POST, "/reports", Some(&foreign))).await;
    let foreign = format!("/reports/{}", foreign["id"].as_str().expect("id"));
    prober.send("foreign report", prober.call(&token_a, Method::GET, &foreign, None)).await;
    let rejected = json!({"result_action": "send", "schedule": {"type": "once"},
        "parameters": {"tenant_id": a, "kind": "usage_daily", "level": "itself"}});
    prober.send("business rule", prober.call(&token_a, Method::POST, "/reports", Some(&rejected))).await;
    prober.answers
}

/// The reference configuration the probes run against: stored reports saved at once,
/// except for the freedom about downloads that are not saved yet.
fn base(freedom: Option<Freedom>) -> Config {
    let save_delay = if freedom == Some(Freedom::UnsavedDownload) { Duration::from_secs(3600) } else { Duration::ZERO };
    Config { today: Some(today()), save_delay, ..Config::default() }
}

async fn run(config: Config) -> Vec<Fingerprint> {
    let server = reportcheck_server::spawn(config).await.expect("server");
    let answers = probe(&server).await;
    server.shutdown().await.expect("stops");
    answers
}

#[tokio::test]
async fn every_freedom_has_an_observable_variation() {
    // The probes are stable: two reference servers answer them alike.
    let reference = run(base(None)).await;
    assert_eq!(reference, run(base(None)).await, "the fingerprints vary on the reference server itself");
    let slow_reference = run(base(Some(Freedom::UnsavedDownload))).await;
    let mut silent = Vec::new();
    for freedom in Freedom::ALL {
        let config = Config { variations: Variations::only(*freedom), ..base(Some(*freedom)) };
        let answers = run(config).await;
        let against = if *freedom == Freedom::UnsavedDownload { &slow_reference } else { &reference };
        let differing: Vec<&str> =
            answers.iter().zip(against).filter(|(seen, want)| seen != want).map(|(seen, _)| seen.probe).collect();
        if differing.is_empty() && answers.len() == against.len() {
            silent.push(format!("{freedom}: {}", Variations::description(*freedom)));
        }
        println!("{freedom}: differs in {differing:?}");
    }
    assert!(silent.is_empty(), "variations nobody can see:\n{}", silent.join("\n"));
}

/// `Variations::all()` alone switches on the variations that other knobs used to carry.
#[tokio::test]
async fn all_variations_need_no_other_knob() {
    let config = Config { variations: Variations::all(), ..Config::default() };
    assert!(config.effective_save_delay() >= Duration::from_millis(900));
    assert_eq!(config.effective_versions(), reportcheck_server::VersionScheme::UnixMillis);
    let server = reportcheck_server::spawn(config).await.expect("server");
    let api = Api::login(&server, 0).await;
    let list = api.send(Method::GET, &format!("/tenants/{}/reports", api.tenant), None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(!list.body["items"].as_array().expect("items").is_empty(), "reports exist before the run");
    assert!(list.body["total"].is_number());
}
