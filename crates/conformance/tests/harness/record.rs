//! `record`: recorded contracts replay against the server they came from and against a
//! differently conformant one, carry their provenance, and hold no secret.

use std::collections::BTreeSet;

use futures_util::StreamExt as _;
use reportcheck_conformance::record::{RecordOptions, record};
use reportcheck_conformance::{RunOptions, Target, credentials};
use reportcheck_model::Rule;
use reportcheck_server::{Config, Fault, Fixture, RunningServer, Variations};

use crate::support::*;

fn remote(server: &RunningServer) -> Target {
    Target::Remote {
        base_url: server.base_url().to_owned(),
        client: credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
        second: Some(credentials(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET)),
    }
}

async fn record_from(server: &RunningServer, out: &std::path::Path) -> reportcheck_conformance::record::RecordSummary {
    record(RecordOptions {
        target: remote(server),
        contracts: reportcheck_conformance::ContractSource::Builtin,
        out: out.to_owned(),
        client: Default::default(),
        control: Default::default(),
        child_tenant: Fixture::TENANT_A_CHILD.parse().ok(),
    })
    .await
    .expect("recorded")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("reportcheck-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Replays the recordings in `out` against an embedded server.
async fn replay(out: &std::path::Path, config: Config) -> reportcheck_conformance::RunReport {
    run(RunOptions { contracts: out.to_owned().into(), cases: 0, ..options(config) }).await
}

/// Every fault whose rule a recording covers fails it, under that rule.
async fn faults_still_fail(out: &std::path::Path) {
    let contracts = reportcheck_conformance::contract::load_dir(out).expect("recordings load");
    let covered: BTreeSet<Rule> = contracts.iter().flat_map(|contract| contract.rules()).collect();
    // A fault only a quiet moment shows is the property tests' quiet phase's to find;
    // recordings replay side by side.
    let faults: Vec<Fault> = Fault::ALL
        .iter()
        .copied()
        .filter(|fault| covered.contains(&fault.rule()) && fault.class() != reportcheck_server::FaultClass::Quiet)
        .collect();
    let runs = futures_util::stream::iter(faults.iter().copied())
        .map(|fault| async move {
            let config = Config { faults: [fault].into(), today: fault.server_today(), ..config() };
            (fault, replay(out, config).await)
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    let missed: Vec<String> = runs
        .iter()
        .filter(|(fault, report)| !report.checks.iter().any(|check| check.is_failed() && check.rule == fault.rule()))
        .map(|(fault, _)| format!("{} ({})", fault.name(), fault.rule()))
        .collect();
    assert!(missed.is_empty(), "{}: faults the recordings miss: {missed:?}", out.display());
}

/// The conformant servers of the round trips: the reference, every variation at once, and
/// two any-branch servers (each request takes any admissible branch, every unclaimed
/// value drawn, `last_access_at` and an extra property new on every answer).
fn conformant() -> Vec<(&'static str, Config)> {
    let any_branch = |seed| Config { save_delay: config().save_delay, ..Config::any_branch(seed) };
    vec![
        ("reference", config()),
        ("variations", Config { variations: Variations::all(), ..config() }),
        ("any-branch 3", any_branch(3)),
        ("any-branch 8", any_branch(8)),
    ]
}

/// Recorded from each conformant server, a recording replays against that same server
/// later (its free values have moved on by then) and against every other one, with no
/// failure; what they chose differently is told, never failed. And each recording still
/// fails every fault whose rule it covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_replay_between_every_conformant_server() {
    let sha = reportcheck_conformance::openapi::sha256_hex(reportcheck_conformance::openapi::OPENAPI);
    for (from, config) in conformant() {
        let server = reportcheck_server::spawn(config).await.expect("server");
        let out = temp_dir(&format!("recorded-{}", from.replace(' ', "-")));
        let summary = record_from(&server, &out).await;
        assert!(summary.written.len() >= 20 && summary.skipped.is_empty(), "{from}: {summary:?}");
        for path in &summary.written {
            let contract: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
            assert_eq!(contract["recorded"]["openapi_sha256"], sha.as_str(), "{}", path.display());
            assert!(contract["recorded"]["at"].is_string());
        }
        let later =
            run(RunOptions { contracts: out.clone().into(), cases: 0, ..RunOptions::new(remote(&server)) }).await;
        assert_eq!(later.blocking_failures(), 0, "{from} replayed on itself later:\n{}", later.summary());
        if from == "reference" {
            assert!(later.notes.is_empty(), "the reference server answers the same again: {:?}", later.notes);
        }
        for (to, config) in conformant().into_iter().filter(|(to, _)| *to != from) {
            let other = replay(&out, config).await;
            assert_eq!(other.blocking_failures(), 0, "recorded from {from}, replayed on {to}:\n{}", other.summary());
            if to == "variations" {
                assert!(!other.notes.is_empty(), "{from} → {to}: the variations answer free values otherwise");
            }
        }
        faults_still_fail(&out).await;
        let _ = std::fs::remove_dir_all(out);
    }
}

/// AUTH-4 pins the client object's id and tenant only: the rest is recorded as observed,
/// so a `last_access_at` that moves on every call is a note, never a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_no_rule_claims_is_recorded_as_observed() {
    let server = reportcheck_server::spawn(Config::any_branch(3)).await.expect("server");
    let out = temp_dir("recorded-observed");
    record_from(&server, &out).await;
    let mut client = None;
    for entry in std::fs::read_dir(&out).expect("recordings") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        let contract: serde_json::Value = serde_json::from_str(&text).expect("json");
        for step in contract["steps"].as_array().into_iter().flatten() {
            if let Some(body) = step["expect"].as_array().and_then(|expect| expect.last()).map(|last| &last["body"])
                && body.get("client_id").is_some()
            {
                client = Some(body.clone());
            }
        }
    }
    let client = client.expect("a recorded client object");
    assert!(client["last_access_at"].get("$observed").is_some(), "{client:#}");
    assert!(client["client_id"].is_string() && client["tenant_id"].is_string(), "pinned: {client:#}");
    let _ = std::fs::remove_dir_all(out);
}

/// Free values are recorded as `$free` with what was observed; no key-name guessing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_values_are_recorded_by_the_freedoms_table() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let out = temp_dir("recorded-free");
    record_from(&server, &out).await;
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{name}.json"))).expect("read")).expect("json")
    };
    let recorded = |contract: &serde_json::Value, step: usize| {
        contract["steps"][step]["expect"]
            .as_array()
            .and_then(|expect| expect.last())
            .cloned()
            .expect("a recorded expectation")
    };
    let token = recorded(&read("auth-token"), 0);
    assert_eq!(token["body"]["expires_in"]["$free"]["as"], "token-expiry", "{token:#}");
    assert_eq!(token["body"]["token_type"]["$free"]["as"], "token-type-case", "{token:#}");
    assert_eq!(token["body"]["access_token"], serde_json::json!({"$type": "string"}));
    let text = std::fs::read_to_string(out.join("create-defaults.json")).expect("read");
    assert!(text.contains("\"monthly-generation-date\""), "a monthly create without a date: {text}");
    let _ = std::fs::remove_dir_all(out);
}

