//! Data-driven: every file in `tests/bad-contracts/` is a broken contract, and
//! `expected.json` lists every problem the loader must report in it, in order: its line,
//! field and words. No message is the validator's jargon.

use std::collections::BTreeMap;
use std::path::Path;

use reportcheck_conformance::ContractSource;
use reportcheck_conformance::Error;
use reportcheck_conformance::contract::{format_validator, load_dir, parse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Expected {
    line: usize,
    field: String,
    message: String,
}

/// Words of JSON Schema and of its validator, which a contract's author need not know.
const JARGON: &[&str] =
    &["oneOf", "anyOf", "allOf", "schema", "keyword", "is not valid under", "Additional properties", "{\"anyOf\""];

#[test]
fn broken_contracts_are_reported_with_file_line_and_field() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-contracts"));
    let expected: BTreeMap<String, Vec<Expected>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"))
            .expect("parses");
    let validator = format_validator();
    let mut problems = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        if name == "expected.json" {
            continue;
        }
        seen += 1;
        let Some(wanted) = expected.get(&name) else {
            problems.push(format!("{name}: no entry in expected.json"));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read");
        let found = match parse(&path, &text, &validator) {
            Ok(_) => {
                problems.push(format!("{name}: loaded without error"));
                continue;
            }
            Err(Error::InvalidContract { problems: found }) => found,
            Err(other) => {
                problems.push(format!("{name}: {other}"));
                continue;
            }
        };
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        let matches = found.len() == wanted.len()
            && found.iter().zip(wanted).all(|(found, want)| {
                found.path == path
                    && found.line == want.line
                    && found.field == want.field
                    && found.message.contains(&want.message)
            });
        if !matches {
            problems.push(format!("{name}: got\n  {}\nwant {wanted:?}", shown.join("\n  ")));
        }
        for shown in &shown {
            assert!(shown.starts_with(&format!("{}:", path.display())), "{shown}");
            if let Some(word) = JARGON.iter().find(|word| shown.contains(*word)) {
                problems.push(format!("{name}: `{word}` in {shown}"));
            }
        }
    }
    assert_eq!(seen, expected.len(), "every expected case has a file");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A directory's contracts are all read before anything is refused: every file's
/// problems come back at once (`expected.json`, no contract either, among them).
#[test]
fn every_broken_file_of_a_directory_is_reported_at_once() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-contracts"));
    let files = std::fs::read_dir(dir).expect("dir").count();
    match load_dir(dir) {
        Err(Error::InvalidContract { problems }) => {
            let named: std::collections::BTreeSet<_> = problems.iter().map(|problem| problem.path.clone()).collect();
            assert_eq!(named.len(), files, "{problems:#?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_shipped_contracts_load_and_cover_every_rule() {
    let contracts = ContractSource::Builtin.load().expect("the built-in contracts load");
    let on_disk =
        load_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts"))).expect("contracts/ loads");
    let names = |contracts: &[reportcheck_conformance::LoadedContract]| -> Vec<String> {
        contracts.iter().map(|loaded| loaded.contract.name.clone()).collect()
    };
    assert_eq!(names(&contracts), names(&on_disk), "the compiled-in set is contracts/");
    assert!(contracts.len() >= 20);
    let table = reportcheck_conformance::coverage(&contracts);
    let mut gaps = Vec::new();
    for (rule, coverage) in &table {
        if coverage.positive.is_empty() {
            gaps.push(format!("{rule}: no positive case"));
        }
        // Pure answer-shape rules are broken by servers, not requests: their negative
        // cases are the faults the mutation test proves caught (see ARCHITECTURE.md).
        let shape_only = matches!(rule, reportcheck_model::Rule::Sch1 | reportcheck_model::Rule::Sch3);
        let fault_counts = shape_only && !coverage.faults.is_empty();
        if coverage.negative.is_empty() && !fault_counts {
            gaps.push(format!("{rule}: no negative case"));
        }
        if coverage.faults.is_empty() {
            gaps.push(format!("{rule}: no fault proves the harness catches it"));
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}
