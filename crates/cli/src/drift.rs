//! `reportcheck drift`: breaking and non-breaking departures of a server's answers, or of
//! a new API description, from what the project expects. Exit 0 with only non-breaking
//! drift, 1 with breaking drift, 2 when the run could not be made.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reportcheck_conformance::drift::{self, Compared};

use crate::Error;
use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck drift                                        # the embedded reference server
  reportcheck drift --fault no-generation-date               # a broken embedded server
  reportcheck drift --base-url \"$BASE\" --client-id \"$ID\" --json drift.json   # REPORTCHECK_CLIENT_SECRET set
  reportcheck drift --base-url \"$BASE\" --client-id \"$ID\" --recording recorded/
  reportcheck drift --spec spec/openapi.json --spec openapi-next.yaml

Exit codes:
  0    no breaking drift (non-breaking drift allowed)
  1    breaking drift
  2    the run could not be made (bad flags, an unreadable --spec, an unreachable server)
  130  interrupted by SIGINT (143: SIGTERM); what the run created is deleted")]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// Compare two API descriptions instead, JSON or YAML: `--spec OLD --spec NEW`.
    #[arg(long, value_name = "FILE", num_args = 1, conflicts_with = "base_url")]
    spec: Vec<PathBuf>,
    /// Compare with an earlier recording of the same server (a directory `reportcheck
    /// record` wrote) instead of the spec alone: free values answered otherwise, and
    /// recorded values that no longer hold, are reported too.
    #[arg(long, value_name = "DIR", conflicts_with = "spec")]
    recording: Option<PathBuf>,
    /// Also write the drift and its totals as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let (drifts, compared, against) = match args.spec.as_slice() {
        [] => {
            let target = args.target.target()?;
            let server = match &args.target.base_url {
                Some(url) => url.clone(),
                None => "the embedded reference server".to_owned(),
            };
            let against = match &args.recording {
                Some(dir) => format!("{server} since the recording in {}", dir.display()),
                None => format!("{server} against openapi.json and the model, beyond PROFILE.md's freedoms"),
            };
            let runtime = crate::runtime()?;
            let client = args.target.client_options(Default::default())?;
            // A signal stops the replay like a conformance run: what it created is deleted.
            let control = reportcheck_conformance::RunControl::default();
            let signalled = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0));
            runtime.spawn(crate::signals::on_signals(control.clone(), std::sync::Arc::clone(&signalled)));
            let (drifts, compared) = match runtime.block_on(drift::server_drift(
                &target,
                &args.contracts.source(),
                client,
                None,
                args.recording.as_deref(),
                control,
            )) {
                Ok(found) => found,
                Err(err) => return crate::signals::interrupted(err, &signalled),
            };
            (drifts, compared, against)
        }
        [old, new] => {
            let (old_spec, new_spec) = (read_document(old)?, read_document(new)?);
            let against = format!("{} from {}", new.display(), old.display());
            (drift::diff_specs(&old_spec, &new_spec), Compared::specs(&old_spec, &new_spec), against)
        }
        _ => return Err(Error::Usage("--spec takes exactly two files: --spec OLD --spec NEW".to_owned())),
    };
    crate::write_stdout(drift::text(&drifts, &against, compared).as_bytes())?;
    if let Some(path) = &args.json {
        let totals = drift::Totals::of(&drifts, compared);
        let json = serde_json::json!({"against": against, "totals": totals, "drift": drifts});
        std::fs::write(path, format!("{json:#}")).map_err(|source| Error::file("write", path, source))?;
    }
    Ok(ExitCode::from(drift::exit_code(&drifts)))
}

/// An API description as JSON: a `.yaml`/`.yml` file is read as YAML, any other as JSON,
/// and as YAML when it is no JSON (an OpenAPI document is often YAML without the suffix).
pub fn read_document(path: &Path) -> Result<serde_json::Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::file("read", path, source))?;
    let invalid = |message: String| Error::Json { path: path.to_owned(), message };
    let yaml = |text: &str| serde_norway::from_str::<serde_json::Value>(text);
    if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml")) {
        return yaml(&text).map_err(|err| invalid(format!("not YAML: {err}")));
    }
    serde_json::from_str(&text).or_else(|json| match yaml(&text) {
        // A scalar or a list is YAML too, but no API description.
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(invalid(format!("neither JSON ({json}) nor a YAML document"))),
    })
}
