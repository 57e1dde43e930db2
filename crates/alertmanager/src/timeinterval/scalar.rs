//! Reading YAML scalars the way Go's `yaml.v2` hands them to Alertmanager: as their raw text.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error, Visitor};

/// A scalar's text; unquoted YAML like `010` or `1.0` keeps its spelling (via `deserialize_str`).
struct RawScalar(String);

impl<'de> Deserialize<'de> for RawScalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(RawVisitor).map(RawScalar)
    }
}

/// Accepts strings and, for formats that type their scalars, numbers and booleans.
struct RawVisitor;

impl Visitor<'_> for RawVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<String, E> {
        Ok(format!("{v:?}"))
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Reads a scalar that may be null; upstream leaves null values at their zero value.
pub(crate) fn nullable_scalar<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<RawScalar>::deserialize(deserializer)?.map(|raw| raw.0))
}
