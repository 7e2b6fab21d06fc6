//! Data-driven: every file in `tests/bad-contracts/` is a broken contract, and
//! `expected.json` says which line, field and message the loader must report.

use std::collections::BTreeMap;
use std::path::Path;

use reportcheck_conformance::ContractSource;
use reportcheck_conformance::Error;
use reportcheck_conformance::contract::{format_validator, load_dir, parse};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    line: usize,
    field: String,
    message: String,
}

#[test]
fn broken_contracts_are_reported_with_file_line_and_field() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-contracts"));
    let expected: BTreeMap<String, Expected> =
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
        let Some(want) = expected.get(&name) else {
            problems.push(format!("{name}: no entry in expected.json"));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read");
        match parse(&path, &text, &validator) {
            Ok(_) => problems.push(format!("{name}: loaded without error")),
            Err(Error::InvalidContract { path: reported, line, field, message }) => {
                let shown = format!(
                    "{}",
                    Error::InvalidContract {
                        path: reported.clone(),
                        line,
                        field: field.clone(),
                        message: message.clone()
                    }
                );
                if reported != path || line != want.line || field != want.field || !message.contains(&want.message) {
                    problems.push(format!(
                        "{name}: got `{shown}`, want line {} field {} message containing {:?}",
                        want.line, want.field, want.message
                    ));
                }
                assert!(shown.starts_with(&format!("{}:{line}: ", path.display())), "{shown}");
            }
            Err(other) => problems.push(format!("{name}: {other}")),
        }
    }
    assert_eq!(seen, expected.len(), "every expected case has a file");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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
