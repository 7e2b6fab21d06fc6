//! `reportcheck record`: a live server's answers to the standard scenarios, written as
//! contracts that replay against any conformant server.

use std::path::PathBuf;
use std::process::ExitCode;

use reportcheck_conformance::record::{RecordOptions, record};

use crate::Error;
use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// Where to write the recorded contracts.
    #[arg(long)]
    out: PathBuf,
}

/// `program` is how the user called the tool, for the command it suggests.
pub fn run(args: Args, program: &str) -> Result<ExitCode, Error> {
    let options = RecordOptions {
        target: args.target.target()?,
        contracts: args.contracts.source(),
        out: args.out.clone(),
        client: args.target.client_options(Default::default())?,
    };
    let runtime = crate::runtime()?;
    let summary = runtime.block_on(record(options))?;
    println!(
        "recorded {} exchanges into {} contracts in {}",
        summary.exchanges,
        summary.written.len(),
        args.out.display()
    );
    for path in &summary.written {
        println!("  {}", path.display());
    }
    for skipped in &summary.skipped {
        println!("  skipped {skipped}");
    }
    println!("replay them with: {program} conformance --contracts {} [--base-url ...]", args.out.display());
    Ok(ExitCode::SUCCESS)
}
