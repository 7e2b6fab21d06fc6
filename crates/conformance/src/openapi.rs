//! The published API description (`spec/openapi.json`, a copy of the shared one) as
//! operations and JSON Schema validators, read leniently as SCH-1 allows.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

/// The API description this build checks against.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The SHA-256 of an API description's text, as recorded contracts store it.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One operation: a method on a path template, and what it answers.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub method: String,
    /// E.g. `/reports/{report_id}`.
    pub template: String,
    /// Status -> name of the JSON body's schema (`None` for bodies that are not JSON).
    pub responses: Vec<(u16, Option<String>)>,
}

impl Operation {
    pub fn documents(&self, status: u16) -> bool {
        self.responses.iter().any(|(documented, _)| *documented == status)
    }

    pub fn schema_for(&self, status: u16) -> Option<&str> {
        self.responses.iter().find(|(documented, _)| *documented == status).and_then(|(_, schema)| schema.as_deref())
    }

    /// The schema a 2xx answer is held to: its own, or, for a 2xx the spec does not
    /// list (201 for 200), the documented 2xx's.
    pub fn success_schema(&self, status: u16) -> Option<&str> {
        self.schema_for(status).or_else(|| {
            self.responses
                .iter()
                .find(|(documented, _)| (200..300).contains(documented))
                .and_then(|(_, schema)| schema.as_deref())
        })
    }

    /// Whether a path (relative to the base, without query) fits the template.
    pub fn fits(&self, path: &str) -> bool {
        let mut template = self.template.split('/');
        let mut actual = path.split('/');
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return true,
                (Some(expected), Some(segment)) if expected.starts_with('{') || expected == segment => {}
                _ => return false,
            }
        }
    }
}

/// An API description: its operations and its schemas, patched for leniency.
pub struct Spec {
    pub operations: Vec<Operation>,
    /// `{"components": {"schemas": ...}}` with the leniency patches applied.
    root: Value,
    /// Compiled validators by schema name, built on first use (`None`: does not compile).
    validators: Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec").field("operations", &self.operations).finish_non_exhaustive()
    }
}

impl Spec {
    /// The description this build was made with.
    pub fn builtin() -> Spec {
        Spec::parse(OPENAPI).unwrap_or_else(|err| unreachable!("spec/openapi.json is checked by a test: {err}"))
    }

    pub fn parse(text: &str) -> Result<Spec, String> {
        let document: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
        Ok(Spec::from_document(&document))
    }

    pub fn from_document(document: &Value) -> Spec {
        let mut operations = Vec::new();
        if let Some(paths) = document["paths"].as_object() {
            for (template, methods) in paths {
                for (method, operation) in methods.as_object().into_iter().flatten() {
                    let mut responses: Vec<(u16, Option<String>)> = operation["responses"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter_map(|(status, response)| {
                            let schema = response
                                .pointer("/content/application~1json/schema/$ref")
                                .and_then(Value::as_str)
                                .and_then(|reference| reference.rsplit('/').next())
                                .map(str::to_owned);
                            Some((status.parse().ok()?, schema))
                        })
                        .collect();
                    responses.sort();
                    operations.push(Operation {
                        id: operation["operationId"].as_str().unwrap_or(method).to_owned(),
                        method: method.to_uppercase(),
                        template: template.clone(),
                        responses,
                    });
                }
            }
        }
        let mut schemas = document.pointer("/components/schemas").cloned().unwrap_or_else(|| json!({}));
        lenient(&mut schemas);
        Spec { operations, root: json!({"components": {"schemas": schemas}}), validators: Mutex::default() }
    }

    /// The operation a request is for; `path` is relative to the base, query allowed.
    pub fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let path = path.split('?').next().unwrap_or(path);
        self.operations.iter().find(|operation| operation.method.eq_ignore_ascii_case(method) && operation.fits(path))
    }

