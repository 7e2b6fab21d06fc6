//! `reportcheck man`: the manual pages, generated from the command line's own
//! definitions, so they say what `--help` says.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::Error;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck man | man -l -                               # read it now
  reportcheck man --out /usr/local/share/man/man1          # reportcheck.1, reportcheck-conformance.1, ...

Exit codes:
  0    written
  2    a bad flag, or a page could not be written")]
pub struct Args {
    /// Write one page per command (reportcheck.1, reportcheck-conformance.1, ...) into this
    /// directory instead of printing reportcheck.1.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let command = crate::Cli::command();
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::file("create --out", dir, source))?;
            clap_mangen::generate_to(command, dir).map_err(|source| Error::file("write pages into", dir, source))?;
            eprintln!("manual pages written to {}", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|source| Error::file("render", "reportcheck.1", source))?;
            crate::write_stdout(&page)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
