//! [`OrgRole`]: a user's (or API token's) basic role inside an organization.

use std::fmt;
use std::str::FromStr;

/// Grafana's basic org roles, ordered by privilege (`Viewer < Editor < Admin`); stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgRole {
    /// Read-only access.
    Viewer,
    /// Can edit alerting resources.
    Editor,
    /// Can manage the organization and its users.
    Admin,
}

impl OrgRole {
    /// The stored and serialized name: `Viewer`, `Editor` or `Admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Viewer => "Viewer",
            OrgRole::Editor => "Editor",
            OrgRole::Admin => "Admin",
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `Viewer`, `Editor` or `Admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown org role {0:?} (expected Viewer, Editor or Admin)")]
pub struct ParseOrgRoleError(pub String);

impl FromStr for OrgRole {
    type Err = ParseOrgRoleError;

    /// Parses a role name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        [OrgRole::Viewer, OrgRole::Editor, OrgRole::Admin]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseOrgRoleError(s.to_owned()))
    }
}

impl TryFrom<String> for OrgRole {
    type Error = ParseOrgRoleError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl serde::Serialize for OrgRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for OrgRole {
    /// Accepts any ASCII case, like [`FromStr`].
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_order() {
        assert_eq!("admin".parse::<OrgRole>().unwrap(), OrgRole::Admin);
        assert_eq!(" EDITOR ".parse::<OrgRole>().unwrap(), OrgRole::Editor);
        assert!("Owner".parse::<OrgRole>().is_err());
        assert_eq!(OrgRole::Viewer.to_string(), "Viewer");
        assert!(OrgRole::Viewer < OrgRole::Editor && OrgRole::Editor < OrgRole::Admin);
    }
}
