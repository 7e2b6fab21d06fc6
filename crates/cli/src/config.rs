//! `reportcheck.toml`: defaults for the long flags, read from the current directory or
//! `--config PATH`. Keys are long flags without the dashes; top-level keys apply to every
//! command that has the flag, a `[conformance]` (`[serve]`, ...) table to that command
//! only, and wins over the top level. A flag means the same in every command that has
//! it, so a top-level key breaks none; the one name that takes a file in one command and
//! a directory in another (`out`) is refused at the top level, naming the tables. The
//! command line and the environment win over the file; a key that is no flag is an
//! error naming the file and the key.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::Error;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "reportcheck.toml";

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    /// Read defaults for the long flags from this TOML file (default: ./reportcheck.toml
    /// when it exists); flags and environment variables win over it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Parses the command line of `C` with the configuration file's values filled in
/// where the command line and the environment leave a flag unset.
pub fn parse<C: clap::Parser>(args: impl IntoIterator<Item = impl Into<OsString>>) -> Result<C, Error> {
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let (path, explicit) = match config_flag(&args) {
        Some(path) => (path, true),
        None => (PathBuf::from(DEFAULT_FILE), false),
    };
    if !explicit && !path.is_file() {
        return Ok(C::try_parse_from(args)?);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| Error::file("read --config", &path, source))?;
    parse_with_file(&args, &path, &text)
}

/// Parses `args` with the values of the configuration file `text` (at `path`) filled in.
/// A value of the file that the flag refuses is reported as the file's, with its line
/// and key, rather than as a flag the user never typed.
pub fn parse_with_file<C: clap::Parser>(args: &[OsString], path: &Path, text: &str) -> Result<C, Error> {
    let merged = merge(&C::command(), args, path, text)?;
    C::try_parse_from(&merged).map_err(|err| {
        let from_file = err
            .get(clap::error::ContextKind::InvalidArg)
            .map(ToString::to_string)
            .and_then(|arg| arg.strip_prefix("--").and_then(|arg| arg.split([' ', '=']).next()).map(str::to_owned))
            .filter(|key| {
                let typed = |arg: &OsString| {
                    let arg = arg.to_string_lossy();
                    arg == format!("--{key}") || arg.starts_with(&format!("--{key}="))
                };
                !args.iter().any(typed) && merged.iter().any(typed)
            });
        match from_file {
            Some(key) => {
                let reason = err.to_string();
                let reason = reason.lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned();
                Error::Config {
                    path: path.to_owned(),
                    message: format!("line {}: key `{key}`: {reason}", line_of_key(text, &key)),
                }
            }
            None => err.into(),
        }
    })
}

/// The value of `--config` on the command line, if any.
fn config_flag(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            return None;
        }
        if text == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

/// `args` with the file's values inserted right after the subcommand's name.
pub fn merge(command: &clap::Command, args: &[OsString], path: &Path, text: &str) -> Result<Vec<OsString>, Error> {
    let invalid = |message: String| Error::Config { path: path.to_owned(), message };
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        let line = err.span().map_or(1, |span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        Error::Config { path: path.to_owned(), message: format!("line {line}: not TOML: {}", err.message().trim()) }
    })?;
    let subcommands: BTreeMap<&str, &clap::Command> =
        command.get_subcommands().map(|sub| (sub.get_name(), sub)).collect();
    let mut top = Vec::new();
    let mut sections: BTreeMap<&str, &toml::Table> = BTreeMap::new();
    for (key, value) in &table {
        match (subcommands.get(key.as_str()), value) {
            (Some(sub), toml::Value::Table(section)) => {
                for key in section.keys() {
                    if flag(sub, key).is_none() {
                        return Err(invalid(format!("unknown key `{key}` in [{}]: no `--{key}` flag", sub.get_name())));
                    }
                }
                sections.insert(sub.get_name(), section);
            }
            (_, toml::Value::Table(_)) => return Err(invalid(format!("unknown table [{key}]: no such command"))),
            _ if subcommands.values().any(|sub| flag(sub, key).is_some()) => {
                shared_meaning(&subcommands, key).map_err(invalid)?;
                top.push((key, value));
            }
            _ => return Err(invalid(format!("unknown key `{key}`: no command has a `--{key}` flag"))),
        }
    }
    // The subcommand is the first argument naming one.
    let Some((at, sub)) = args
        .iter()
        .enumerate()
        .skip(1)
        .find_map(|(at, arg)| subcommands.get(arg.to_string_lossy().as_ref()).map(|sub| (at, *sub)))
    else {
        return Ok(args.to_vec());
    };
    let mut values: BTreeMap<&str, &toml::Value> =
        top.into_iter().filter(|(key, _)| flag(sub, key).is_some()).map(|(key, value)| (key.as_str(), value)).collect();
    if let Some(section) = sections.get(sub.get_name()) {
        values.extend(section.iter().map(|(key, value)| (key.as_str(), value)));
    }
    let mut inserted = Vec::new();
    for (key, value) in values {
        let Some(arg) = flag(sub, key) else { continue };
        let given = args.iter().skip(at + 1).any(|arg| {
            let arg = arg.to_string_lossy();
            arg == format!("--{key}") || arg.starts_with(&format!("--{key}="))
        });
        let from_env = arg.get_env().is_some_and(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
        if given || from_env {
            continue;
        }
        inserted.extend(flag_args(key, value, arg).map_err(invalid)?);
    }
    let mut merged = args[..=at].to_vec();
    merged.extend(inserted.into_iter().map(OsString::from));
    merged.extend_from_slice(&args[at + 1..]);
    Ok(merged)
}

