//! The route tree (`dispatch/route.go`): inheritance, matching, keys and ids.

use std::time::Duration;

pub use crate::config::{GroupBy, RouteConfig};
use crate::labels::LabelSet;
use crate::matchers::Matchers;

/// Default `group_wait` at the root.
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
/// Default `group_interval` at the root.
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default `repeat_interval` at the root.
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 60 * 60);

/// A built route: options after inheritance, sorted matchers, children, and precomputed
/// identity (`key`, `id`, `idx`).
#[derive(Debug, Clone)]
pub struct Route {
    receiver: String,
    group_by: GroupBy,
    group_wait: Duration,
    group_interval: Duration,
    repeat_interval: Duration,
    mute_time_intervals: Vec<String>,
    active_time_intervals: Vec<String>,
    matchers: Matchers,
    continue_: bool,
    routes: Vec<Route>,
    key: String,
    id: String,
    idx: usize,
}

/// Options a child inherits from its parent.
struct Inherited<'a> {
    receiver: &'a str,
    group_by: &'a GroupBy,
    group_wait: Duration,
    group_interval: Duration,
    repeat_interval: Duration,
}

const ROOT_DEFAULTS: Inherited<'static> = Inherited {
    receiver: "",
    group_by: &GroupBy::Labels(Vec::new()),
    group_wait: DEFAULT_GROUP_WAIT,
    group_interval: DEFAULT_GROUP_INTERVAL,
    repeat_interval: DEFAULT_REPEAT_INTERVAL,
};

impl Route {
    /// Builds the whole tree from its root (`NewRoute(root, nil)`), applying the root defaults
    /// (`group_wait` 30s, `group_interval` 5m, `repeat_interval` 4h, empty `group_by`).
    pub fn new_tree(root: &RouteConfig) -> Route {
        let mut next_idx = 0;
        Self::build(root, &ROOT_DEFAULTS, None, &mut next_idx)
    }

    /// `parent` is the parent's key and id and this node's position among its siblings.
    fn build(
        node: &RouteConfig,
        inherited: &Inherited<'_>,
        parent: Option<(&str, &str, usize)>,
        next_idx: &mut usize,
    ) -> Route {
        let receiver = match node.receiver.as_deref() {
            Some(r) if !r.is_empty() => r.to_owned(),
            _ => inherited.receiver.to_owned(),
        };
        let group_by = match &node.group_by {
            Some(GroupBy::All) => GroupBy::All,
            Some(GroupBy::Labels(names)) if !names.is_empty() => {
                let mut names = names.clone();
                names.sort();
                names.dedup();
                GroupBy::Labels(names)
            }
            _ => inherited.group_by.clone(),
        };
        let mut matchers = node.matchers.clone();
        matchers.sort();
        let key = match parent {
            Some((parent_key, _, _)) => format!("{parent_key}/{matchers}"),
            None => matchers.to_string(),
        };
        let id = match parent {
            Some((_, parent_id, position)) => format!("{parent_id}/{matchers}/{position}"),
            None => key.clone(),
        };
        let idx = *next_idx;
        *next_idx += 1;
        let mut route = Route {
            receiver,
            group_by,
            group_wait: node.group_wait.unwrap_or(inherited.group_wait),
            group_interval: node.group_interval.unwrap_or(inherited.group_interval),
            repeat_interval: node.repeat_interval.unwrap_or(inherited.repeat_interval),
            mute_time_intervals: node.mute_time_intervals.clone(),
            active_time_intervals: node.active_time_intervals.clone(),
            matchers,
            continue_: node.continue_,
            routes: Vec::with_capacity(node.routes.len()),
            key,
            id,
            idx,
        };
        let inherit = Inherited {
            receiver: &route.receiver,
            group_by: &route.group_by,
            group_wait: route.group_wait,
            group_interval: route.group_interval,
            repeat_interval: route.repeat_interval,
        };
        let children: Vec<Route> = node
            .routes
            .iter()
            .enumerate()
            .map(|(i, child)| {
                Self::build(child, &inherit, Some((&route.key, &route.id, i)), next_idx)
            })
            .collect();
        route.routes = children;
        route
    }

    /// Depth-first, left-to-right search (`Route.Match`): no match if this route's matchers
    /// fail; otherwise the matches of the children in order, stopping after the first child
    /// that matched and has `continue: false`; the route itself if no child matched.
    pub fn matches(&self, labels: &LabelSet) -> Vec<&Route> {
        let mut all = Vec::new();
        self.collect_matches(labels, &mut all);
        all
    }

    /// Appends this subtree's matches; returns whether there were any.
    fn collect_matches<'a>(&'a self, labels: &LabelSet, out: &mut Vec<&'a Route>) -> bool {
        if !self.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            if child.collect_matches(labels, out) && !child.continue_ {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// Visits this route and then its children, depth-first (`Route.Walk`).
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Route)) {
        visit(self);
        for child in &self.routes {
            child.walk(visit);
        }
    }

    /// `Route.Key()`: the parent's key, `/`, and this route's matchers (`{}` at the root).
    /// Not unique: siblings with equal matchers share it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `Route.ID()`: the parent's id, `/`, this route's matchers and `/<position among
    /// siblings>`, e.g. `{}/{foo="bar"}/0/{bar="baz"}/0`; the root's is `{}`. Unique.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A unique index in walk (pre-)order, the root being 0; with the group labels'
    /// fingerprint it identifies an aggregation group.
    pub fn idx(&self) -> usize {
        self.idx
    }

    /// The receiver (inherited; empty only if the root has none).
    pub fn receiver(&self) -> &str {
        &self.receiver
    }

    /// What this route groups by (inherited).
    pub fn group_by(&self) -> &GroupBy {
        &self.group_by
    }

    /// `group_wait` (inherited, default 30s).
    pub fn group_wait(&self) -> Duration {
        self.group_wait
    }

    /// `group_interval` (inherited, default 5m).
    pub fn group_interval(&self) -> Duration {
        self.group_interval
    }

    /// `repeat_interval` (inherited, default 4h).
    pub fn repeat_interval(&self) -> Duration {
        self.repeat_interval
    }

    /// `mute_time_intervals` of this route only.
    pub fn mute_time_intervals(&self) -> &[String] {
        &self.mute_time_intervals
    }

    /// `active_time_intervals` of this route only.
    pub fn active_time_intervals(&self) -> &[String] {
        &self.active_time_intervals
    }

    /// The sorted matchers.
    pub fn matchers(&self) -> &Matchers {
        &self.matchers
    }

    /// Whether matching continues with the next sibling after this route matched.
    pub fn continue_(&self) -> bool {
        self.continue_
    }

    /// The child routes, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}
