//! `cargo xtask record`: a live server's answers to the standard scenarios, written as
//! contracts that replay against any conformant server.

use std::path::PathBuf;
use std::process::ExitCode;

use reportcheck_conformance::record::{RecordOptions, record};

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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = RecordOptions {
        target: args.target.target()?,
        contracts: args.contracts.contracts,
        out: args.out.clone(),
        client: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
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
    println!("replay them with: cargo xtask conformance --contracts {} [--base-url ...]", args.out.display());
    Ok(ExitCode::SUCCESS)
}
