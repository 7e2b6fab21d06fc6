//! The command line without running checks: the CI example's commands parse with the
//! CLI's own definitions, and `reportcheck.toml` cases (a table: file, arguments, what
//! the parsed command or the error must show).

use std::ffi::OsString;

use clap::Parser as _;
use reportcheck::Cli;

/// Every `reportcheck ...` command of the CI example parses, so the example cannot rot.
#[test]
fn the_ci_example_commands_parse() {
    let workflow = include_str!("../../../docs/ci/reportcheck.yml");
    let commands: Vec<&str> = workflow
        .lines()
        .filter_map(|line| line.trim().trim_start_matches("run:").trim().strip_prefix("reportcheck "))
        .collect();
    assert!(commands.len() >= 2, "the example runs reportcheck: {commands:?}");
    for command in commands {
        let words = std::iter::once("reportcheck").chain(command.trim_end_matches('&').split_whitespace());
        if let Err(err) = Cli::try_parse_from(words) {
            panic!("`reportcheck {command}` does not parse: {err}");
        }
    }
}

/// (configuration file, arguments, `Ok` with text the parsed command's debug form holds
/// or `Err` with text of the error).
const CONFIG_CASES: &[(&str, &[&str], Result<&str, &str>)] = &[
    ("cases = 3\n", &["conformance"], Ok("cases: 3")),
    ("cases = 3\n", &["conformance", "--cases", "5"], Ok("cases: 5")),
    ("cases = 3\n[conformance]\ncases = 4\n", &["conformance"], Ok("cases: 4")),
    ("[conformance]\nexclude = [\"UPD\", \"SEC\"]\n", &["conformance"], Ok("exclude: [\"UPD\", \"SEC\"]")),
    ("[conformance]\nfail-fast = true\n", &["conformance"], Ok("fail_fast: true")),
    ("[conformance]\nfail-fast = false\n", &["conformance"], Ok("fail_fast: false")),
    ("port = 9000\n", &["serve"], Ok("port: 9000")),
    ("cases = 3\n", &["serve"], Ok("port: 8080")),
    ("[serve]\nhost = \"0.0.0.0\"\n", &["serve"], Ok("host: 0.0.0.0")),
    ("bogus = 1\n", &["conformance"], Err("reportcheck.toml: unknown key `bogus`")),
    ("[conformance]\nport = 1\n", &["conformance"], Err("unknown key `port` in [conformance]")),
    ("[deploy]\nx = 1\n", &["conformance"], Err("unknown table [deploy]")),
    ("[conformance]\nfail-fast = \"yes\"\n", &["conformance"], Err("`--fail-fast` is a switch")),
    ("cases = [\n", &["conformance"], Err("reportcheck.toml: line 1: not TOML")),
    ("# defaults\n[conformance]\ncases = 3 3\n", &["conformance"], Err("reportcheck.toml: line 3: not TOML")),
    (
        "[conformance]\ncases = \"many\"\n",
        &["conformance"],
        Err("reportcheck.toml: line 2: key `cases`: invalid value 'many'"),
    ),
];

#[test]
fn configuration_files() {
    let mut failures = Vec::new();
    for (file, args, wanted) in CONFIG_CASES {
        let argv: Vec<OsString> = std::iter::once("reportcheck").chain(args.iter().copied()).map(Into::into).collect();
        let parsed = reportcheck::config::parse_with_file::<Cli>(&argv, "reportcheck.toml".as_ref(), file)
            .map_err(|err| err.to_string());
        let ok = match (&parsed, wanted) {
            (Ok(cli), Ok(text)) => format!("{:?}", cli.command).contains(text),
            (Err(err), Err(text)) => err.contains(text),
            _ => false,
        };
        if !ok {
            failures.push(format!("{file:?} {args:?}: wanted {wanted:?}, got {parsed:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_baseline_is_written_from_a_result() {
    let result = serde_json::json!({"checks": [
        {"rule": "UPD-2", "source": {"kind": "contract", "name": "update-fixed-parameters"},
         "name": "change 1b4e28ba-2fa1-41d2-883f-0016d3cca427", "status": "failed"},
        {"rule": "UPD-1", "source": {"kind": "property"}, "name": "a generated sequence of 7 operations (minimal after shrinking)", "status": "failed"},
        {"rule": "SCH-1", "source": {"kind": "contract", "name": "stored-reports"}, "name": "every answer (12)", "status": "failed"},
        {"rule": "GET-1", "source": {"kind": "setup"}, "name": "whoami", "status": "passed"},
    ]});
    let baseline = reportcheck_conformance::Baseline::from_result(&result).expect("a result");
    let written = serde_json::to_value(&baseline).expect("JSON");
    assert_eq!(
        written,
        serde_json::json!({"known_failures": [
            {"rule": "UPD-1", "check": "property tests"},
            {"rule": "UPD-2", "check": "update-fixed-parameters: change {id}"},
            {"rule": "SCH-1", "check": "stored-reports: every answer"},
        ]})
    );
}
