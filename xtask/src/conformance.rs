//! `cargo xtask conformance`: the CI gate. Exit 0 when every selected check passed, 1
//! when any failed, 2 when the run could not be made.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use reportcheck_conformance::{ProfileMode, RunOptions};
use reportcheck_server::Fault;

use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// Only checks of rules starting with this (UPD, UPD-2) or contracts whose name holds it.
    #[arg(long)]
    filter: Option<String>,
    /// Stop at the first failed check.
    #[arg(long)]
    fail_fast: bool,
    /// Generated sequences for the property tests (0 skips them).
    #[arg(long, default_value_t = 48)]
    cases: u32,
    /// Seed of the property tests, to rerun a failure.
    #[arg(long)]
    seed: Option<u64>,
    /// `strict` fails on documented and profile rules; `documented` warns on profile rules.
    #[arg(long, value_enum, default_value_t = Profile::Strict)]
    profile: Profile,
    /// Also write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write the machine-readable result here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Print which contracts and built-in checks cover each rule, and stop.
    #[arg(long)]
    coverage: bool,
    /// Mock mode: also mount every recorded answer on a wiremock server and check that
    /// the typed client reads each one as it should.
    #[arg(long)]
    mock: bool,
    /// Caps how long a contract step polls for stored reports, in milliseconds.
    #[arg(long)]
    max_poll_ms: Option<u64>,
    /// List the fault names and stop.
    #[arg(long)]
    list_faults: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Profile {
    Strict,
    Documented,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list_faults {
        for fault in Fault::ALL {
            println!("{:<32} {:<7} {:<15} {}", fault.name(), fault.rule().id(), fault.class(), fault.description());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.coverage {
        let contracts = reportcheck_conformance::contract::load_dir(&args.contracts.contracts)?;
        print!("{}", reportcheck_conformance::coverage_text(&reportcheck_conformance::coverage(&contracts)));
        return Ok(ExitCode::SUCCESS);
    }
    let target = args.target.target()?;
    let options = RunOptions {
        contracts: args.contracts.contracts,
        filter: args.filter,
        fail_fast: args.fail_fast,
        cases: args.cases,
        seed: args.seed,
        profile: match args.profile {
            Profile::Strict => ProfileMode::Strict,
            Profile::Documented => ProfileMode::Documented,
        },
        progress: true,
        mock: args.mock,
        max_poll: args.max_poll_ms.map(std::time::Duration::from_millis),
        ..RunOptions::new(target)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(reportcheck_conformance::run(options))?;
    print!("{}", report.summary());
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::from(report.exit_code()))
}
