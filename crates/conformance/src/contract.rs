//! Contracts: one scenario per file in `contracts/`, described in `contracts/README.md`
//! and validated against `contracts/contract.schema.json` when loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reportcheck_model::Rule;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::locate::line_of;
use crate::matcher::operator_problems;

/// The format's own JSON Schema.
pub const CONTRACT_SCHEMA: &str = include_str!("../contracts/contract.schema.json");

include!(concat!(env!("OUT_DIR"), "/builtin_contracts.rs"));

/// Where a run's contracts come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContractSource {
    /// `contracts/` as compiled in ([`BUILTIN`]): an installed binary runs from anywhere.
    #[default]
    Builtin,
    /// Every `*.json` contract of a directory (recorded or hand-written ones).
    Dir(PathBuf),
}

impl ContractSource {
    pub fn load(&self) -> Result<Vec<LoadedContract>, Error> {
        match self {
            ContractSource::Builtin => load_texts(
                BUILTIN.iter().map(|(name, text)| (Path::new("contracts").join(name), Ok((*text).to_owned()))),
            ),
            ContractSource::Dir(dir) => load_dir(dir),
        }
    }
}

impl std::fmt::Display for ContractSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContractSource::Builtin => f.write_str("the built-in contracts"),
            ContractSource::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

impl From<PathBuf> for ContractSource {
    fn from(dir: PathBuf) -> ContractSource {
        ContractSource::Dir(dir)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Defaults to the file name without `.json`.
    #[serde(default)]
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// Where a recorded contract came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Provenance>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// A second API client, of a tenant outside the first one's subtree.
    SecondClient,
    /// A tenant below the first client's (`--child-tenant`, or the embedded fixture's).
    ChildTenant,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub at: String,
    pub openapi_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    /// Which client sends it: `a` (default) or `b`, the second client.
    #[serde(rename = "as", default, skip_serializing_if = "Party::is_a")]
    pub party: Party,
    pub request: RequestSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
    /// Variable name -> JSON pointer into the response body (`""` is the whole body).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    /// Repeat the request until every expectation holds, or the time is up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    #[default]
    A,
    B,
}

impl Party {
    fn is_a(&self) -> bool {
        *self == Party::A
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "AuthMode::is_token")]
    pub auth: AuthMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicCredentials>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<BTreeMap<String, String>>,
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// The party's bearer token.
    #[default]
    Token,
    /// No `Authorization` header.
    None,
    /// A well-formed bearer token no server issued.
    Bogus,
    /// HTTP Basic with `basic`, or the party's client id and secret.
    Basic,
}

