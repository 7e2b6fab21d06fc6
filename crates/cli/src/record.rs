//! `reportcheck record`: a live server's answers to the standard scenarios, written as
//! contracts that replay against any conformant server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reportcheck_conformance::record::{RecordOptions, record};

use crate::Error;
use crate::target::{ContractsArgs, TargetArgs};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck record --out recorded/                       # the embedded reference server
  reportcheck record --base-url \"$BASE\" --client-id \"$ID\" --out recorded/   # REPORTCHECK_CLIENT_SECRET set
  reportcheck conformance --contracts recorded/            # replay them
  reportcheck drift --recording recorded/ --base-url \"$BASE\" --client-id \"$ID\"

Exit codes:
  0    recorded; the files are listed
  2    nothing was written: bad flags, a non-empty --out without --force, an unreachable
       server, or a credential that would have been written
  130  interrupted by SIGINT (143: SIGTERM); what the run created is deleted")]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    contracts: ContractsArgs,
    /// The directory to write the recorded contracts to, one per scenario; created if
    /// absent, refused if it holds anything (see --force).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write into an --out directory that holds files already: the contracts of the same
    /// names are replaced, other files stay.
    #[arg(long)]
    force: bool,
    /// A tenant below the first client's, for the `subtree` scenario.
    #[arg(long, value_name = "ID", env = "REPORTCHECK_CHILD_TENANT")]
    child_tenant: Option<reportcheck_model::Id>,
}

/// `program` is how the user called the tool, for the command it suggests.
pub fn run(args: Args, program: &str) -> Result<ExitCode, Error> {
    if !args.force {
        refuse_to_overwrite(&args.out)?;
    }
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

/// An `--out` that is a file, or a directory holding anything, is refused before any
/// request: a recording would replace contracts someone may have edited.
fn refuse_to_overwrite(out: &Path) -> Result<(), Error> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!("--out {} is a file, not a directory", out.display())));
    }
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries.count(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(Error::file("read --out", out, source)),
    };
    if entries > 0 {
        return Err(Error::Usage(format!(
            "--out {} is not empty ({entries} entries): choose an empty directory, or pass --force to replace \
             the contracts of the same names",
            out.display()
        )));
    }
    Ok(())
}
