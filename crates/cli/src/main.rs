//! `reportcheck`: the installable command line.

fn main() -> std::process::ExitCode {
    let result =
        reportcheck::parse::<reportcheck::Cli>(std::env::args_os()).and_then(|cli| cli.command.run("reportcheck"));
    reportcheck::finish(result)
}
