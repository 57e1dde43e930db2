//! Typed access to the fields of a TestData query model, with errors that name the field.
//!
//! A field that is missing and a field that is JSON `null` are the same: absent, so the
//! scenario's default applies. Any other value of the wrong type is an error.

use serde_json::{Map, Value as Json};

use crate::datasource::QueryError;

/// A JSON object of the model (the root or a nested one) and its path for error messages.
#[derive(Debug, Clone)]
pub(super) struct Obj<'a> {
    map: &'a Map<String, Json>,
    path: String,
}

/// The JSON type of `v`, for messages.
fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `n` as an `i64` if it is an integer, or a float with an integral value in range.
fn integral(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // 2^63 is exactly representable; everything strictly inside (-2^63, 2^63) fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && f > -LIMIT && f < LIMIT).then_some(f as i64)
}

impl<'a> Obj<'a> {
    /// The root model; an error if it is not a JSON object.
    pub(super) fn root(model: &'a Json) -> Result<Self, QueryError> {
        match model {
            Json::Object(map) => Ok(Self {
                map,
                path: String::new(),
            }),
            other => Err(QueryError::NotAnObject(type_name(other))),
        }
    }

    /// The path of `key` in this object, e.g. `pulseWave.timeStep`.
    pub(super) fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn wrong_type(&self, key: &str, expected: &str, got: &Json) -> QueryError {
        QueryError::invalid_field(
            self.field(key),
            format!("expected {expected}, got {}", type_name(got)),
        )
    }

    /// The value of `key`, `None` when missing or null.
    pub(super) fn raw(&self, key: &str) -> Option<&'a Json> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string field.
    pub(super) fn str(&self, key: &str) -> Result<Option<&'a str>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// A number field.
    pub(super) fn f64(&self, key: &str) -> Result<Option<f64>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| QueryError::invalid_field(self.field(key), "number out of range")),
            Some(other) => Err(self.wrong_type(key, "a number", other)),
        }
    }

    /// An integer field (a float with an integral value is accepted).
    pub(super) fn i64(&self, key: &str) -> Result<Option<i64>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::Number(n)) => integral(n).map(Some).ok_or_else(|| {
                QueryError::invalid_field(self.field(key), format!("expected an integer, got {n}"))
            }),
            Some(other) => Err(self.wrong_type(key, "an integer", other)),
        }
    }

    /// A 64-bit seed: any integer from `i64::MIN` to `u64::MAX`, negative ones taken as their
    /// two's-complement bits.
    pub(super) fn seed(&self, key: &str) -> Result<Option<u64>, QueryError> {
        match self.raw(key) {
            Some(Json::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            // Reinterpreting the bits is the documented meaning of a negative seed.
            _ => Ok(self.i64(key)?.map(|i| i as u64)),
        }
    }

    /// A nested object field.
    pub(super) fn object(&self, key: &str) -> Result<Option<Obj<'a>>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::Object(map)) => Ok(Some(Obj {
                map,
                path: self.field(key),
            })),
            Some(other) => Err(self.wrong_type(key, "an object", other)),
        }
    }

    /// A field holding an array of objects; a single object is taken as a one-element array
    /// (older Grafana versions saved `csvWave` that way).
    pub(super) fn objects(&self, key: &str) -> Result<Option<Vec<Obj<'a>>>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::Object(map)) => Ok(Some(vec![Obj {
                map,
                path: self.field(key),
            }])),
            Some(Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let path = format!("{}[{i}]", self.field(key));
                    match item {
                        Json::Object(map) => Ok(Obj { map, path }),
                        other => Err(QueryError::invalid_field(
                            path,
                            format!("expected an object, got {}", type_name(other)),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.wrong_type(key, "an array of objects", other)),
        }
    }

    /// A point value: a number, or a string holding `null`, `nan` or a number.
    /// `Some(None)` is a null point.
    pub(super) fn point_value(&self, key: &str) -> Result<Option<Option<f64>>, QueryError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Json::Number(n)) => Ok(Some(n.as_f64())),
            Some(Json::String(s)) => parse_point(s).map(Some).ok_or_else(|| {
                QueryError::invalid_field(
                    self.field(key),
                    format!("expected a number, `null` or `nan`, got {s:?}"),
                )
            }),
            Some(other) => Err(self.wrong_type(key, "a number or a string", other)),
        }
    }
}

/// A point value written as text: `null` is a null point, anything else must parse as a
/// number (`nan` and `inf` included). `None` if it does not.
pub(super) fn parse_point(text: &str) -> Option<Option<f64>> {
    let text = text.trim();
    if text == "null" {
        Some(None)
    } else {
        text.parse::<f64>().ok().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn root_must_be_an_object() {
        assert_eq!(
            Obj::root(&json!([1])).unwrap_err(),
            QueryError::NotAnObject("an array")
        );
        assert!(Obj::root(&json!({})).is_ok());
    }

    #[test]
    fn null_and_missing_are_absent() {
        let v = json!({"a": null});
        let m = Obj::root(&v).unwrap();
        assert_eq!(m.f64("a").unwrap(), None);
        assert_eq!(m.str("b").unwrap(), None);
        assert_eq!(m.i64("a").unwrap(), None);
    }

    #[test]
    fn integers_accept_integral_floats_only() {
        let v = json!({"a": 3, "b": 4.0, "c": 4.5, "d": "4"});
        let m = Obj::root(&v).unwrap();
        assert_eq!(m.i64("a").unwrap(), Some(3));
        assert_eq!(m.i64("b").unwrap(), Some(4));
        let err = m.i64("c").unwrap_err();
        assert!(matches!(err, QueryError::InvalidField { ref field, .. } if field == "c"));
        let err = m.i64("d").unwrap_err();
        assert!(matches!(err, QueryError::InvalidField { ref field, .. } if field == "d"));
    }

    #[test]
    fn seeds_take_full_u64_and_negative_range() {
        let v = json!({"big": u64::MAX, "neg": -1, "f": 2.5});
        let m = Obj::root(&v).unwrap();
        assert_eq!(m.seed("big").unwrap(), Some(u64::MAX));
        assert_eq!(m.seed("neg").unwrap(), Some(u64::MAX));
        assert!(m.seed("f").is_err());
    }

    #[test]
    fn nested_paths_name_the_field() {
        let v = json!({"o": {"x": "no"}, "arr": [{"y": true}, 3]});
        let m = Obj::root(&v).unwrap();
        let o = m.object("o").unwrap().unwrap();
        let err = o.f64("x").unwrap_err();
        assert_eq!(
            err,
            QueryError::invalid_field("o.x", "expected a number, got a string")
        );
        let err = m.objects("arr").unwrap_err();
        assert!(matches!(err, QueryError::InvalidField { ref field, .. } if field == "arr[1]"));
    }

    #[test]
    fn point_values() {
        let v = json!({"n": 2, "s": "3.5", "null": "null", "nan": "nan", "bad": "x", "b": true});
        let m = Obj::root(&v).unwrap();
        assert_eq!(m.point_value("n").unwrap(), Some(Some(2.0)));
        assert_eq!(m.point_value("s").unwrap(), Some(Some(3.5)));
        assert_eq!(m.point_value("null").unwrap(), Some(None));
        assert!(m.point_value("nan").unwrap().unwrap().unwrap().is_nan());
        assert!(m.point_value("bad").is_err());
        assert!(m.point_value("b").is_err());
        assert_eq!(m.point_value("missing").unwrap(), None);
    }
}
