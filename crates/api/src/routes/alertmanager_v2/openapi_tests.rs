//! The OpenAPI document parses and describes every route registered under the API v2 prefix.

use std::collections::BTreeSet;

use serde_norway::Value;

use super::{OPENAPI, PREFIX};
use crate::route_table;

/// `/silence/{id}` and `/silence/{silenceID}` compare equal: parameter names are erased.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc
        .get("paths")
        .and_then(Value::as_mapping)
        .expect("the document has paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("path keys are strings");
        let item = item.as_mapping().expect("path items are mappings");
        for (method, _) in item {
            let method = method.as_str().expect("method keys are strings");
            if method != "parameters" {
                out.insert((method.to_uppercase(), shape(path)));
            }
        }
    }
    out
}

#[test]
fn openapi_document_describes_every_v2_route() {
    let doc: Value = serde_norway::from_str(OPENAPI).expect("openapi.yaml is valid YAML");
    assert_eq!(doc.get("swagger").and_then(Value::as_str), Some("2.0"));
    assert_eq!(
        doc.get("basePath").and_then(Value::as_str),
        Some(PREFIX.trim_end_matches('/'))
    );
    let described = described(&doc);
    let registered: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .filter_map(|r| {
            let rest = r.path.strip_prefix(PREFIX)?;
            Some((r.method.to_owned(), shape(&format!("/{rest}"))))
        })
        .collect();
    assert!(registered.len() >= 10, "{registered:?}");
    let missing: Vec<_> = registered.difference(&described).collect();
    assert!(missing.is_empty(), "routes not described: {missing:?}");
    let extra: Vec<_> = described.difference(&registered).collect();
    assert!(extra.is_empty(), "described but not served: {extra:?}");
}

#[test]
fn every_reference_resolves() {
    let doc: Value = serde_norway::from_str(OPENAPI).expect("openapi.yaml is valid YAML");
    let text = OPENAPI;
    for part in text.split("$ref: '#/").skip(1) {
        let target = part.split('\'').next().unwrap_or_default();
        let mut node = &doc;
        for key in target.split('/') {
            node = node
                .get(key)
                .unwrap_or_else(|| panic!("unresolved reference #/{target}"));
        }
    }
}
