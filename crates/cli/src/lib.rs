//! The `reportcheck` command line: `conformance`, `serve`, `proxy`, `record`, `drift`
//! and `baseline`. The installed binary and `cargo xtask` run the same code: [`Command`] is
//! flattened into xtask's own subcommands, and [`parse`] reads `reportcheck.toml`.

pub mod baseline;
pub mod config;
pub mod conformance;
pub mod drift;
mod error;
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
#[command(name = "reportcheck", about = "reportcheck: conformance of the usage reports API", version)]
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