/// The line of the first `key = …` in the file (1 when it cannot be found).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| line.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')))
        .map_or(1, |index| index + 1)
}

/// The long flag `key` of a command, the configuration flag and help aside.
fn flag<'c>(command: &'c clap::Command, key: &str) -> Option<&'c clap::Arg> {
    if matches!(key, "config" | "help" | "version") {
        return None;
    }
    command.get_arguments().find(|arg| arg.get_long() == Some(key))
}

/// A top-level key applies to every command with the flag, so the flag must mean the same
/// in each (its value's name and how many it takes); else the key belongs in a table.
fn shared_meaning(subcommands: &BTreeMap<&str, &clap::Command>, key: &str) -> Result<(), String> {
    let meanings: BTreeMap<String, Vec<&str>> = subcommands
        .iter()
        .filter_map(|(name, sub)| Some((meaning(flag(sub, key)?), *name)))
        .fold(BTreeMap::new(), |mut meanings, (meaning, name)| {
            meanings.entry(meaning).or_default().push(name);
            meanings
        });
    if meanings.len() < 2 {
        return Ok(());
    }
    let uses: Vec<String> =
        meanings.iter().map(|(meaning, commands)| format!("{meaning} in {}", commands.join(", "))).collect();
    let tables: Vec<String> = meanings.values().flatten().map(|name| format!("[{name}]")).collect();
    Err(format!(
        "top-level key `{key}` means different things in different commands ({}): put it under {}",
        uses.join("; "),
        tables.join(" or ")
    ))
}

/// What a flag takes, as `--out <DIR>`.
fn meaning(arg: &clap::Arg) -> String {
    let names: Vec<String> = arg.get_value_names().into_iter().flatten().map(|name| format!("<{name}>")).collect();
    let takes = if arg.get_action().takes_values() { names.join(" ") } else { String::new() };
    let optional = if optional_value(arg) { "?" } else { "" };
    format!("--{} {takes}{optional}", arg.get_long().unwrap_or_default()).trim_end().to_owned()
}

/// A flag whose value may be left out (`--variations` alone means `all`).
fn optional_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|range| range.min_values() == 0)
}

/// A value as command-line arguments: `--key=value`, repeated for arrays; `true` for a
/// switch (or a flag whose value may be left out) is `--key`, `false` leaves it off.
fn flag_args(key: &str, value: &toml::Value, arg: &clap::Arg) -> Result<Vec<String>, String> {
    let takes_values = arg.get_action().takes_values();
    let one = |value: &toml::Value| -> Result<String, String> {
        match value {
            toml::Value::String(text) => Ok(text.clone()),
            toml::Value::Integer(number) => Ok(number.to_string()),
            toml::Value::Float(number) => Ok(number.to_string()),
            toml::Value::Boolean(flag) => Ok(flag.to_string()),
            _ => Err(format!("key `{key}`: expected a string, number or boolean")),
        }
    };
    match value {
        toml::Value::Boolean(on) if !takes_values || optional_value(arg) => {
            Ok(if *on { vec![format!("--{key}")] } else { Vec::new() })
        }
        _ if !takes_values => Err(format!("key `{key}`: `--{key}` is a switch: use true or false")),
        toml::Value::Array(items) => items.iter().map(|item| Ok(format!("--{key}={}", one(item)?))).collect(),
        value => Ok(vec![format!("--{key}={}", one(value)?)]),
    }
}
