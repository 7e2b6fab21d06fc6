//! What a run writes: no secret anywhere, JUnit with one case per check, the exit codes,
//! and property failures that replay.

use std::time::Duration;

use reportcheck_conformance::{Error, Outcome, RunOptions, Source, Target, credentials};
use reportcheck_server::{Config, Fault, Fixture};

use crate::support::*;

/// A server that echoes bearer tokens into its errors: the summary, JUnit, JSON and HTML
/// still show no token and no client secret, mock-mode checks and the answers shown as a
/// failure's steps included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output() {
    let report =
        run(RunOptions { mock: true, ..options(Config { faults: [Fault::EchoToken].into(), ..config() }) }).await;
    assert!(report.checks.iter().any(|check| check.is_failed() && check.rule == reportcheck_model::Rule::Sec2));
    let html = reportcheck_conformance::html::render(&report, &Default::default());
    let outputs = [report.summary(), report.junit(), serde_json::to_string(&report).expect("json"), html];
    // The echoed token's answer is among the failures' steps, redacted.
    let echoed = report.checks.iter().any(|check| match &check.outcome {
        Outcome::Failed(failure) => check.rule == reportcheck_model::Rule::Sec2 && !failure.exchanges().is_empty(),
        _ => false,
    });
    assert!(echoed, "the SEC-2 failure shows the answer that echoed");
    for output in &outputs {
        for secret in [Fixture::CLIENT_A_SECRET, Fixture::CLIENT_B_SECRET] {
            assert!(!output.contains(secret), "a client secret in the output");
        }
        // Access tokens are 64 hex digits; none may appear.
        let hex_run = output.as_bytes().windows(64).any(|window| window.iter().all(u8::is_ascii_hexdigit));
        assert!(!hex_run, "something token-shaped in the output");
    }
    assert!(outputs[0].contains("SEC-2 failed"), "the echo is reported: {}", outputs[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_has_one_case_per_check_named_by_rule() {
    let report = run(RunOptions { filter: Some("DEL".to_owned()), ..options(config()) }).await;
    assert!(report.checks.iter().all(|check| check.rule.id().starts_with("DEL")), "the filter keeps DEL rules only");
    let junit = report.junit();
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert_eq!(junit.matches("<testcase ").count(), report.checks.len());
    for check in &report.checks {
        assert!(junit.contains(&format!("name=\"{} ", check.rule.id())), "{junit}");
    }
    // Each case: its time, and its rule, the seed and where it came from as properties.
    let cases: Vec<&str> =
        junit.split("<testcase ").skip(1).map(|case| case.split("</testcase>").next().unwrap_or(case)).collect();
    assert_eq!(cases.len(), report.checks.len());
    let sources: Vec<String> = report.checks.iter().map(|check| check.source_property()).collect();
    for case in &cases {
        let rule = case.split("classname=\"reportcheck.").nth(1).and_then(|rest| rest.split('"').next());
        let rule = rule.unwrap_or_else(|| panic!("no classname: {case}"));
        assert!(case.contains(" time=\""), "no time: {case}");
        assert!(case.contains(&format!("<property name=\"rule\" value=\"{rule}\"/>")), "{case}");
        assert!(case.contains(&format!("<property name=\"seed\" value=\"{}\"/>", report.seed)), "{case}");
        let source = case.split("<property name=\"source\" value=\"").nth(1).and_then(|rest| rest.split('"').next());
        assert!(source.is_some_and(|source| sources.iter().any(|known| known == source)), "{case}");
    }
    assert!(report.checks.iter().any(|check| check.duration > Duration::ZERO), "the checks are timed");
    assert!(junit.contains("value=\"contracts/delete-report.json\""), "a contract file as the source: {junit}");
    assert!(junit.contains("value=\"property tests\""), "{junit}");
}

/// The JSON result is what `spec/result.schema.json` documents, for a passing run and for
/// one with failures and skips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_result_follows_its_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../spec/result.schema.json")).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let passing = run(RunOptions { filter: Some("DEL".to_owned()), ..options(config()) }).await;
    let failing =
        run(RunOptions { rps: Some(500.0), ..options(Config { faults: [Fault::NoVersionBump].into(), ..config() }) })
            .await;
    for report in [passing, failing] {
        let json = serde_json::to_value(&report).expect("the report serialises");
        let errors: Vec<String> =
            validator.iter_errors(&json).map(|error| format!("{}: {error}", error.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(json["totals"]["checks"], report.checks.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_that_cannot_be_made_are_errors() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut client = reportcheck_client::ClientOptions::default();
    client.retry =
        reportcheck_client::RetryPolicy { max_attempts: 2, initial_backoff: Duration::from_millis(1), ..client.retry };
    let unreachable = RunOptions {
        client: client.clone(),
        ..RunOptions::new(Target::Remote {
            base_url: format!("http://127.0.0.1:{closed}/api/2"),
            client: credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
            second: None,
        })
    };
    assert!(matches!(reportcheck_conformance::run(unreachable).await, Err(Error::Unreachable(_))));

    let server = reportcheck_server::spawn(config()).await.expect("server");
    let wrong = RunOptions::new(Target::Remote {
        base_url: server.base_url().to_owned(),
        client: credentials(Fixture::CLIENT_A, "not-the-secret"),
        second: None,
    });
    match reportcheck_conformance::run(wrong).await {
        Err(Error::BadCredentials(message)) => assert!(!message.contains("not-the-secret"), "{message}"),
        other => panic!("{other:?}"),
    }

    let dir = std::env::temp_dir().join(format!("reportcheck-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("broken.json"), "{\"description\": \"x\", \"steps\": []}").expect("write");
    let bad = RunOptions { contracts: dir.clone().into(), ..options(config()) };
    assert!(matches!(reportcheck_conformance::run(bad).await, Err(Error::InvalidContract { .. })));
    let _ = std::fs::remove_dir_all(dir);
}

/// Ready bearer tokens instead of client secrets: every check that does not need the
/// secret runs and passes; the token endpoint's own steps are skipped, saying why; the
/// tokens reach no output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_instead_of_secrets() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let token = |id: &'static str, secret: &'static str| {
        let url = format!("{}/idp/token", server.base_url());
        async move {
            let answer: serde_json::Value = reqwest::Client::new()
                .post(url)
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .expect("token answered")
                .json()
                .await
                .expect("token JSON");
            answer["access_token"].as_str().expect("a token").to_owned()
        }
    };
    let (a, b) = (
        token(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET).await,
        token(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET).await,
    );
    let report = reportcheck_conformance::run(RunOptions {
        cases: 16,
        seed: Some(7),
        max_poll: Some(Duration::from_secs(2)),
        child_tenant: Fixture::TENANT_A_CHILD.parse().ok(),
        ..RunOptions::new(Target::Remote {
            base_url: server.base_url().to_owned(),
            client: reportcheck_conformance::bearer_credentials(Fixture::CLIENT_A, a.clone()),
            second: Some(reportcheck_conformance::bearer_credentials(Fixture::CLIENT_B, b.clone())),
        })
    })
    .await
    .expect("the run can be made");
    assert_eq!(report.blocking_failures(), 0, "{}", report.summary());
    let skipped: Vec<&str> = report
        .checks
        .iter()
        .filter_map(|check| match &check.outcome {
            Outcome::Skipped { reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert!(!skipped.is_empty() && skipped.iter().all(|reason| reason.contains("bearer token only")), "{skipped:?}");
    assert!(report.checks.iter().filter(|check| matches!(check.outcome, Outcome::Passed)).count() > 300);
    let html = reportcheck_conformance::html::render(&report, &Default::default());
    let outputs = [report.summary(), report.junit(), serde_json::to_string(&report).expect("json"), html];
    assert!(outputs.iter().all(|text| !text.contains(&a) && !text.contains(&b)), "a token leaked");
}

/// A remote server without a second client: the SEC contracts are skipped, not passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_second_client_sec_checks_are_skipped() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let options = RunOptions {
        filter: Some("SEC-1".to_owned()),
        ..RunOptions::new(Target::Remote {
            base_url: server.base_url().to_owned(),
            client: credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
            second: None,
        })
    };
    let report = run(options).await;
    assert!(!report.checks.is_empty());
    assert!(report.checks.iter().all(|check| matches!(check.outcome, Outcome::Skipped { .. })), "{}", report.summary());
    assert_eq!(report.exit_code(), 0);
}

/// A property failure shrinks to a contract that replays: it fails the faulty server and
/// passes the reference one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_property_failure_replays_as_a_contract() {
    let faulty = Config { faults: [Fault::NoVersionBump].into(), ..config() };
    let empty = std::env::temp_dir().join(format!("reportcheck-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("dir");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = {
        let lines = std::sync::Arc::clone(&lines);
        std::sync::Arc::new(move |line: &str| lines.lock().expect("lines").push(line.to_owned()))
    };
    let control = reportcheck_conformance::RunControl::default().with_lines(sink);
    let report =
        run(RunOptions { contracts: empty.clone().into(), cases: 64, control, ..options(faulty.clone()) }).await;
    // The failure is printed when it is found, before its shrinking ends and the rule's line.
    let lines = lines.lock().expect("lines").clone();
    let found = lines.iter().position(|line| line.trim_start().starts_with("found UPD-7"));
    let verdict = lines.iter().position(|line| line.trim_start().starts_with("FAIL UPD-7"));
    assert!(matches!((found, verdict), (Some(found), Some(verdict)) if found < verdict), "{lines:#?}");
    let failure = report
        .checks
        .iter()
        .find_map(|check| match (&check.source, &check.outcome) {
            (Source::Property, Outcome::Failed(failure)) => Some(failure.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the property tests catch no-version-bump:\n{}", report.summary()));
    assert!(failure.message.contains("--seed 7"), "{}", failure.message);
    assert!(failure.message.contains("rounds sent side by side"), "{}", failure.message);
    let replay = failure.replay.clone().expect("the replay");
    assert!(replay.contains("curl -sS"), "{replay}");
    let start = replay.find('{').expect("a contract");
    let end = replay.find("\n\ncurl commands").expect("then curl");
    std::fs::write(empty.join("minimal.json"), &replay[start..end]).expect("write");
    // The same sequence as numbered steps, each request with the answer it got: one per
    // step of the contract, the last the departure's.
    let contract: serde_json::Value = serde_json::from_str(&replay[start..end]).expect("the contract is JSON");
    assert_eq!(failure.steps.len(), contract["steps"].as_array().map_or(0, Vec::len), "{:#?}", failure.steps);
    for (step, sent) in failure.steps.iter().zip(contract["steps"].as_array().into_iter().flatten()) {
        let method = sent["request"]["method"].as_str().unwrap_or_default();
        assert!(step.request.starts_with(method), "{step:?}");
        assert!(step.answer.get(..3).is_some_and(|status| status.parse::<u16>().is_ok()), "{step:?}");
    }

    let replayed = run(RunOptions { contracts: empty.clone().into(), cases: 0, ..options(faulty) }).await;
    assert!(
        replayed.checks.iter().any(|c| matches!(c.source, Source::Contract(_)) && c.is_failed()),
        "{}",
        replayed.summary()
    );
    let reference = run(RunOptions { contracts: empty.clone().into(), cases: 0, ..options(config()) }).await;
    assert_eq!(reference.blocking_failures(), 0, "{}", reference.summary());
    let _ = std::fs::remove_dir_all(empty);
}

/// Mock mode: the typed client reads every answer of the reference server and of a
/// differently conformant one, and refuses what a broken server sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_mode_checks_the_client() {
    let variations = Config { variations: reportcheck_server::Variations::all(), ..config() };
    for server in [config(), variations] {
        let report = run(RunOptions { mock: true, cases: 0, ..options(server) }).await;
        let mock: Vec<_> = report.checks.iter().filter(|check| matches!(check.source, Source::Mock(_))).collect();
        assert!(mock.len() > 100, "{} mock checks", mock.len());
        assert_eq!(report.blocking_failures(), 0, "{}", report.summary());
    }
    let broken = run(RunOptions {
        mock: true,
        cases: 0,
        ..options(Config { faults: [Fault::VersionAsString].into(), ..config() })
    })
    .await;
    let refused = broken.checks.iter().find(|check| matches!(check.source, Source::Mock(_)) && check.is_failed());
    match refused.map(|check| &check.outcome) {
        Some(Outcome::Failed(failure)) => assert!(failure.message.contains("`version`"), "{}", failure.message),
        _ => panic!("the client accepted string versions:\n{}", broken.summary()),
    }
}