    /// The (patched) schema of a component, e.g. `report`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.root.pointer(&format!("/components/schemas/{name}"))
    }

    /// Schema violations of `instance` against component `name`, as `pointer: message`.
    pub fn validate(&self, name: &str, instance: &Value) -> Vec<String> {
        self.violations(name, instance)
            .into_iter()
            .map(|violation| {
                let at = if violation.pointer.is_empty() { "/" } else { &violation.pointer };
                format!("{at}: {}", violation.message)
            })
            .collect()
    }

    /// Schema violations of `instance` against component `name`, classified.
    pub fn violations(&self, name: &str, instance: &Value) -> Vec<SchemaViolation> {
        let validator = {
            let mut validators = self.validators.lock().unwrap_or_else(PoisonError::into_inner);
            validators
                .entry(name.to_owned())
                .or_insert_with(|| {
                    let mut schema = self.root.clone();
                    schema["$ref"] = Value::String(format!("#/components/schemas/{name}"));
                    jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).ok().map(Arc::new)
                })
                .clone()
        };
        let Some(validator) = validator else {
            return vec![SchemaViolation {
                pointer: String::new(),
                kind: ViolationKind::Other,
                message: format!("the schema `{name}` cannot be compiled"),
            }];
        };
        validator
            .iter_errors(instance)
            .map(|error| {
                use jsonschema::error::ValidationErrorKind as K;
                let pointer = error.instance_path().to_string();
                let kind = match error.kind() {
                    K::Required { property } => {
                        ViolationKind::Missing(property.as_str().unwrap_or_default().to_owned())
                    }
                    K::Type { .. } => ViolationKind::Type,
                    K::Enum { .. } | K::Constant { .. } => ViolationKind::Enum,
                    K::Pattern { .. } | K::MinLength { .. } | K::MaxLength { .. } | K::Format { .. } => {
                        ViolationKind::Format
                    }
                    _ => ViolationKind::Other,
                };
                SchemaViolation { pointer, kind, message: error.to_string() }
            })
            .collect()
    }

    /// Whether the (patched) schema of component `name` declares the property at
    /// `pointer` (array indices as any segment).
    pub fn declares(&self, name: &str, pointer: &str) -> bool {
        let mut schema = match self.schema(name) {
            Some(schema) => schema,
            None => return false,
        };
        for segment in pointer.split('/').skip(1) {
            schema = self.resolve(schema);
            if let Some(items) = schema.get("items").filter(|_| segment.parse::<usize>().is_ok()) {
                schema = items;
                continue;
            }
            match schema.pointer(&format!("/properties/{}", crate::matcher::escape(segment))) {
                Some(next) => schema = next,
                None => return false,
            }
        }
        true
    }

    /// A schema with its `$ref`s followed.
    pub fn resolved<'a>(&'a self, schema: &'a Value) -> &'a Value {
        self.resolve(schema)
    }

    /// Follows `$ref`s and the object branch of `anyOf`/`allOf`.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                match reference.strip_prefix('#').and_then(|pointer| self.root.pointer(pointer)) {
                    Some(target) => schema = target,
                    None => return schema,
                }
            } else if let Some(branch) = ["anyOf", "allOf", "oneOf"].iter().find_map(|key| {
                schema.get(*key)?.as_array()?.iter().find(|branch| branch.get("type") != Some(&json!("null")))
            }) {
                schema = branch;
            } else {
                return schema;
            }
        }
        schema
    }
}

/// One way an instance breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    pub pointer: String,
    pub kind: ViolationKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// A required property is missing (its name).
    Missing(String),
    Type,
    Enum,
    /// Pattern, length or format: a value written another way.
    Format,
    Other,
}

/// The documented leniencies of SCH-1, and OpenAPI 3.0's `nullable` as JSON Schema.
fn lenient(schemas: &mut Value) {
    nullable(schemas);
    // json_v2_0 wherever a format is (REFERENCE.md §7.1).
    for pointer in [
        "/report/properties/parameters/properties/formats/items",
        "/storedReportParams/properties/items/items/properties/report_format",
    ] {
        if let Some(Value::Array(values)) = schemas.pointer_mut(&format!("{pointer}/enum"))
            && !values.contains(&json!("json_v2_0"))
        {
            values.push(json!("json_v2_0"));
        }
    }
    // Timestamps with `Z` (PROFILE.md: `Z` or `+00:00` are the same).
    if let Some(pattern) = schemas.pointer_mut("/item1/pattern") {
        *pattern = json!("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([\\+\\-]\\d{2}:\\d{2}|Z)?$");
    }
    // tokenError.error is an open string (REFERENCE.md §5).
    if let Some(error) = schemas.pointer_mut("/tokenError/properties/error").and_then(Value::as_object_mut) {
        error.remove("enum");
    }
}

/// `nullable: true` -> a type that also admits null.
fn nullable(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true)) {
                match object.get("type").cloned() {
                    Some(Value::String(kind)) => {
                        object.insert("type".to_owned(), json!([kind, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert("anyOf".to_owned(), json!([{"type": "null"}, inner]));
                    }
                }
            }
            object.values_mut().for_each(nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_and_leniencies() {
        let spec = Spec::builtin();
        assert_eq!(spec.operations.len(), 12);
        let put = spec.operation("PUT", "/reports/20dffb36-d77b-45c6-b2fa-39276e98d5fc").expect("UpdateReport");
        assert_eq!(put.id, "UpdateReport");
        assert_eq!(put.schema_for(200), Some("report"));
        assert!(spec.operation("GET", "/reports/x/stored/y?z=1").is_some());
        assert!(spec.operation("GET", "/nope").is_none());
        let stored =
            json!({"items": [{"report_format": "json_v2_0", "created_at": "2019-08-08T07:36:57Z", "status": "saved"}]});
        assert_eq!(spec.validate("storedReportParams", &stored), Vec::<String>::new());
        assert_eq!(
            spec.validate(
                "errorScheme",
                &json!({"error": {"code": 1, "domain": null, "message": "m", "details": {"info": null}}})
            ),
            Vec::<String>::new()
        );
        let problems = spec.validate("report", &json!({"id": "x"}));
        assert_eq!(problems.iter().filter(|p| p.starts_with("/id")).count(), 2, "too short and no match: {problems:?}");
        assert_eq!(problems.iter().filter(|p| p.contains("required")).count(), 6, "six missing fields: {problems:?}");
    }
}