/// Even from a server that echoes tokens into its errors, no client secret, token or
/// Basic credential reaches a recorded file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_recorded_file() {
    let server =
        reportcheck_server::spawn(Config { faults: [Fault::EchoToken].into(), ..config() }).await.expect("server");
    let out = temp_dir("recorded-secrets");
    let summary = record_from(&server, &out).await;
    use base64::Engine as _;
    let basic = |id: &str, secret: &str| base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    for path in &summary.written {
        let text = std::fs::read_to_string(path).expect("read");
        for secret in [
            Fixture::CLIENT_A_SECRET.to_owned(),
            Fixture::CLIENT_B_SECRET.to_owned(),
            basic(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
            basic(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET),
        ] {
            assert!(!text.contains(&secret), "{} holds a credential", path.display());
        }
        // The recorded openapi.json hash is the one 64-hex-digit value allowed.
        let sha = reportcheck_conformance::openapi::sha256_hex(reportcheck_conformance::openapi::OPENAPI);
        let text = text.replace(&sha, "");
        let token_shaped = text.as_bytes().windows(64).any(|window| window.iter().all(u8::is_ascii_hexdigit));
        assert!(!token_shaped, "{} holds something token-shaped", path.display());
    }
    let _ = std::fs::remove_dir_all(out);
}
