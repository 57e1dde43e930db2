//! The domain silence, its state and its conversion to and from the protobuf messages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::ValidationError;
use crate::labels::LabelSet;
use crate::matchers::{MatchType, Matcher, Matchers};
use crate::proto::Timestamp;
use crate::proto::silence as pb;

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) as a protobuf timestamp; upstream
/// writes it for unset times.
const GO_ZERO_SECONDS: i64 = -62_135_596_800;

/// Where a silence is in its life (`types.SilenceState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SilenceState {
    /// Not started yet (`now < starts_at`).
    Pending,
    /// Muting (`starts_at <= now <= ends_at`).
    Active,
    /// Over (`now > ends_at`).
    Expired,
}

impl SilenceState {
    /// The API and metric label: `pending`, `active` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

/// A silence with compiled matchers.
///
/// Missing (or Go-zero) times are `None`. Only `matcher_sets` is kept: the legacy `matchers`
/// field is folded into set 0 on decode and written from set 0 on encode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Silence {
    /// Unique id (UUIDv4); empty for a silence not stored yet.
    pub id: String,
    /// Alternative matcher sets: the silence applies when any set matches all its matchers.
    pub matcher_sets: Vec<Matchers>,
    /// Start of the muting window; `None` means "now" to [`super::Silences::set`].
    pub starts_at: Option<DateTime<Utc>>,
    /// End of the muting window.
    pub ends_at: Option<DateTime<Utc>>,
    /// Last modification time, set by the store.
    pub updated_at: Option<DateTime<Utc>>,
    /// Author.
    pub created_by: String,
    /// Free-text reason.
    pub comment: String,
    /// Structured extra information.
    pub annotations: BTreeMap<String, String>,
}

impl Silence {
    /// The state at `now`, with upstream's `getState` boundaries: pending while `now < starts_at`,
    /// expired once `now > ends_at`, so still active at `now == ends_at`. A missing start counts
    /// as long ago, a missing end as long over.
    ///
    /// The API v2 (`CurrentState`) instead ends at `now < ends_at`; a silence exactly at its end
    /// is active here and expired there.
    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        if self.starts_at.is_some_and(|s| now < s) {
            SilenceState::Pending
        } else if self.ends_at.is_none_or(|e| now > e) {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether any matcher set matches `labels` (a missing label reads as `""`).
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matcher_sets.iter().any(|set| set.matches(labels))
    }

    /// Builds the domain silence from a proto silence, applying the legacy upgrades: `matchers`
    /// becomes set 0 when `matcher_sets` is empty, and `comments[0]` fills `comment` and
    /// `created_by`. Fails when a regex does not compile or a matcher type is unknown.
    pub fn from_proto(p: &pb::Silence) -> Result<Self, ValidationError> {
        let raw_sets: Vec<&[pb::Matcher]> = if p.matcher_sets.is_empty() {
            if p.matchers.is_empty() {
                Vec::new()
            } else {
                vec![p.matchers.as_slice()]
            }
        } else {
            p.matcher_sets
                .iter()
                .map(|s| s.matchers.as_slice())
                .collect()
        };
        let matcher_sets = raw_sets
            .into_iter()
            .enumerate()
            .map(|(set, ms)| compile_set(set, ms))
            .collect::<Result<Vec<_>, _>>()?;
        let (created_by, comment) = match p.comments.first() {
            Some(c) => (c.author.clone(), c.comment.clone()),
            None => (p.created_by.clone(), p.comment.clone()),
        };
        Ok(Self {
            id: p.id.clone(),
            matcher_sets,
            starts_at: from_timestamp(p.starts_at.as_ref()),
            ends_at: from_timestamp(p.ends_at.as_ref()),
            updated_at: from_timestamp(p.updated_at.as_ref()),
            created_by,
            comment,
            annotations: p.annotations.clone(),
        })
    }

    /// The proto silence; `matchers` repeats set 0 so older peers can read it, and every time
    /// is written (Go's zero time when missing), like upstream.
    pub fn to_proto(&self) -> pb::Silence {
        let matcher_sets: Vec<pb::MatcherSet> = self
            .matcher_sets
            .iter()
            .map(|set| pb::MatcherSet {
                matchers: set.iter().map(matcher_to_proto).collect(),
            })
            .collect();
        pb::Silence {
            id: self.id.clone(),
            matchers: matcher_sets
                .first()
                .map(|s| s.matchers.clone())
                .unwrap_or_default(),
            starts_at: Some(to_timestamp(self.starts_at)),
            ends_at: Some(to_timestamp(self.ends_at)),
            updated_at: Some(to_timestamp(self.updated_at)),
            comments: Vec::new(),
            created_by: self.created_by.clone(),
            comment: self.comment.clone(),
            annotations: self.annotations.clone(),
            matcher_sets,
            receiver_matcher_sets: Vec::new(),
        }
    }
}

/// Compiles one proto matcher set.
fn compile_set(set: usize, ms: &[pb::Matcher]) -> Result<Matchers, ValidationError> {
    ms.iter()
        .enumerate()
        .map(|(index, m)| {
            let kind = match pb::matcher::Type::try_from(m.r#type) {
                Ok(pb::matcher::Type::Equal) => MatchType::Equal,
                Ok(pb::matcher::Type::NotEqual) => MatchType::NotEqual,
                Ok(pb::matcher::Type::Regexp) => MatchType::Regexp,
                Ok(pb::matcher::Type::NotRegexp) => MatchType::NotRegexp,
                Err(_) => {
                    return Err(ValidationError::UnknownMatchType {
                        set,
                        index,
                        kind: m.r#type,
                    });
                }
            };
            Matcher::new(kind, m.name.clone(), m.pattern.clone()).map_err(|e| {
                ValidationError::InvalidRegex {
                    set,
                    index,
                    pattern: m.pattern.clone(),
                    reason: e.to_string(),
                }
            })
        })
        .collect()
}

/// The proto form of one matcher.
fn matcher_to_proto(m: &Matcher) -> pb::Matcher {
    let kind = match m.kind() {
        MatchType::Equal => pb::matcher::Type::Equal,
        MatchType::NotEqual => pb::matcher::Type::NotEqual,
        MatchType::Regexp => pb::matcher::Type::Regexp,
        MatchType::NotRegexp => pb::matcher::Type::NotRegexp,
    };
    pb::Matcher {
        r#type: kind as i32,
        name: m.name().to_owned(),
        pattern: m.value().to_owned(),
    }
}

/// A protobuf timestamp as a time; missing, Go-zero and out-of-range values give `None`.
pub fn from_timestamp(ts: Option<&Timestamp>) -> Option<DateTime<Utc>> {
    let ts = ts?;
    if ts.seconds == GO_ZERO_SECONDS && ts.nanos == 0 {
        return None;
    }
    let nanos = u32::try_from(ts.nanos).ok()?;
    DateTime::from_timestamp(ts.seconds, nanos)
}

/// A time as a protobuf timestamp; `None` becomes Go's zero time, as upstream writes it.
pub fn to_timestamp(t: Option<DateTime<Utc>>) -> Timestamp {
    match t {
        Some(t) => Timestamp {
            seconds: t.timestamp(),
            nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
        },
        None => Timestamp {
            seconds: GO_ZERO_SECONDS,
            nanos: 0,
        },
    }
}
