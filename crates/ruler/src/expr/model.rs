//! Helpers to read an expression's JSON query model field by field, with errors naming the
//! refId and the field path.

use serde_json::{Map, Value as Json};

use super::ExprError;

/// A JSON object being read, with the refId and the path of the object for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub ref_id: &'a str,
    pub path: &'a str,
    pub map: &'a Map<String, Json>,
}

/// Joins an object path and a key into a field path (`conditions[0]` + `evaluator`).
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A short name for the JSON type of a value, for error messages.
pub(crate) fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    /// The field `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An "invalid field" error for `key`.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ExprError {
        ExprError::InvalidField {
            ref_id: self.ref_id.to_string(),
            field: join(self.path, key),
            reason: reason.into(),
        }
    }

    /// A "missing field" error for `key`.
    pub fn missing(&self, key: &str) -> ExprError {
        ExprError::MissingField {
            ref_id: self.ref_id.to_string(),
            field: join(self.path, key),
        }
    }

    /// The required field `key`.
    pub fn req(&self, key: &str) -> Result<&'a Json, ExprError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// The required string field `key`.
    pub fn req_str(&self, key: &str) -> Result<&'a str, ExprError> {
        let v = self.req(key)?;
        v.as_str()
            .ok_or_else(|| self.invalid(key, format!("expected a string, got {}", json_type(v))))
    }

    /// The optional string field `key` (absent, null and `""` are all `None`).
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ExprError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                Some("") => Ok(None),
                Some(s) => Ok(Some(s)),
                None => Err(self.invalid(key, format!("expected a string, got {}", json_type(v)))),
            },
        }
    }

    /// The required array field `key`.
    pub fn req_array(&self, key: &str) -> Result<&'a Vec<Json>, ExprError> {
        let v = self.req(key)?;
        v.as_array()
            .ok_or_else(|| self.invalid(key, format!("expected an array, got {}", json_type(v))))
    }

    /// The optional object field `key`, as an [`Obj`] whose path is stored in `path_buf`.
    pub fn opt_obj(&self, key: &str, path_buf: &'a str) -> Result<Option<Obj<'a>>, ExprError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_object() {
                Some(map) => Ok(Some(Obj {
                    ref_id: self.ref_id,
                    path: path_buf,
                    map,
                })),
                None => Err(self.invalid(key, format!("expected an object, got {}", json_type(v)))),
            },
        }
    }

    /// The required object field `key`, as an [`Obj`] whose path is stored in `path_buf`.
    pub fn req_obj(&self, key: &str, path_buf: &'a str) -> Result<Obj<'a>, ExprError> {
        self.opt_obj(key, path_buf)?
            .ok_or_else(|| self.missing(key))
    }

    /// The required array-of-numbers field `key`.
    pub fn req_f64s(&self, key: &str) -> Result<Vec<f64>, ExprError> {
        let arr = self.req_array(key)?;
        arr.iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_f64().ok_or_else(|| {
                    self.invalid(
                        &format!("{key}[{i}]"),
                        format!("expected a number, got {}", json_type(v)),
                    )
                })
            })
            .collect()
    }
}

/// The refId an input field names: `"A"` or `"$A"` (Grafana trims a leading `$`).
pub(crate) fn input_ref(obj: &Obj<'_>, key: &str) -> Result<String, ExprError> {
    let raw = obj.req_str(key)?;
    let name = raw.trim();
    let name = name.strip_prefix('$').unwrap_or(name);
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    if name.is_empty() {
        return Err(obj.invalid(
            key,
            "expected the refId of a query or expression, got an empty string",
        ));
    }
    Ok(name.to_string())
}
