//! `reportcheck baseline`: a baseline of known failures written from a run's `--json`
//! result, and reading one for `conformance --baseline FILE`. What a baseline does to a
//! run is the harness's (`reportcheck_conformance::baseline`): every output marks the
//! known failures, names the new ones and lists those that pass now.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reportcheck_conformance::Baseline;

use crate::Error;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck conformance --json result.json; reportcheck baseline --from result.json --out baseline.json
  reportcheck conformance --baseline baseline.json

Exit codes: 0 written, 2 the result could not be read or the baseline not written.")]
pub struct Args {
    /// A run's result (`reportcheck conformance --json FILE`).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Where to write the baseline; standard output without it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The baseline file of `conformance --baseline`.
pub fn read(path: &Path) -> Result<Baseline, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::file("read --baseline", path, source))?;
    Baseline::parse(&text).map_err(|err| Error::Json {
        path: path.to_owned(),
        message: format!("not a baseline ({{\"known_failures\": [{{\"rule\", \"check\"}}]}}): {err}"),
    })
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
