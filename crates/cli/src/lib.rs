//! The `reportcheck` command line: `conformance`, `serve`, `proxy`, `record`, `drift`,
//! `baseline`, `completions` and `man`. The installed binary and `cargo xtask` run the
//! same code: [`Command`] is flattened into xtask's own subcommands, and [`parse`] reads
//! `reportcheck.toml`.

pub mod baseline;
mod completions;
pub mod config;
pub mod conformance;
pub mod drift;
mod error;
mod man;
pub mod proxy;
pub mod record;
pub mod serve;
mod signals;
pub mod target;

use std::process::ExitCode;

pub use config::parse;
pub use error::Error;

/// `reportcheck`'s command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "reportcheck",
    about = "reportcheck: conformance of the usage reports API",
    version,
    after_help = "\
Examples:
  reportcheck conformance                  # check the embedded reference server, rule by rule
  reportcheck conformance --base-url \"$BASE\" --client-id \"$ID\"   # REPORTCHECK_CLIENT_SECRET set
  reportcheck serve --port 8080            # the reference server, to develop a client against
  reportcheck help conformance             # every flag of a command, its examples and exit codes

Configuration: ./reportcheck.toml (or --config PATH) holds defaults for the long flags:
top-level keys for every command that has the flag, [conformance], [serve], ... tables
for one command. Flags and REPORTCHECK_* variables win over it.

Exit codes: 0 success, 1 checks failed or breaking drift, 2 the command could not be
made (the reason on standard error), 130/143 interrupted by SIGINT/SIGTERM."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: config::ConfigArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a server against PROFILE.md, rule by rule (the embedded reference server
    /// by default).
    Conformance(Box<conformance::Args>),
    /// Breaking and non-breaking drift of a server's answers, or between two API
    /// descriptions.
    Drift(Box<drift::Args>),
    /// Run the standard scenarios against a server and write its answers as contracts.
    Record(Box<record::Args>),
    /// Run the reference server until interrupted.
    Serve(serve::Args),
    /// Forward any client's traffic to a server unchanged and judge it by rule, the
    /// client's side and the server's apart.
    Proxy(Box<proxy::Args>),
    /// Write a baseline of known failures from a run's `--json` result.
    Baseline(baseline::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page, or write one per command into a directory.
    Man(man::Args),
}

impl Command {
    /// Runs the command; `Err` is exit code 2.
    pub fn run(self, program: &str) -> Result<ExitCode, Error> {
        match self {
            Command::Conformance(args) => conformance::run(*args),
            Command::Drift(args) => drift::run(*args),
            Command::Record(args) => record::run(*args, program),
            Command::Serve(args) => serve::run(args),
            Command::Proxy(args) => proxy::run(*args),
            Command::Baseline(args) => baseline::run(args),
            Command::Completions(args) => completions::run(args),
            Command::Man(args) => man::run(args),
        }
    }
}

/// The exit code of a command's result, printing the reason for 2 on standard error.
pub fn finish(result: Result<ExitCode, Error>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(Error::Clap(err)) => err.exit(),
        Err(err) => {
            eprintln!("error: {}", chain(&err));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, skipping causes its message already holds.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)
}

/// Writes `bytes` to standard output; a reader that closed the pipe early (`| head`) is
/// no error.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(bytes) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::file("write", "standard output", source)),
    }
}
