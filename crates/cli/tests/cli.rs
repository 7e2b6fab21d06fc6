//! The command line without running checks: the CI examples' commands parse with the
//! CLI's own definitions; every flag is described and every command shows examples and
//! exit codes; a flag name means one thing; `reportcheck.toml` cases (a table: file,
//! arguments, what the parsed command or the error must show); YAML API descriptions.

use std::ffi::OsString;

use clap::Parser as _;
use reportcheck::Cli;

/// The CI examples, as YAML.
fn ci_examples() -> [(&'static str, serde_json::Value); 2] {
    let read = |text: &str| serde_norway::from_str::<serde_json::Value>(text).expect("the example is YAML");
    [
        ("github-actions.yml", read(include_str!("../../../docs/ci/github-actions.yml"))),
        ("gitlab-ci.yml", read(include_str!("../../../docs/ci/gitlab-ci.yml"))),
    ]
}

/// Every line of the scripts in `value`: GitHub's `run`, GitLab's `script`,
/// `before_script` and `after_script`.
fn script_lines(value: &serde_json::Value, lines: &mut Vec<String>) {
    fn strings(value: &serde_json::Value, lines: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) => lines.extend(text.lines().map(|line| line.trim().to_owned())),
            serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, lines)),
            _ => {}
        }
    }
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| script_lines(item, lines)),
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                if ["run", "script", "before_script", "after_script"].contains(&key.as_str()) {
                    strings(item, lines);
                } else {
                    script_lines(item, lines);
                }
            }
        }
        _ => {}
    }
}

/// Every `reportcheck ...` command of the CI examples parses with the CLI's own
/// definitions, so an example cannot rot; each runs the gate with a fixed seed, fails on
/// skips, applies the baseline and publishes JUnit.
#[test]
fn the_ci_example_commands_parse() {
    for (name, example) in ci_examples() {
        let mut lines = Vec::new();
        script_lines(&example, &mut lines);
        let commands: Vec<&str> = lines
            .iter()
            .flat_map(|line| line.split(" || ").flat_map(|part| part.split(" && ")))
            .filter_map(|part| part.trim().strip_prefix("reportcheck "))
            .collect();
        assert!(commands.len() >= 4, "{name} runs reportcheck: {commands:?}");
        for command in &commands {
            let command = [" > ", " &"].iter().fold(*command, |line, end| line.split(end).next().unwrap_or(line));
            let words = std::iter::once("reportcheck").chain(command.split_whitespace());
            if let Err(err) = Cli::try_parse_from(words) {
                panic!("{name}: `reportcheck {command}` does not parse: {err}");
            }
        }
        let gate =
            commands.iter().find(|command| command.contains("--seed 1")).unwrap_or_else(|| panic!("{name}: no gate"));
        for flag in ["--fail-on-skip", "--baseline", "--junit"] {
            assert!(gate.contains(flag), "{name}: the gate lacks {flag}");
        }
        assert!(commands.iter().any(|command| command.starts_with("baseline --from")), "{name}: no baseline written");
        assert!(
            lines.iter().any(|line| line.contains("--version \"$REPORTCHECK_VERSION\"")),
            "{name}: no pinned version"
        );
        let text = serde_json::to_string(&example).expect("JSON");
        assert!(!text.contains("OWNER"), "{name}: a placeholder URL");
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
    ("[serve]\nchaos = 0.25\nchaos-seed = 7\n", &["serve"], Ok("chaos: Some(0.25), chaos_seed: Some(7)")),
    ("fault = [\"recipients-on-save\"]\n", &["serve"], Ok("fault: [RecipientsOnSave]")),
    ("fault = [\"recipients-on-save\"]\n", &["conformance"], Ok("fault: [RecipientsOnSave]")),
    ("[serve]\nchaos = 1.5\n", &["serve"], Err("reportcheck.toml: line 2: key `chaos`: invalid value '1.5'")),
    ("[serve]\nlatency = \"9-3\"\n", &["serve"], Err("line 2: key `latency`: invalid value '9-3'")),
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

/// `serve` as a client maintainer's test server: its flags parse into what the server
/// runs with, are in `--help`, and refuse what they cannot mean with a reason (exit 2).
#[test]
fn the_serve_test_server_flags() {
    let parse = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("reportcheck").chain(["serve"]).chain(args.iter().copied()))
    };
    let parsed = parse(&[
        "--fault",
        "recipients-on-save",
        "--fault",
        "bom-500",
        "--chaos",
        "0.3",
        "--chaos-seed",
        "7",
        "--latency",
        "50-400",
        "--token-ttl",
        "30",
        "--log",
        "-",
    ])
    .expect("parses");
    let debug = format!("{:?}", parsed.command);
    for wanted in [
        "fault: [RecipientsOnSave, Bom500]",
        "chaos: Some(0.3)",
        "chaos_seed: Some(7)",
        "latency: Some(Latency { min: 50ms, max: 400ms })",
        "token_ttl: 30",
        "log: Some(\"-\")",
    ] {
        assert!(debug.contains(wanted), "{wanted} not in {debug}");
    }
    let refused: &[(&[&str], &str)] = &[
        (&["--fault", "no-such-fault"], "`reportcheck serve --list-faults` lists them"),
        (&["--chaos", "1.5"], "not a probability between 0 and 1"),
        (&["--chaos=-0.1"], "not a probability between 0 and 1"),
        (&["--latency", "400-50"], "`MIN-MAX`"),
        (&["--token-ttl", "soon"], "invalid value"),
        (&["--token-ttl", "99999999999"], "not in 0..=31536000"),
        (&["--chaos", "0.2", "--judge"], "cannot be used with"),
    ];
    for (args, reason) in refused {
        let err = parse(args).expect_err("refused");
        assert_eq!(err.exit_code(), 2, "{args:?}");
        assert!(err.to_string().contains(reason), "{args:?}: {err}");
    }
    let mut command = <Cli as clap::CommandFactory>::command();
    let serve = command.find_subcommand_mut("serve").expect("serve");
    let help = serve.render_long_help().to_string();
    for flag in [
        "--fault <NAME>",
        "--list-faults",
        "--chaos <P>",
        "--chaos-seed <SEED>",
        "--latency <MS>",
        "--token-ttl <SECONDS>",
        "--log <FILE>",
        "JSON Lines",
        "Retry-After",
    ] {
        assert!(help.contains(flag), "{flag} not in serve --help");
    }
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

/// Runs `steps` (shell snippets) one after the other in one bash (`-eo pipefail`, as
/// GitHub and GitLab run scripts), in a fresh directory,
/// with the reportcheck this crate builds first on PATH and no REPORTCHECK_* variable of
/// the caller's; GITHUB_ENV's lines reach the later steps, as on GitHub. The stand-in
/// server a step starts is stopped at the end.
fn run_steps(name: &str, steps: &[String]) -> (std::process::Output, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("reportcheck-example-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut script = String::from(
        "set -eo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\nexport GITHUB_ENV=\"$PWD/github-env\"\n: > \"$GITHUB_ENV\"\n",
    );
    for step in steps {
        script.push_str(step);
        script.push_str("\nset -a; . \"$GITHUB_ENV\"; set +a\n");
    }
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_reportcheck"));
    let path =
        format!("{}:{}", binary.parent().expect("a directory").display(), std::env::var("PATH").unwrap_or_default());
    let mut command = std::process::Command::new("bash");
    command.arg("-c").arg(&script).current_dir(&dir).env("PATH", path);
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("REPORTCHECK_")) {
        command.env_remove(key);
    }
    (command.output().expect("bash runs"), dir)
}