impl AuthMode {
    fn is_token(&self) -> bool {
        *self == AuthMode::Token
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicCredentials {
    pub user: String,
    pub password: String,
}

/// What the answer must be, and the rule that says so.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub rule: Rule,
    /// Whether this checks that a conforming request is served (positive) or that a
    /// breaking one is refused (negative); by default, from the expected status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<Case>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The body is a file in this format (downloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    Positive,
    Negative,
}

impl Expectation {
    pub fn case(&self) -> Case {
        // Positive when the expected status admits a success, negative when it admits
        // only refusals (`400`, `{"$one_of": [403, 404]}`).
        let admits_success =
            |status: &Value| (200..300).any(|code| crate::matcher::matches(status, Some(&Value::from(code))));
        self.case.unwrap_or(match &self.status {
            Some(status) if !admits_success(status) => Case::Negative,
            _ => Case::Positive,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Html,
    Json,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub timeout_ms: u64,
    #[serde(default = "Poll::default_interval")]
    pub interval_ms: u64,
}

impl Poll {
    fn default_interval() -> u64 {
        100
    }
}

/// A contract and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedContract {
    pub path: PathBuf,
    pub contract: Contract,
}

impl LoadedContract {
    /// The rules its expectations check.
    pub fn rules(&self) -> BTreeSet<Rule> {
        self.contract.steps.iter().flat_map(|step| step.expect.iter().map(|e| e.rule)).collect()
    }
}

/// Every `*.json` contract in `dir` but the schema, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedContract>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_owned(), source })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| !path.file_name().is_some_and(|name| name.to_string_lossy().ends_with(".schema.json")))
        .collect();
    paths.sort();
    load_texts(paths.into_iter().map(|path| {
        let text = std::fs::read_to_string(&path);
        (path, text)
    }))
}

/// Parses contracts in order; a name may be taken once. Every problem of every file is
/// reported, not only the first.
fn load_texts(files: impl Iterator<Item = (PathBuf, std::io::Result<String>)>) -> Result<Vec<LoadedContract>, Error> {
    let validator = format_validator();
    let mut contracts: Vec<LoadedContract> = Vec::new();
    let mut problems = Vec::new();
    for (path, text) in files {
        let text = text.map_err(|source| Error::Read { path: path.clone(), source })?;
        let contract = match parse(&path, &text, &validator) {
            Ok(contract) => contract,
            Err(Error::InvalidContract { problems: found }) => {
                problems.extend(found);
                continue;
            }
            Err(other) => return Err(other),
        };
        if let Some(other) = contracts.iter().find(|other| other.contract.name == contract.contract.name) {
            problems.push(Problem {
                path,
                line: 1,
                field: "/name".to_owned(),
                message: format!("the name `{}` is taken by {}", contract.contract.name, other.path.display()),
            });
            continue;
        }
        contracts.push(contract);
    }
    if problems.is_empty() { Ok(contracts) } else { Err(Error::InvalidContract { problems }) }
}

/// One thing wrong with a contract file: where (file, line, JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}: {}", self.path.display(), self.line, self.field, self.message)
    }
}

/// The compiled schema of the contract format.
pub fn format_validator() -> jsonschema::Validator {
    jsonschema::validator_for(&format_schema()).unwrap_or_else(|_| {
        jsonschema::validator_for(&Value::Bool(true)).unwrap_or_else(|err| unreachable!("a true schema: {err}"))
    })
}

fn format_schema() -> Value {
    serde_json::from_str(CONTRACT_SCHEMA).unwrap_or(Value::Bool(true))
}

