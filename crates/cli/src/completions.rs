//! `reportcheck completions SHELL`: a shell completion script for the installed command,
//! on standard output.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::Error;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck completions bash > ~/.local/share/bash-completion/completions/reportcheck
  reportcheck completions zsh > \"${fpath[1]}/_reportcheck\"
  reportcheck completions fish > ~/.config/fish/completions/reportcheck.fish

Exit codes:
  0    the script was written
  2    a bad flag, or standard output could not be written")]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "reportcheck", &mut script);
    crate::write_stdout(&script)?;
    Ok(ExitCode::SUCCESS)
}
