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
    let faults: Vec<Fault> = Fault::ALL.iter().copied().filter(|fault| covered.contains(&fault.rule())).collect();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_contracts_replay_anywhere_conformant() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let out = temp_dir("recorded");
    let summary = record_from(&server, &out).await;
    assert!(summary.written.len() >= 20 && summary.skipped.is_empty(), "{summary:?}");
    let sha = reportcheck_conformance::openapi::sha256_hex(reportcheck_conformance::openapi::OPENAPI);
    for path in &summary.written {
        let contract: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
        assert_eq!(contract["recorded"]["openapi_sha256"], sha.as_str(), "{}", path.display());
        assert!(contract["recorded"]["at"].is_string());
    }

    let same = run(RunOptions { contracts: out.clone().into(), cases: 0, ..RunOptions::new(remote(&server)) }).await;
    assert_eq!(same.blocking_failures(), 0, "{}", same.summary());
    assert!(same.notes.is_empty(), "fresh recordings are not stale and nothing drifted: {:?}", same.notes);
    let other = replay(&out, Config { variations: Variations::all(), ..config() }).await;
    assert_eq!(other.blocking_failures(), 0, "{}", other.summary());
    // What the variations chose differently is told, never failed.
    assert!(!other.notes.is_empty(), "the variations answer free values otherwise");
    faults_still_fail(&out).await;
    let _ = std::fs::remove_dir_all(out);
}

/// The other way round: recorded from a differently conformant server, replayed against
/// the reference server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_of_a_differently_conformant_server_replay_against_the_reference() {
    let server = reportcheck_server::spawn(Config { variations: Variations::all(), ..config() }).await.expect("server");
    let out = temp_dir("recorded-variations");
    let summary = record_from(&server, &out).await;
    assert!(summary.written.len() >= 20 && summary.skipped.is_empty(), "{summary:?}");
    let same = run(RunOptions { contracts: out.clone().into(), cases: 0, ..RunOptions::new(remote(&server)) }).await;
    assert_eq!(same.blocking_failures(), 0, "{}", same.summary());
    let reference = replay(&out, config()).await;
    assert_eq!(reference.blocking_failures(), 0, "{}", reference.summary());
    faults_still_fail(&out).await;
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
