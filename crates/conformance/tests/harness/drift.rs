//! Drift: every class detected and classified, from data (`tests/drift/`) and over HTTP
//! against the reference server and its faults.

use std::collections::BTreeSet;
use std::path::Path;

use bytes::Bytes;
use reportcheck_client::{RawRequest, RawResponse};
use reportcheck_conformance::contract::Party;
use reportcheck_conformance::drift::{self, Class, Drift};
use reportcheck_conformance::openapi::{OPENAPI, Spec};
use reportcheck_conformance::runner::Recorded;
use reportcheck_conformance::{ContractSource, Target};
use reportcheck_server::{Config, Fault, Fixture, Variations};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

fn cases_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/drift"))
}

#[derive(Deserialize)]
struct Expected {
    class: Class,
    kind: Value,
    #[serde(default)]
    path: Option<String>,
}

fn summarize(drifts: &[Drift]) -> BTreeSet<String> {
    drifts
        .iter()
        .map(|drift| {
            format!("{:?} {} {}", drift.class, serde_json::to_value(drift.kind).unwrap_or_default(), drift.path)
        })
        .collect()
}

fn matches(drifts: &[Drift], expected: &[Expected], with_paths: bool) -> bool {
    drifts.len() == expected.len()
        && expected.iter().all(|want| {
            drifts.iter().any(|drift| {
                drift.class == want.class
                    && serde_json::to_value(drift.kind).ok().as_ref() == Some(&want.kind)
                    && (!with_paths || want.path.as_deref().is_none_or(|path| path == drift.path))
            })
        })
}

#[derive(Deserialize)]
struct ExchangeCase {
    name: String,
    method: String,
    path: String,
    status: u16,
    content_type: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    raw: Option<String>,
    expect: Vec<Expected>,
}

