//! `cargo xtask <command>`: the project's entry points.

mod bench;
mod conformance;
mod drift;
mod record;
mod serve;
mod target;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "reportcheck: conformance of the usage reports API", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// Measure the reference server (release build): requests per second and memory.
    Bench(bench::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance(args) => conformance::run(*args),
        Command::Drift(args) => drift::run(*args),
        Command::Record(args) => record::run(*args),
        Command::Serve(args) => serve::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