/// The gate of each CI example runs as written after its install step, against the
/// stand-in server: it passes with --fail-on-skip, applies the (empty) baseline it
/// creates, and leaves the JUnit, HTML and JSON reports and the baseline they would make.
#[test]
fn the_ci_examples_gates_run_as_written() {
    let [(_, github), (_, gitlab)] = ci_examples();
    let mut github_steps = Vec::new();
    for step in github["jobs"]["conformance"]["steps"].as_array().expect("steps") {
        let (Some(run), name) = (step["run"].as_str(), step["name"].as_str().unwrap_or_default()) else { continue };
        if name.starts_with("Install") || step["if"] == "matrix.run != 'gate'" {
            continue;
        }
        // The step's variables read the repository's settings first, else what the
        // stand-in wrote to GITHUB_ENV: with no settings, the environment as it is.
        for value in step["env"].as_object().into_iter().flatten().map(|(_, value)| value.as_str().unwrap_or_default())
        {
            assert!(value.starts_with("${{ vars.") || value.starts_with("${{ secrets."), "{name}: {value}");
            assert!(value.contains("|| env.REPORTCHECK_"), "{name}: {value}");
        }
        github_steps.push(run.to_owned());
    }
    let gitlab_job = &gitlab["reportcheck-gate"];
    assert_eq!(gitlab_job["extends"], ".reportcheck");
    let template = &gitlab[".reportcheck"];
    assert_eq!(template["artifacts"]["reports"]["junit"], "reports/junit.xml");
    assert!(template["cache"]["paths"].as_array().is_some_and(|paths| paths.iter().any(|path| path == ".cargo/bin/")));
    let gitlab_steps: Vec<String> = [&template["before_script"], &gitlab_job["script"], &template["after_script"]]
        .into_iter()
        .flat_map(|items| items.as_array().into_iter().flatten())
        .filter_map(|item| item.as_str())
        .filter(|item| !item.contains("cargo install"))
        .map(str::to_owned)
        .collect();
    for (name, steps) in [("github", github_steps), ("gitlab", gitlab_steps)] {
        let (output, dir) = run_steps(name, &steps);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: {:?}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains(" skipped (0 blocking, 0 known)") && stdout.contains(", 0 skipped "),
            "{name}: {stdout}"
        );
        for file in ["reports/junit.xml", "reports/report.html", "reports/result.json", "reports/baseline.json"] {
            assert!(dir.join(file).is_file(), "{name}: no {file}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
