//! `reportcheck drift`: breaking and non-breaking departures of a server's answers, or of
//! a new API description, from what the project expects. Exit 0 with only non-breaking
//! drift, 1 with breaking drift, 2 when the run could not be made.

use std::path::PathBuf;
use std::process::ExitCode;

use reportcheck_conformance::drift;

use crate::Error;
use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// Compare two API descriptions instead: `--spec OLD.json --spec NEW.json`.
    #[arg(long, num_args = 1, conflicts_with = "base_url")]
    spec: Vec<PathBuf>,
    /// Compare with an earlier recording of the same server (a directory `reportcheck
    /// record` wrote) instead of the spec alone: free values answered otherwise, and
    /// recorded values that no longer hold, are reported too.
    #[arg(long, conflicts_with = "spec")]
    baseline: Option<PathBuf>,
    /// Also write the drift as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let (drifts, against) = match args.spec.as_slice() {
        [] => {
            let target = args.target.target()?;
            let server = match &args.target.base_url {
                Some(url) => url.clone(),
                None => "the embedded reference server".to_owned(),
            };
            let against = match &args.baseline {
                Some(dir) => format!("{server} since the recording in {}", dir.display()),
                None => format!("{server} against openapi.json and the model, beyond PROFILE.md's freedoms"),
            };
            let runtime = crate::runtime()?;
            let client = args.target.client_options(Default::default())?;
            // A signal stops the replay like a conformance run: what it created is deleted.
            let control = reportcheck_conformance::RunControl::default();
            let signalled = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0));
            runtime.spawn(crate::signals::on_signals(control.clone(), std::sync::Arc::clone(&signalled)));
            let drifts = match runtime.block_on(drift::server_drift(
                &target,
                &args.contracts.source(),
                client,
                None,
                args.baseline.as_deref(),
                control,
            )) {
                Ok(drifts) => drifts,
                Err(err) => return crate::signals::interrupted(err, &signalled),
            };
            (drifts, against)
        }
        [old, new] => {
            let read = |path: &PathBuf| -> Result<serde_json::Value, Error> {
                let text = std::fs::read_to_string(path).map_err(|source| Error::file("read", path, source))?;
                serde_json::from_str(&text)
                    .map_err(|err| Error::Json { path: path.clone(), message: format!("not JSON: {err}") })
            };
            (drift::diff_specs(&read(old)?, &read(new)?), format!("{} from {}", new.display(), old.display()))
        }
        _ => return Err(Error::Usage("--spec takes exactly two files: --spec OLD.json --spec NEW.json".to_owned())),
    };
    print!("{}", drift::text(&drifts, &against));
    if let Some(path) = &args.json {
        let json = serde_json::json!({"against": against, "drift": drifts});
        std::fs::write(path, format!("{json:#}")).map_err(|source| Error::file("write", path, source))?;
    }
    Ok(ExitCode::from(drift::exit_code(&drifts)))
}
