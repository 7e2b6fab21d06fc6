//! `reportcheck conformance`: the CI gate. Exit 0 when checks ran and every selected
//! one passed, 1 when any failed, 2 when the run could not be made (nothing selected or
//! checked included), 130/143 when interrupted by SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use reportcheck_conformance::{ProfileMode, RunControl, RunOptions, RunReport};
use reportcheck_server::Fault;

use crate::Error;
use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck conformance                                  # the embedded reference server
  reportcheck conformance --base-url https://eu2-cloud.example.com/api/2 --client-id \"$ID\" \\
      --second-client-id \"$ID2\" --seed 1 --junit reports/junit.xml --html reports/report.html
                           # secrets in REPORTCHECK_CLIENT_SECRET and REPORTCHECK_SECOND_CLIENT_SECRET
  reportcheck conformance --seed 1234 --filter UPD-7       # rerun a failure printed with seed 1234
  reportcheck conformance --baseline baseline.json         # accept the known failures, fail on new ones
  reportcheck conformance --explain UPD-6                  # what a rule's checks hold a server to

Exit codes:
  0    every selected check passed (warnings under --profile documented, known failures
       of --baseline allowed)
  1    a check failed (or was skipped, with --fail-on-skip; or a class was not reached,
       with --fail-on-uncovered)
  2    the run could not be made: bad flags, an empty secret, a --filter that selects
       nothing, unwritable outputs, an unreachable server, refused credentials, nothing
       checked, or --timeout reached; the reason is on standard error
  130  interrupted by SIGINT (143: SIGTERM); the reports the run created are deleted")]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// Only checks of rules starting with this (UPD, UPD-2) or contracts whose name holds it.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Leave out checks of rules starting with this, or contracts whose name holds it
    /// (repeatable; wins over --filter).
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Stop at the first failed check.
    #[arg(long)]
    fail_fast: bool,
    /// Generated sequences for the property tests (0 skips them).
    #[arg(long, value_name = "N", default_value_t = 48)]
    cases: u32,
    /// Seed of the property tests (random without it; printed with every failure): the
    /// same seed gives the same sequences and counterexamples, with or without --filter.
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// A tenant below the first client's: creates, reads and lists on the subtree are
    /// checked too (CRT-6, GET-1, LST-1); without it those checks are skipped. The
    /// embedded server's fixture has one.
    #[arg(long, value_name = "ID", env = "REPORTCHECK_CHILD_TENANT")]
    child_tenant: Option<reportcheck_model::Id>,
    /// Candidates one failing property rule's shrinking may send (speculative ones
    /// included); past it, the counterexample is reported as smaller, not minimal.
    #[arg(long, value_name = "N", default_value_t = reportcheck_conformance::property::DEFAULT_SHRINK_BUDGET)]
    shrink_budget: u32,
    /// `strict` fails on documented and profile rules; `documented` warns on profile rules.
    #[arg(long, value_name = "PROFILE", value_enum, default_value_t = Profile::Strict)]
    profile: Profile,
    /// Also write a JUnit XML report here (parent directories are created).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the machine-readable result here (spec/result.schema.json).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Known failures (a file `reportcheck baseline` wrote): they are accepted, a new
    /// failure fails the run, a fixed one is reported so the file can shrink.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Print which contracts and built-in checks cover each rule, and stop.
    #[arg(long)]
    coverage: bool,
    /// Mock mode: also mount every recorded answer on a wiremock server and check that
    /// the typed client reads each one as it should.
    #[arg(long)]
    mock: bool,
    /// Caps how long a contract step polls for stored reports, in milliseconds.
    #[arg(long, value_name = "MS")]
    max_poll_ms: Option<u64>,
    /// List the fault names and stop.
    #[arg(long)]
    list_faults: bool,
    /// List the mutants generated from the decider's claims (each a claim negated under
    /// one class of the class map, for `--mutant`) and stop.
    #[arg(long)]
    list_mutants: bool,
    /// Print what the checks of a rule hold a server to (the places it pins, the
    /// readings where another outcome is as conformant), and stop.
    #[arg(long, value_name = "RULE")]
    explain: Option<reportcheck_model::Rule>,
    /// Skipped checks fail the run (exit 1).
    #[arg(long)]
    fail_on_skip: bool,
    /// A class of the class map the run could reach and did not (a filter, a server
    /// refusing the create a class needs) fails the run (exit 1).
    #[arg(long)]
    fail_on_uncovered: bool,
    /// Seconds one request may take (token requests included) before the server counts
    /// as not answering.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// Bytes of one response body read at most; a larger one is a finding under its rule
    /// (the rest is not read, so memory stays bounded).
    #[arg(long, value_name = "BYTES", default_value_t = reportcheck_client::DEFAULT_MAX_RESPONSE_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    max_response_bytes: usize,
    /// Seconds the whole run may take; then it stops, deletes what it created, and exits 2.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Requests in flight at most; independent contracts, property sequences and the
    /// parallel-update check run side by side up to it.
    #[arg(long, value_name = "N", default_value_t = reportcheck_conformance::DEFAULT_CONCURRENCY, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..4096))]
    concurrency: usize,
    /// Requests started per second at most, to go gently on a production server.
    #[arg(long, value_name = "RATE", value_parser = positive_rate)]
    rps: Option<f64>,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("`{text}` is not a positive number of requests per second")),
    }
}

