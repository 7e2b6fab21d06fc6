//! The any-branch server (`Pick::Seeded`) really takes every branch the decider admits
//! and really draws what no claim covers: each probe, sent again and again, must get
//! every outcome of its row. A mode that always answered like the reference server would
//! pass the harness vacuously; this keeps it honest.

use std::collections::BTreeSet;

use crate::support::*;
use reportcheck_server::Config;
use reqwest::Method;
use serde_json::{Value, json};

/// How often each probe is sent: two equally likely outcomes all come up in 32 tries
/// but with odds of 2^-31, and the seed makes it the same every run.
const TRIES: usize = 32;

#[tokio::test]
async fn every_admissible_branch_is_taken() {
    let server = reportcheck_server::spawn(Config { today: Some(seed_today()), ..Config::any_branch(5) })
        .await
        .expect("server starts");
    let api = Api::login(&server, 0).await;
    let tenant = api.tenant.clone();
    let mut save = scheduled_report(&tenant);
    save["result_action"] = json!("save");
    save["recipients"] = json!([]);
    let send = api.create(&scheduled_report(&tenant)).await;
    let send_path = format!("/reports/{}", send["id"].as_str().unwrap_or_default());
    let mut twice = save.clone();
    twice["parameters"]["formats"] = json!(["csv", "csv"]);
    let mut unset = scheduled_report(&tenant);
    unset["schedule"] = json!({"type": "monthly"});
    let mut monthly_save = save.clone();
    monthly_save["schedule"] = json!({"type": "monthly"});
    let monthly_save = api.create(&monthly_save).await;
    let save_path = format!("/reports/{}", monthly_save["id"].as_str().unwrap_or_default());
    // (what, request, the outcomes it must show, how an answer reads as an outcome)
    type Read = fn(&Reply) -> String;
    type Probe<'a> = (&'a str, Method, String, Option<Value>, Vec<&'a str>, Read);
    let status: Read = |reply| reply.status.to_string();
    let enabled: Read = |reply| reply.body.pointer("/schedule/enabled").map_or("absent".to_owned(), Value::to_string);
    let flag: Read = |reply| reply.body.pointer("/parameters/show_skus").map_or("absent".to_owned(), Value::to_string);
    let probes: Vec<Probe> = vec![
        (
            "recipients-emptied-on-send: refused or accepted",
            Method::PUT,
            send_path.clone(),
            Some(json!({"recipients": []})),
            vec!["200", "400"],
            status,
        ),
        (
            "unset-flag-is-false: a no-op or refused",
            Method::PUT,
            String::new(),
            Some(json!({"parameters": {"show_skus": false}})),
            vec!["200", "400"],
            status,
        ),
        (
            "a format listed twice: accepted or refused",
            Method::POST,
            "/reports".into(),
            Some(twice),
            vec!["200", "400"],
            status,
        ),
        (
            "a malformed version: any 4xx",
            Method::DELETE,
            format!("{send_path}?version=latest"),
            None,
            vec!["400", "404", "409", "422"],
            status,
        ),
        (
            "empty-recipients-on-save: accepted or refused",
            Method::PUT,
            save_path.clone(),
            Some(json!({"recipients": []})),
            vec!["200", "400"],
            status,
        ),
        (
            "formats-order-is-a-change: refused or a no-op",
            Method::PUT,
            String::new(),
            Some(json!({"parameters": {"formats": ["html", "csv"]}})),
            vec!["200", "400"],
            status,
        ),
        ("a malformed id: 400 or 404", Method::GET, "/reports/NOT-AN-ID".into(), None, vec!["400", "404"], status),
        (
            "an omitted schedule.enabled: either value",
            Method::POST,
            "/reports".into(),
            Some(unset.clone()),
            vec!["true", "false"],
            enabled,
        ),
        (
            "an omitted flag: absent or false",
            Method::POST,
            "/reports".into(),
            Some(unset.clone()),
            vec!["absent", "false"],
            flag,
        ),
        (
            "two broken rules: refused under either (CRT-2 with 400, CRT-6 with 403)",
            Method::POST,
            "/reports".into(),
            Some({
                let mut both = save.clone();
                both["parameters"]["tenant_id"] = json!(server.fixture().clients[1].tenant_id);
                both["recipients"] = json!([RECIPIENT]);
                both
            }),
            vec!["400", "403"],
            status,
        ),
    ];
    let mut missing = Vec::new();
    for (what, method, path, body, outcomes, read) in probes {
        let mut seen = BTreeSet::new();
        for _ in 0..TRIES {
            // A PUT probe on a report of its own each time, so an accepted one changes nothing later.
            let path = if path.is_empty() {
                let report = api.create(&unset).await;
                format!("/reports/{}", report["id"].as_str().unwrap_or_default())
            } else {
                path.clone()
            };
            let reply = api.send(method.clone(), &path, body.as_ref()).await;
            assert!(reply.status < 500, "{what}: {} {}", reply.status, reply.text);
            seen.insert(read(&reply));
            if method == Method::PUT && reply.status == 200 && path == send_path {
                // Put the recipients back for the next try.
                api.send(Method::PUT, &send_path, Some(&json!({"recipients": [RECIPIENT]}))).await;
            }
        }
        let unseen: Vec<&&str> = outcomes.iter().filter(|outcome| !seen.contains(**outcome)).collect();
        if !unseen.is_empty() {
            missing.push(format!("{what}: never {unseen:?} (seen {seen:?})"));
        }
    }
    assert!(missing.is_empty(), "the any-branch server keeps to one branch:\n{}", missing.join("\n"));
}