/// Each case is one answer and the drift it shows against the spec: nothing where the
/// profile leaves the answer free.
#[test]
fn every_class_of_answer_drift() {
    let spec = Spec::builtin();
    let cases: Vec<ExchangeCase> =
        serde_json::from_str(&std::fs::read_to_string(cases_dir().join("exchanges.json")).expect("read"))
            .expect("parse");
    let mut failures = Vec::new();
    for case in &cases {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_str(&case.content_type).expect("header"));
        for (name, value) in &case.headers {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        let body = match (&case.body, &case.raw) {
            (Some(body), None) => Bytes::from(serde_json::to_vec(body).expect("json")),
            (None, Some(raw)) => Bytes::from(raw.clone()),
            _ => panic!("{}: give body or raw", case.name),
        };
        let recorded = Recorded {
            step: 0,
            party: Party::A,
            request: RawRequest::new(Method::from_bytes(case.method.as_bytes()).expect("method"), case.path.clone()),
            response: RawResponse {
                status: reqwest::StatusCode::from_u16(case.status).expect("status"),
                headers,
                body,
                body_problem: None,
            },
        };
        assert!(spec.operation(&case.method, &case.path).is_some(), "{}: a known operation", case.name);
        let drifts = drift::analyze(&spec, &[recorded]);
        if !matches(&drifts, &case.expect, true) {
            failures.push(format!("{}: found {:?}", case.name, summarize(&drifts)));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[derive(Deserialize)]
struct SpecCase {
    name: String,
    patch: Vec<Patch>,
    expect: Vec<Expected>,
}

#[derive(Deserialize)]
struct Patch {
    op: String,
    path: String,
    #[serde(default)]
    value: Option<Value>,
}

fn apply(document: &mut Value, patch: &Patch) {
    let (parent, key) = patch.path.rsplit_once('/').expect("a pointer");
    let key = key.replace("~1", "/").replace("~0", "~");
    let target = document.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match (patch.op.as_str(), target) {
        ("remove", Value::Object(object)) => {
            object.remove(&key).unwrap_or_else(|| panic!("no {}", patch.path));
        }
        ("add" | "replace", Value::Object(object)) => {
            object.insert(key, patch.value.clone().expect("a value"));
        }
        ("add", Value::Array(items)) if key == "-" => items.push(patch.value.clone().expect("a value")),
        (op, _) => panic!("cannot {op} {}", patch.path),
    }
}

/// Each case patches openapi.json and names the drift the comparison must report.
#[test]
fn every_class_of_spec_change() {
    let base: Value = serde_json::from_str(OPENAPI).expect("spec");
    let cases: Vec<SpecCase> =
        serde_json::from_str(&std::fs::read_to_string(cases_dir().join("specs.json")).expect("read")).expect("parse");
    let mut failures = Vec::new();
    for case in &cases {
        let mut new = base.clone();
        case.patch.iter().for_each(|patch| apply(&mut new, patch));
        let drifts = drift::diff_specs(&base, &new);
        // A field change shows wherever the schema is used; the kinds must match.
        let kinds: BTreeSet<String> = drifts
            .iter()
            .map(|drift| format!("{:?} {}", drift.class, serde_json::to_value(drift.kind).unwrap_or_default()))
            .collect();
        let wanted: BTreeSet<String> = case.expect.iter().map(|e| format!("{:?} {}", e.class, e.kind)).collect();
        if kinds != wanted {
            failures.push(format!("{}: found {:?}", case.name, summarize(&drifts)));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

async fn server_drift(config: Config) -> Vec<Drift> {
    drift_compared(config, None).await.0
}

async fn drift_since(config: Config, recording: Option<&Path>) -> Vec<Drift> {
    drift_compared(config, recording).await.0
}

async fn drift_compared(config: Config, recording: Option<&Path>) -> (Vec<Drift>, drift::Compared) {
    let max_poll = Some(std::time::Duration::from_secs(2));
    drift::server_drift(
        &Target::Embedded(config),
        &ContractSource::Builtin,
        Default::default(),
        max_poll,
        recording,
        Default::default(),
    )
    .await
    .expect("the run can be made")
}

fn quick() -> Config {
    Config { save_delay: std::time::Duration::from_millis(10), ..Config::default() }
}

/// Against the spec, a conformant server shows no drift at all: what the profile leaves
/// free is never drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conformant_server_shows_no_drift() {
    let (reference, compared) = drift_compared(quick(), None).await;
    assert_eq!(reference, Vec::new(), "the reference server shows no drift");
    // The totals say how much was compared, so "no drift" is never "nothing looked at".
    assert!(compared.answers > 100 && compared.operations >= 9, "{compared:?}");
    let text = drift::text(&reference, "the reference server", compared);
    assert!(
        text.ends_with(&format!(
            "0 breaking, 0 non-breaking in {} answers to {} operations\n",
            compared.answers, compared.operations
        )),
        "{text}"
    );
    let variations = server_drift(Config { variations: Variations::all(), ..quick() }).await;
    assert_eq!(variations, Vec::new(), "a differently conformant server shows no drift");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_over_http() {
    for (fault, kind) in [
        (Fault::NoGenerationDate, "missing-field"),
        (Fault::VersionAsString, "type-changed"),
        (Fault::MalformedIdIs500, "undocumented-status"),
        (Fault::PlainTextErrors, "content-type-changed"),
        (Fault::StoredWithoutStatus, "missing-field"),
    ] {
        let drifts = server_drift(Config { faults: [fault].into(), ..quick() }).await;
        assert!(
            drifts.iter().any(|drift| drift.class == Class::Breaking
                && serde_json::to_value(drift.kind).ok() == Some(Value::from(kind))),
            "{fault}: {:?}",
            summarize(&drifts)
        );
        assert_eq!(drift::exit_code(&drifts), 1);
    }
}

/// Against an earlier recording: the same server shows nothing; a server that now
/// chooses free values otherwise shows non-breaking changes, grouped with counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_since_a_recording() {
    let server = reportcheck_server::spawn(quick()).await.expect("server");
    let out = std::env::temp_dir().join(format!("reportcheck-drift-recording-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    reportcheck_conformance::record::record(reportcheck_conformance::record::RecordOptions {
        target: Target::Remote {
            base_url: server.base_url().to_owned(),
            client: reportcheck_conformance::credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
            second: Some(reportcheck_conformance::credentials(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET)),
        },
        contracts: ContractSource::Builtin,
        out: out.clone(),
        client: Default::default(),
        control: Default::default(),
        child_tenant: Fixture::TENANT_A_CHILD.parse().ok(),
    })
    .await
    .expect("recorded");
    let same = drift_since(quick(), Some(&out)).await;
    assert_eq!(same, Vec::new(), "{:?}", summarize(&same));
    let changed = drift_since(Config { variations: Variations::all(), ..quick() }, Some(&out)).await;
    assert!(!changed.is_empty(), "the variations answer free values otherwise");
    assert!(
        changed.iter().all(|drift| drift.class == Class::NonBreaking
            && serde_json::to_value(drift.kind).ok() == Some(Value::from("observed-changed"))),
        "{:?}",
        summarize(&changed)
    );
    assert_eq!(drift::exit_code(&changed), 0);
    // Grouped: no two findings share their operation and place.
    let places: BTreeSet<(&str, &str)> = changed.iter().map(|d| (d.operation.as_str(), d.path.as_str())).collect();
    assert_eq!(places.len(), changed.len());
    println!("{}", drift::text(&changed, "variations since a recording of the reference server", Default::default()));
    let _ = std::fs::remove_dir_all(out);
}