/// Parses and checks one contract's text; `Error::InvalidContract` holds every problem
/// found: all that break the format, else all of its rule ids, matchers and variables.
pub fn parse(path: &Path, text: &str, validator: &jsonschema::Validator) -> Result<LoadedContract, Error> {
    let problem = |pointer: &str, line: usize, message: String| Problem {
        path: path.to_owned(),
        line,
        field: if pointer.is_empty() { "/".to_owned() } else { pointer.to_owned() },
        message,
    };
    let at = |pointer: &str, message: String| problem(pointer, line_of(text, pointer), message);
    let invalid = |problems: Vec<Problem>| Error::InvalidContract { problems };
    let value: Value =
        serde_json::from_str(text).map_err(|err| invalid(vec![problem("", err.line(), format!("not JSON: {err}"))]))?;
    let schema = format_schema();
    let broken: Vec<Problem> = validator
        .iter_errors(&value)
        .map(|error| {
            let pointer = error.instance_path().to_string();
            let message = crate::schema_error::describe(&error, &schema);
            // A key that does not belong is reported on its own line.
            match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected }
                    if !unexpected.is_empty() =>
                {
                    let key = unexpected[0].replace('~', "~0").replace('/', "~1");
                    problem(&pointer, line_of(text, &format!("{pointer}/{key}")), message)
                }
                _ => at(&pointer, message),
            }
        })
        .collect();
    if !broken.is_empty() {
        return Err(invalid(by_line(broken)));
    }
    let unknown_rules: Vec<Problem> = rule_ids(&value)
        .filter_map(|(pointer, id)| {
            id.parse::<Rule>().err().map(|_| at(&pointer, format!("`{id}` is not a rule ID of PROFILE.md")))
        })
        .collect();
    if !unknown_rules.is_empty() {
        return Err(invalid(unknown_rules));
    }
    let mut contract: Contract = serde_path_to_error::deserialize(value).map_err(|err| {
        let pointer = pointer_of(&err.path().to_string());
        invalid(vec![at(&pointer, format!("does not match the format: {}", err.inner()))])
    })?;
    if contract.name.is_empty() {
        contract.name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    }
    let mut problems = Vec::new();
    for (index, step) in contract.steps.iter().enumerate() {
        for (which, expectation) in step.expect.iter().enumerate() {
            let parts = [("body", &expectation.body), ("status", &expectation.status)];
            let headers = expectation.headers.iter().map(|(name, value)| (name.as_str(), value));
            for (part, matcher) in parts
                .into_iter()
                .chain([("content_type", &expectation.content_type)])
                .filter_map(|(part, matcher)| matcher.as_ref().map(|matcher| (part.to_owned(), matcher)))
                .chain(headers.map(|(name, value)| (format!("headers/{}", crate::matcher::escape(name)), value)))
            {
                for (inner, message) in operator_problems(matcher) {
                    problems.push(at(&format!("/steps/{index}/expect/{which}/{part}{inner}"), message));
                }
            }
        }
        for (pointer, name, known) in undefined_placeholders(&contract, index) {
            let hint = match crate::schema_error::closest(&name, &known) {
                Some(near) => format!(" (did you mean `{{{{{near}}}}}`?)"),
                None => String::new(),
            };
            let message =
                format!("`{{{{{name}}}}}` is neither a built-in variable nor captured by an earlier step{hint}");
            problems.push(at(&pointer, message));
        }
        if step.request.basic.is_some() && step.request.auth != AuthMode::Basic {
            problems
                .push(at(&format!("/steps/{index}/request/basic"), "`basic` needs `\"auth\": \"basic\"`".to_owned()));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(by_line(problems)));
    }
    Ok(LoadedContract { path: path.to_owned(), contract })
}

fn by_line(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|problem| problem.line);
    problems
}

/// Every expectation's `rule` (the format only says it looks like one), with its pointer.
fn rule_ids(contract: &Value) -> impl Iterator<Item = (String, &str)> {
    let steps = contract.get("steps").and_then(Value::as_array).into_iter().flatten().enumerate();
    steps.flat_map(|(index, step)| {
        let expectations = step.get("expect").and_then(Value::as_array).into_iter().flatten().enumerate();
        expectations.filter_map(move |(which, expectation)| {
            let id = expectation.get("rule")?.as_str()?;
            Some((format!("/steps/{index}/expect/{which}/rule"), id))
        })
    })
}

/// Every `{{name}}` of step `index` (its request and expectations, which are judged
/// before its own captures) that names no built-in variable and no capture of an
/// earlier step: a misspelt name would otherwise become skipped checks.
/// Each with the names it could have meant.
fn undefined_placeholders(contract: &Contract, index: usize) -> Vec<(String, String, Vec<&str>)> {
    let captured: BTreeSet<&str> =
        contract.steps[..index].iter().flat_map(|step| step.capture.keys().map(String::as_str)).collect();
    let known: Vec<&str> = crate::template::BUILTIN.iter().copied().chain(captured.iter().copied()).collect();
    let step = &contract.steps[index];
    let mut found = Vec::new();
    let request = serde_json::to_value(&step.request).unwrap_or_default();
    crate::template::placeholders(&request, &format!("/steps/{index}/request"), &mut found);
    let expect = serde_json::to_value(&step.expect).unwrap_or_default();
    crate::template::placeholders(&expect, &format!("/steps/{index}/expect"), &mut found);
    found
        .into_iter()
        .filter(|(_, name)| !known.contains(&name.as_str()))
        .map(|(pointer, name)| (pointer, name, known.clone()))
        .collect()
}

/// `steps[0].expect[1].rule` -> `/steps/0/expect/1/rule`.
fn pointer_of(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    path.split('.')
        .flat_map(|segment| segment.split('['))
        .map(|part| format!("/{}", part.trim_end_matches(']')))
        .collect()
}
