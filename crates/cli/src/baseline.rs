//! Known failures: a run with `--baseline FILE` accepts them, fails on any other, and
//! names those that now pass so the file can shrink. The file is JSON:
//!
//! ```json
//! {"known_failures": [{"rule": "UPD-2", "check": "update-fixed-parameters: change the formats"}]}
//! ```
//!
//! `check` is the check's source and name as in JUnit (`source: name`, ids as `{id}`,
//! without the repeat number). `reportcheck baseline --from result.json` writes one from a
//! run's `--json` result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reportcheck_conformance::{Outcome, RunReport, Source};
use serde::{Deserialize, Serialize};

use crate::Error;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub known_failures: Vec<KnownFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub rule: String,
    pub check: String,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run's result (`reportcheck conformance --json FILE`).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Where to write the baseline; standard output without it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

impl Baseline {
    pub fn read(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::file("read --baseline", path, source))?;
        serde_json::from_str(&text).map_err(|err| Error::Json {
            path: path.to_owned(),
            message: format!("not a baseline ({{\"known_failures\": [{{\"rule\", \"check\"}}]}}): {err}"),
        })
    }

    /// The known failures in a run's `--json` result: every failed check.
    pub fn from_result(result: &serde_json::Value) -> Result<Baseline, String> {
        #[derive(Deserialize)]
        struct Check {
            rule: String,
            source: Source,
            name: String,
            status: String,
        }
        let checks: Vec<Check> = serde_json::from_value(result["checks"].clone())
            .map_err(|err| format!("not a `reportcheck conformance --json` result: {err}"))?;
        let known: BTreeSet<KnownFailure> = checks
            .into_iter()
            .filter(|check| check.status == "failed")
            .map(|check| KnownFailure {
                rule: check.rule,
                check: reportcheck_conformance::outcome::stable(&format!("{}: {}", check.source, check.name)),
            })
            .collect();
        Ok(Baseline { known_failures: known.into_iter().collect() })
    }

    /// Prints what the baseline accepts, what is new and what was fixed; returns how many
    /// blocking failures it accepts.
    pub fn apply(&self, report: &RunReport) -> usize {
        let known: BTreeSet<(&str, &str)> =
            self.known_failures.iter().map(|known| (known.rule.as_str(), known.check.as_str())).collect();
        // Per known failure seen in this run: whether it failed again.
        let mut seen: BTreeMap<(String, String), bool> = BTreeMap::new();
        let (mut accepted, mut new) = (0, 0);
        for check in &report.checks {
            let key = (check.rule.id().to_owned(), check.key());
            let failed = matches!(check.outcome, Outcome::Failed(_));
            if known.contains(&(key.0.as_str(), key.1.as_str())) {
                *seen.entry(key).or_default() |= failed;
                accepted += usize::from(failed && report.blocks(check.rule));
            } else if failed && report.blocks(check.rule) {
                new += 1;
            }
        }
        println!("baseline: {accepted} known failures accepted, {new} new");
        for ((rule, check), failed) in &seen {
            if !failed {
                println!("  fixed: {rule} {check} (passes now: remove it from the baseline)");
            }
        }
        accepted
    }
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let text = std::fs::read_to_string(&args.from).map_err(|source| Error::file("read --from", &args.from, source))?;
    let invalid = |message: String| Error::Json { path: args.from.clone(), message };
    let result: serde_json::Value = serde_json::from_str(&text).map_err(|err| invalid(format!("not JSON: {err}")))?;
    let baseline = Baseline::from_result(&result).map_err(invalid)?;
    let json = serde_json::to_string_pretty(&baseline).map_err(|err| invalid(err.to_string()))? + "\n";
    match &args.out {
        Some(path) => {
            std::fs::write(path, json).map_err(|source| Error::file("write --out", path, source))?;
            eprintln!("{} known failures written to {}", baseline.known_failures.len(), path.display());
        }
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
