//! Checks responses against Adobe's OpenAPI files (`restApiV2.json`, `dcrApi.json`), with the
//! emulator's documented exceptions applied: JSON bodies against the response schema (turned
//! into a JSON Schema with the document's components), HTML and empty bodies by content type.

use reqwest::Method;
use serde_json::Value;
use tve_activate::emulator::openapi_exceptions::OPENAPI_EXCEPTIONS;

use super::Answer;

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/adobe-pass");

pub struct OpenApi {
    rest: Value,
    dcr: Value,
}

fn load(name: &str) -> Value {
    let path = format!("{SHARED}/openapi/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("OpenAPI JSON")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Sets the value at an RFC 6901 pointer, creating the last segment.
fn set(document: &mut Value, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let (last, parents) = segments.split_last().expect("pointer has segments");
    let mut node = document;
    for segment in parents {
        node = node
            .as_object_mut()
            .expect("pointer parent is an object")
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    node.as_object_mut()
        .expect("object")
        .insert(last.clone(), value);
}

impl OpenApi {
    pub fn load() -> Self {
        let mut rest = load("restApiV2.json");
        for exception in OPENAPI_EXCEPTIONS {
            let replacement: Value =
                serde_json::from_str(exception.replacement).expect("exception JSON");
            for pointer in exception.pointers {
                set(&mut rest, pointer, replacement.clone());
            }
        }
        Self {
            rest,
            dcr: load("dcrApi.json"),
        }
    }

    /// The operation for a request path: (document, template).
    fn operation(&self, path: &str) -> Option<(&Value, String)> {
        let (document, rest) = if let Some(rest) = path.strip_prefix("/api/v2") {
            (&self.rest, rest)
        } else if let Some(rest) = path.strip_prefix("/o") {
            (&self.dcr, rest)
        } else {
            return None;
        };
        let rest = rest.split('?').next().unwrap_or(rest);
        let wanted: Vec<&str> = rest.split('/').collect();
        document["paths"]
            .as_object()?
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != wanted.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, w) in parts.iter().zip(&wanted) {
                    if t.starts_with('{') {
                        continue;
                    }
                    if t != w {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, template.clone()))
            })
            .max()
            .map(|(_, template)| (document, template))
    }

    /// Panics unless the answer is one the OpenAPI (with exceptions) allows.
    pub fn check(&self, method: &Method, path: &str, answer: &Answer) {
        let Some((document, template)) = self.operation(path) else {
            return;
        };
        let content_type = answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = answer.status.as_u16().to_string();
        let path_item = &document["paths"][&template];
        let response = if status == "429" {
            &self.rest["components"]["responses"]["Throttled"]
        } else if status == "503" {
            &self.rest["components"]["responses"]["InjectedUnavailable"]
        } else if status == "406" {
            &self.rest["components"]["responses"]["NotAcceptable"]
        } else if status == "405" {
            // a wrong method has no operation of its own: any operation's 405
            path_item
                .as_object()
                .and_then(|ops| {
                    ops.values()
                        .map(|op| &op["responses"]["405"])
                        .find(|r| r.is_object())
                })
                .unwrap_or(&Value::Null)
        } else {
            &document["paths"][&template][method.as_str().to_lowercase()]["responses"][&status]
        };
        assert!(
            response.is_object(),
            "{method} {path}: status {status} is not documented for {template}: {}",
            answer.text
        );
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return;
        };
        if content.is_empty() {
            return;
        }
        if content.contains_key("text/html") {
            assert!(
                content_type.starts_with("text/html"),
                "{method} {path}: {content_type}"
            );
            return;
        }
        let schema = &content["application/json"]["schema"];
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path} {status}: content type {content_type}"
        );
        let body: Value = serde_json::from_str(&answer.text).unwrap_or_else(|e| {
            panic!("{method} {path} {status}: not JSON ({e}): {}", answer.text)
        });
        let root = serde_json::json!({
            "$ref": schema["$ref"],
            "components": document["components"],
        });
        let validator = jsonschema::draft7::new(&root).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match {template}: {errors:?}\n{}",
            answer.text
        );
    }
}
