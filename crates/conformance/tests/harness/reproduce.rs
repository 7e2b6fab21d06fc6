//! Reproduction that reproduces, one fault per row: the replayable contract printed for
//! a property failure passes the reference server and fails the server it was found on,
//! under the failing rule; and the seed it names, with a filter on that rule, finds the
//! same failure again.

use reportcheck_conformance::{Outcome, RunOptions, RunReport, Source};
use reportcheck_model::Rule;
use reportcheck_server::{Config, Fault};

use crate::support::*;

/// (fault, the rule its property failure is filed under).
const CASES: &[(Fault, Rule)] = &[
    (Fault::NoVersionBump, Rule::Upd7),
    (Fault::ToggleKeepsVersion, Rule::Upd7),
    (Fault::ListOmitsDisabled, Rule::Lst1),
    (Fault::UpdateFormats, Rule::Upd2),
];

fn faulty(fault: Fault) -> Config {
    Config { faults: [fault].into(), ..config() }
}

/// The replayable contract of each property failure of `rule`, by check name.
fn replays(report: &RunReport, rule: Rule) -> Vec<(String, String)> {
    report
        .checks
        .iter()
        .filter(|check| check.rule == rule && check.source == Source::Property)
        .filter_map(|check| match &check.outcome {
            Outcome::Failed(failure) => {
                let text = failure.replay.as_deref()?;
                let start = text.find('{')?;
                let end = text.find("\n\ncurl commands")?;
                Some((check.name.clone(), text[start..end].to_owned()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_contracts_and_seeds_reproduce_property_failures() {
    let dir = std::env::temp_dir().join(format!("reportcheck-reproduce-{}", std::process::id()));
    let empty = dir.join("none");
    std::fs::create_dir_all(&empty).expect("dir");
    let mut wrong = Vec::new();
    for &(fault, rule) in CASES {
        let found = run(RunOptions { contracts: empty.clone().into(), ..options(faulty(fault)) }).await;
        let printed = replays(&found, rule);
        if printed.is_empty() {
            wrong.push(format!("{fault}: no property failure under {rule}:\n{}", found.summary()));
            continue;
        }
        for (index, (name, contract)) in printed.iter().enumerate() {
            let replay = dir.join(format!("{fault}-{index}"));
            std::fs::create_dir_all(&replay).expect("dir");
            std::fs::write(replay.join("minimal.json"), contract).expect("write");
            let replayed = |config: Config| {
                let contracts = replay.clone().into();
                run(RunOptions { contracts, cases: 0, ..options(config) })
            };
            let reference = replayed(config()).await;
            if reference.blocking_failures() > 0 {
                wrong
                    .push(format!("{fault} ({name}): the replay fails the reference server:\n{}", reference.summary()));
            }
            let again = replayed(faulty(fault)).await;
            if !again.checks.iter().any(|check| check.is_failed() && check.rule == rule) {
                wrong.push(format!(
                    "{fault} ({name}): the replay passes the faulty server under {rule}:\n{}",
                    again.summary()
                ));
            }
        }
        // The seed the failure names, with a filter on its rule: the same counterexample.
        let filtered = run(RunOptions {
            contracts: empty.clone().into(),
            filter: Some(rule.id().to_owned()),
            ..options(faulty(fault))
        })
        .await;
        let refound = replays(&filtered, rule);
        if refound.iter().map(|(_, contract)| contract).collect::<Vec<_>>()
            != printed.iter().map(|(_, contract)| contract).collect::<Vec<_>>()
        {
            wrong.push(format!(
                "{fault}: --seed 7 --filter {rule} found {:?}, not {:?}",
                refound.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                printed.iter().map(|(name, _)| name).collect::<Vec<_>>()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
