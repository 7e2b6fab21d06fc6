//! The command line without running checks: the CI examples' commands parse with the
//! CLI's own definitions; every flag is described and every command shows examples and
//! exit codes; a flag name means one thing; `reportcheck.toml` cases (a table: file,
//! arguments, what the parsed command or the error must show); YAML API descriptions.

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
    // A top-level key breaks no command: it applies where the flag means the same.
    ("baseline = \"known.json\"\n", &["conformance"], Ok("baseline: Some(\"known.json\")")),
    ("baseline = \"known.json\"\n", &["drift"], Ok("recording: None")),
    ("variations = true\n", &["serve"], Ok("variations: Some(Variations({")),
    ("variations = true\n", &["conformance"], Ok("variations: Some(Variations({")),
    ("variations = false\n", &["serve"], Ok("variations: None")),
    ("variations = \"token-type-case\"\n", &["serve"], Ok("variations: Some(Variations({TokenTypeCase})")),
    ("json = \"out.json\"\n", &["drift"], Ok("json: Some(\"out.json\")")),
    ("[record]\nout = \"recorded\"\n", &["baseline", "--from", "r.json"], Ok("out: None")),
    (
        "out = \"recorded\"\n",
        &["record"],
        Err(
            "top-level key `out` means different things in different commands (--out <DIR> in man, record; --out <FILE> in baseline): put it under",
        ),
    ),
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

/// Every command and subcommand, depth first.
fn commands(command: &clap::Command) -> Vec<&clap::Command> {
    std::iter::once(command).chain(command.get_subcommands().flat_map(commands)).collect()
}

/// `--help` describes every flag and argument, and every command ends with examples and
/// its exit codes.
#[test]
fn every_flag_is_described_and_every_command_has_examples_and_exit_codes() {
    let cli = <Cli as clap::CommandFactory>::command();
    let mut missing = Vec::new();
    for command in commands(&cli).into_iter().filter(|command| command.get_name() != "help") {
        for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
            if arg.get_help().is_none_or(|help| help.to_string().trim().is_empty()) {
                missing.push(format!("{} --{}: no description", command.get_name(), arg.get_id()));
            }
        }
        let after = command.get_after_help().map(ToString::to_string).unwrap_or_default();
        if !after.contains("Examples:") || !after.contains("Exit codes") {
            missing.push(format!("{}: no examples or exit codes after --help", command.get_name()));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Every example of every `--help` parses, so an example cannot show a flag that is gone
/// or a combination that is refused.
#[test]
fn the_help_examples_parse() {
    let cli = <Cli as clap::CommandFactory>::command();
    let mut broken = Vec::new();
    let mut seen = 0;
    for command in commands(&cli) {
        let after = command.get_after_help().map(ToString::to_string).unwrap_or_default();
        // Continued lines joined; a comment, a redirection or a pipe ends a command.
        let joined = after.replace("\\\n", " ");
        for line in joined.lines().map(str::trim).filter(|line| line.starts_with("reportcheck ")) {
            let line = [" #", " > ", " | "].iter().fold(line, |line, end| line.split(end).next().unwrap_or(line));
            for example in line.split("; ") {
                seen += 1;
                let words = example.split_whitespace().map(|word| word.trim_matches('"'));
                match Cli::try_parse_from(words) {
                    Err(err) if err.kind() != clap::error::ErrorKind::DisplayHelp => {
                        broken.push(format!("`{example}` ({}): {err}", command.get_name()));
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(seen > 20, "{seen} examples");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// A long flag that several commands have takes the same kind of value in each, so a
/// top-level key of reportcheck.toml means one thing; `out` alone is where a command's
/// output goes, a file or a directory by command (the configuration refuses it at the
/// top level, a case above).
#[test]
fn a_flag_name_means_the_same_in_every_command() {
    use std::collections::{BTreeMap, BTreeSet};
    let cli = <Cli as clap::CommandFactory>::command();
    let mut meanings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for command in cli.get_subcommands() {
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            let values: Vec<String> = arg.get_value_names().into_iter().flatten().map(ToString::to_string).collect();
            let meaning = format!("{values:?} {:?} {}", arg.get_num_args(), arg.get_action().takes_values());
            meanings.entry(long.to_owned()).or_default().insert(meaning);
        }
    }
    let differing: Vec<&str> =
        meanings.iter().filter(|(_, meanings)| meanings.len() > 1).map(|(long, _)| long.as_str()).collect();
    assert_eq!(differing, ["out"], "{meanings:#?}");
}

/// An API description in YAML reads as the same document as its JSON form, with or
/// without the suffix, response codes written as numbers included.
#[test]
fn yaml_api_descriptions_are_read() {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../../../spec/openapi.json")).expect("the spec is JSON");
    let dir = std::env::temp_dir().join(format!("reportcheck-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let yaml = serde_norway::to_string(&json).expect("YAML");
    for name in ["openapi.yaml", "openapi-next"] {
        std::fs::write(dir.join(name), &yaml).expect("write");
        let read = reportcheck::drift::read_document(&dir.join(name)).expect("read as YAML");
        assert_eq!(read, json, "{name}");
        assert_eq!(reportcheck_conformance::drift::diff_specs(&json, &read), Vec::new());
    }
    std::fs::write(
        dir.join("numbers.yml"),
        "paths:\n  /x:\n    get:\n      responses:\n        200:\n          description: ok\n",
    )
    .expect("write");
    let read = reportcheck::drift::read_document(&dir.join("numbers.yml")).expect("read");
    assert!(read.pointer("/paths/~1x/get/responses/200").is_some(), "{read}");
    std::fs::write(dir.join("broken.json"), "[1, 2").expect("write");
    let err = reportcheck::drift::read_document(&dir.join("broken.json")).expect_err("neither");
    assert!(err.to_string().contains("neither JSON"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
