//! The `location` field: an IANA time zone name resolved like Go's `time.LoadLocation`.
//!
//! `""` and `"UTC"` mean UTC. `"Local"` (and the zoneinfo file `"localtime"`) mean the zone of
//! this process, resolved once at parse time from `TZ` (as Go does: unset → `/etc/localtime`,
//! empty → UTC, unknown → UTC); it serializes as the resolved zone's name, not as `Local`.
//! Names are case-sensitive; a `posix/` prefix is accepted. Zoneinfo files that are not zones in
//! chrono-tz (`right/…`, `posixrules`) are rejected, although Go would load them from disk.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::de::Error as _;
use serde::{Deserializer, Serializer};

use super::TimeIntervalError;
use super::scalar::nullable_scalar;

/// Resolves a location name to a time zone, with Go's error messages.
pub fn parse_location(name: &str) -> Result<Tz, TimeIntervalError> {
    match name {
        "" | "UTC" => return Ok(Tz::UTC),
        "Local" | "localtime" => return Ok(local_zone()),
        _ => {}
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err(TimeIntervalError::LocationName);
    }
    let zone = name.strip_prefix("posix/").unwrap_or(name);
    Tz::from_str(zone).map_err(|_| TimeIntervalError::UnknownTimeZone(name.to_owned()))
}

/// The process's local zone as Go computes `time.Local`, falling back to UTC.
fn local_zone() -> Tz {
    match std::env::var("TZ") {
        Ok(tz) => {
            let tz = tz.strip_prefix(':').unwrap_or(&tz);
            zone_from_path(tz).unwrap_or(Tz::UTC)
        }
        Err(_) => std::fs::read_link("/etc/localtime")
            .ok()
            .and_then(|target| zone_from_path(&target.to_string_lossy()))
            .or_else(|| {
                let name = std::fs::read_to_string("/etc/timezone").ok()?;
                Tz::from_str(name.trim()).ok()
            })
            .unwrap_or(Tz::UTC),
    }
}

/// A zone from a name or a path inside a zoneinfo directory.
fn zone_from_path(text: &str) -> Option<Tz> {
    if text.is_empty() {
        return None;
    }
    if let Ok(tz) = Tz::from_str(text) {
        return Some(tz);
    }
    let path = Path::new(text).to_string_lossy().into_owned();
    let (_, name) = path.rsplit_once("zoneinfo/")?;
    Tz::from_str(name.strip_prefix("posix/").unwrap_or(name)).ok()
}

/// Deserializes an optional location; null or absent means none (times are taken in UTC).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Tz>, D::Error> {
    match nullable_scalar(deserializer)? {
        None => Ok(None),
        Some(name) => parse_location(&name).map(Some).map_err(D::Error::custom),
    }
}

/// Serializes a location as its IANA name.
pub(crate) fn serialize<S: Serializer>(
    location: &Option<Tz>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match location {
        Some(tz) => serializer.serialize_str(tz.name()),
        None => serializer.serialize_none(),
    }
}
