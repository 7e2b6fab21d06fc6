//! `record`: recorded contracts replay against the server they came from and against a
//! differently conformant one, carry their provenance, and hold no secret.

use reportcheck_conformance::record::{RecordOptions, record};
use reportcheck_conformance::{RunOptions, Target, credentials};
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
        contracts: reportcheck_conformance::default_contracts_dir(),
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

    let same = run(RunOptions { contracts: out.clone(), cases: 0, ..RunOptions::new(remote(&server)) }).await;
    assert_eq!(same.blocking_failures(), 0, "{}", same.summary());
    assert!(same.notes.is_empty(), "fresh recordings are not stale: {:?}", same.notes);
    let variations = Config { variations: Variations::all(), ..config() };
    let other = run(RunOptions { contracts: out.clone(), cases: 0, ..options(variations) }).await;
    assert_eq!(other.blocking_failures(), 0, "{}", other.summary());
    // A broken server still fails the recorded contracts.
    let broken = run(RunOptions {
        contracts: out.clone(),
        cases: 0,
        ..options(Config { faults: [Fault::UpdateFormats].into(), ..config() })
    })
    .await;
    assert!(broken.checks.iter().any(|check| check.is_failed() && check.rule == reportcheck_model::Rule::Upd2));
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
