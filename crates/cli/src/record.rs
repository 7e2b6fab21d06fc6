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
    /// A tenant below the first client's, for the `subtree` scenario.
    #[arg(long, value_name = "ID")]
    child_tenant: Option<reportcheck_model::Id>,
}

/// `program` is how the user called the tool, for the command it suggests.
pub fn run(args: Args, program: &str) -> Result<ExitCode, Error> {
    let control = reportcheck_conformance::RunControl::default();
    let options = RecordOptions {
        target: args.target.target()?,
        contracts: args.contracts.source(),
        out: args.out.clone(),
        client: args.target.client_options(Default::default())?,
        control: control.clone(),
        child_tenant: args.child_tenant,
    };
    let runtime = crate::runtime()?;
    // A signal stops the recording like a conformance run: what it created is deleted.
    let signalled = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0));
    runtime.spawn(crate::signals::on_signals(control, std::sync::Arc::clone(&signalled)));
    let summary = match runtime.block_on(record(options)) {
        Ok(summary) => summary,
        Err(err) => return crate::signals::interrupted(err, &signalled),
    };
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
