//! `cargo xtask <command>`: the project's entry points. `conformance`, `serve`, `record`
//! and `drift` are the installable `reportcheck` CLI's own code; `bench` lives here.

mod bench;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "reportcheck: conformance of the usage reports API", version)]
struct Cli {
    #[command(flatten)]
    config: reportcheck::config::ConfigArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Shared(reportcheck::Command),
    /// Measure the reference server (release build): requests per second and memory.
    Bench(bench::Args),
}

fn main() -> std::process::ExitCode {
    let cli = match reportcheck::parse::<Cli>(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => return reportcheck::finish(Err(err)),
    };
    match cli.command {
        Command::Shared(command) => reportcheck::finish(command.run("cargo xtask")),
        Command::Bench(args) => match bench::run(args) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("error: {err:#}");
                std::process::ExitCode::from(2)
            }
        },
    }
}
