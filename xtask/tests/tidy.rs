//! ARCHITECTURE.md's invariants as tests (after rust-analyzer's tidy tests): each scans
//! the tree for what would break one, allows it only in a reviewed list of files with the
//! reason, and names the invariant in its message, so whoever breaks it learns why.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_owned()
}

/// Every file below `dir` (relative to the root) whose name ends with `extension`.
fn files(dir: &str, extension: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root().join(dir)];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap_or_else(|err| panic!("{}: {err}", at.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == extension) {
                let text = std::fs::read_to_string(&path).expect("a text file");
                let relative = path.strip_prefix(root()).expect("below the root").display().to_string();
                found.push((relative, text));
            }
        }
    }
    found.sort();
    found
}

/// The `file:line` of every line holding one of `needles`, in files not on the `allowed`
/// list.
fn offenders(dirs: &[&str], extension: &str, needles: &[&str], allowed: &[(&str, &str)]) -> Vec<String> {
    let mut found = Vec::new();
    for dir in dirs {
        for (path, text) in files(dir, extension) {
            if allowed.iter().any(|(file, _reason)| path == *file) {
                continue;
            }
            for (index, line) in text.lines().enumerate() {
                if needles.iter().any(|needle| line.contains(needle)) {
                    found.push(format!("{path}:{}: {}", index + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_model_does_no_io() {
    let found = offenders(
        &["crates/model/src"],
        "rs",
        &["std::fs", "std::net", "std::io::", "tokio", "reqwest", "async fn"],
        &[],
    );
    assert!(
        found.is_empty(),
        "ARCHITECTURE.md, crates/model: \"the model does no I/O and has no async code\":\n{}",
        found.join("\n")
    );
}

/// Rules are decided in the model: a refusal (`Violation::…`), a claim and the codes the
/// profile pins are made there only.
#[test]
fn rules_are_decided_in_the_model() {
    let allowed = [(
        "crates/server/src/store.rs",
        "the faults: a deliberately broken server refuses what the model accepts, each wrapping a decision",
    )];
    let found = offenders(
        &["crates/server/src", "crates/conformance/src", "crates/cli/src", "crates/client/src", "xtask/src"],
        "rs",
        &["Violation::", "Claim::body(", "Claim {", "Prediction {", "fn pinned_code"],
        &allowed,
    );
    assert!(
        found.is_empty(),
        "ARCHITECTURE.md, \"Invariant (the decider)\": a rule of PROFILE.md is decided in the model only; \
         ask `decide` instead:\n{}",
        found.join("\n")
    );
}

/// "Unchanged" and "the same object" compare what the rules pin: a contract compares an
/// earlier report answer with `$unchanged` (the model's GET-1 claims), never with `$eq`,
/// which would compare extra properties and refreshed timestamps too.
#[test]
fn unchanged_compares_only_what_the_rules_pin() {
    let found = offenders(&["contracts"], "json", &["\"$eq\": \"{{"], &[]);
    assert!(
        found.is_empty(),
        "ARCHITECTURE.md, \"Invariant (the allow-list)\": compare an earlier report with {{\"$unchanged\": \"{{{{capture}}}}\"}}:\n{}",
        found.join("\n")
    );
}

/// Every `include_str!`/`include_bytes!` of a crate's sources names a file inside that
/// crate (ARCHITECTURE.md: every crate but xtask is publishable; `.ci/run`'s `cargo
/// package` is the whole proof, this names the line at once).
#[test]
fn crates_compile_in_only_their_own_files() {
    let mut found = Vec::new();
    for (path, text) in files("crates", "rs") {
        let file = root().join(&path);
        let Some(krate) = file.ancestors().find(|dir| dir.join("Cargo.toml").is_file()) else { continue };
        if path.contains("/tests/") {
            continue;
        }
        for (index, line) in text.lines().enumerate() {
            for macro_name in ["include_str!(\"", "include_bytes!(\""] {
                let Some(start) = line.find(macro_name) else { continue };
                let argument = &line[start + macro_name.len()..];
                let Some(end) = argument.find('"') else { continue };
                let mut at = file.parent().expect("a file's directory").to_owned();
                for part in Path::new(&argument[..end]).components() {
                    match part {
                        std::path::Component::ParentDir => {
                            at.pop();
                        }
                        other => at.push(other),
                    }
                }
                if !at.starts_with(krate) {
                    found.push(format!("{path}:{}: {}", index + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a crate compiles in a file outside its directory, which its published package \
         cannot hold; move the file into the crate (ARCHITECTURE.md, `.ci/`):\n{}",
        found.join("\n")
    );
}

/// `cargo binstall` finds the archives the release workflow uploads: the binstall URL
/// of crates/cli/Cargo.toml spells the workflow's archive name.
#[test]
fn binstall_finds_the_release_archives() {
    let read = |path: &str| std::fs::read_to_string(root().join(path)).expect("a tracked file");
    let manifest = read("crates/cli/Cargo.toml");
    let workflow = read(".github/workflows/release.yml");
    for (file, text, expected) in [
        ("crates/cli/Cargo.toml", &manifest, "{ name }-{ target }{ archive-suffix }"),
        ("crates/cli/Cargo.toml", &manifest, "bin-dir = \"{ bin }{ binary-ext }\""),
        (".github/workflows/release.yml", &workflow, "archive: $bin-$target"),
        (".github/workflows/release.yml", &workflow, "bin: reportcheck"),
        (".github/workflows/release.yml", &workflow, "zip: windows"),
    ] {
        assert!(
            text.contains(expected),
            "{file} no longer has `{expected}`: binstall's pkg-url and the release \
             workflow's archives must name the same files (ARCHITECTURE.md, `.ci/`)"
        );
    }
}