/// `--list-faults`: one line per fault, its name, rule, class and what it does wrong.
pub(crate) fn fault_table() -> String {
    Fault::ALL
        .iter()
        .map(|fault| {
            format!("{:<32} {:<7} {:<15} {}\n", fault.name(), fault.rule().id(), fault.class(), fault.description())
        })
        .collect()
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Profile {
    Strict,
    Documented,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    if args.list_faults {
        crate::write_stdout(fault_table().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_mutants {
        let lines: String = reportcheck_server::Mutant::all().iter().map(|mutant| format!("{mutant}\n")).collect();
        crate::write_stdout(lines.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(rule) = args.explain {
        crate::write_stdout(reportcheck_model::claim::explain(rule).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.coverage {
        let contracts = args.contracts.source().load()?;
        let table = reportcheck_conformance::coverage_text(&reportcheck_conformance::coverage(&contracts));
        crate::write_stdout(table.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let target = args.target.target()?;
    let baseline = args.baseline.as_deref().map(crate::baseline::read).transpose()?;
    for (flag, path) in [("--junit", &args.junit), ("--json", &args.json), ("--html", &args.html)] {
        if let Some(path) = path {
            writable(path).map_err(|source| Error::file(format!("write {flag}"), path, source))?;
        }
    }
    let source = args.contracts.source();
    let contracts = source.load()?;
    if contracts.is_empty() {
        return Err(Error::Usage(format!("{source} holds no contract (*.json): is --contracts the right directory?")));
    }
    if let Some(filter) = &args.filter {
        let rule = reportcheck_model::Rule::ALL.iter().any(|rule| rule.id().starts_with(&filter.to_ascii_uppercase()));
        if !rule && !contracts.iter().any(|contract| contract.contract.name.contains(filter.as_str())) {
            return Err(Error::Usage(format!(
                "nothing selected: --filter {filter} matches no rule ID prefix and no contract name"
            )));
        }
    }
    // A reader that stops reading (`| head`) stops no run: its outputs are still written.
    let stdout_lines: reportcheck_conformance::control::LineSink =
        Arc::new(|line: &str| drop(crate::write_stdout(format!("{line}\n").as_bytes())));
    let control = RunControl::default().with_lines(stdout_lines);
    let client = args.target.client_options(reportcheck_client::ClientOptions {
        request_timeout: Some(Duration::from_secs(args.request_timeout)),
        connect_timeout: Some(Duration::from_secs(args.request_timeout)),
        max_response_bytes: args.max_response_bytes,
        ..reportcheck_client::ClientOptions::default()
    })?;
    let options = RunOptions {
        contracts: source,
        filter: args.filter,
        exclude: args.exclude,
        fail_fast: args.fail_fast,
        cases: args.cases,
        seed: args.seed,
        child_tenant: args.child_tenant,
        shrink_budget: args.shrink_budget,
        fail_on_uncovered: args.fail_on_uncovered,
        profile: match args.profile {
            Profile::Strict => ProfileMode::Strict,
            Profile::Documented => ProfileMode::Documented,
        },
        progress: true,
        mock: args.mock,
        max_poll: args.max_poll_ms.map(Duration::from_millis),
        client,
        control: control.clone(),
        concurrency: args.concurrency,
        rps: args.rps,
        baseline,
        ..RunOptions::new(target)
    };
    let runtime = crate::runtime()?;
    let signalled = Arc::new(AtomicU8::new(0));
    runtime.spawn(crate::signals::on_signals(control.clone(), Arc::clone(&signalled)));
    runtime.spawn(crate::signals::on_timeout(control.clone(), Duration::from_secs(args.timeout)));
    let started_at = std::time::SystemTime::now();
    let profile = options.profile;
    let target_name = args.target.base_url.clone().unwrap_or_else(|| "the embedded reference server".to_owned());
    let outputs = Outputs { junit: args.junit.clone(), json: args.json.clone(), html: args.html.clone() };
    let report = match runtime.block_on(reportcheck_conformance::run(options)) {
        Ok(report) => report,
        Err(err) => {
            // Every output tells the truth about this run, whatever stopped it: a stale
            // file of an earlier run is never left behind.
            let aborted = RunReport::aborted(&target_name, profile, started_at, &err.to_string());
            outputs.write(&aborted, &contracts);
            runtime.shutdown_background();
            // A signal while connecting: the same exit as a signal mid-run.
            return crate::signals::interrupted(err, &signalled);
        }
    };
    drop(crate::write_stdout(report.details().as_bytes()));
    let mut code = verdict(&report, args.fail_on_skip, signalled.load(Ordering::SeqCst));
    if !outputs.write(&report, &contracts) {
        code = code.max(2);
    }
    runtime.shutdown_background();
    Ok(ExitCode::from(code))
}

/// The files a run writes besides its output (`--junit`, `--json`, `--html`).
struct Outputs {
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
    html: Option<PathBuf>,
}

impl Outputs {
    /// Writes each file asked for; `false` if one could not be written (said on stderr).
    fn write(&self, report: &RunReport, contracts: &[reportcheck_conformance::contract::LoadedContract]) -> bool {
        let json = serde_json::to_string_pretty(report).unwrap_or_default();
        let html = self
            .html
            .as_ref()
            .map(|_| reportcheck_conformance::html::render(report, &reportcheck_conformance::coverage(contracts)));
        let mut written = true;
        for (path, text) in [(&self.junit, Some(report.junit())), (&self.json, Some(json)), (&self.html, html)] {
            let (Some(path), Some(text)) = (path, text) else { continue };
            if let Err(err) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {err}", path.display());
                written = false;
            }
        }
        written
    }
}

/// The exit code of a finished (or stopped) run; says why on standard error when not 0.
fn verdict(report: &RunReport, fail_on_skip: bool, signalled: u8) -> u8 {
    let totals = report.totals();
    if signalled != 0 {
        eprintln!("interrupted: {}", report.stopped.as_deref().unwrap_or("by a signal"));
        return signalled;
    }
    if let Some(reason) = &report.stopped {
        eprintln!("error: the run was stopped: {reason}");
        return 2;
    }
    if totals.checks == 0 {
        eprintln!("error: nothing was checked: no check was selected");
        return 2;
    }
    if totals.blocking > 0 {
        return 1;
    }
    if totals.passed == 0 && totals.warnings == 0 && totals.known == 0 {
        eprintln!("error: nothing was checked: all {} selected checks were skipped (reasons above)", totals.skipped);
        return 2;
    }
    if fail_on_skip && totals.skipped > 0 {
        eprintln!("error: {} checks were skipped (--fail-on-skip)", totals.skipped);
        return 1;
    }
    if let Some(classes) = report.classes.as_ref().filter(|classes| classes.fails()) {
        eprintln!(
            "error: {} of {} reachable classes were not reached (--fail-on-uncovered)",
            classes.reachable - classes.reached,
            classes.reachable
        );
        return 1;
    }
    0
}

/// Creates the parent directories and checks the file can be written, before the run;
/// it is emptied, so that a run killed before it writes leaves no earlier run's result.
fn writable(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
    Ok(())
}
