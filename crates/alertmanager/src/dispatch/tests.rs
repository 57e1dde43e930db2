//! Route tree, group label and group key tests (after upstream `dispatch/route_test.go`).

use std::time::Duration;

use super::*;
use crate::labels::LabelSet;
use crate::matchers::{Matchers, Mode, parse_matchers};

fn m(s: &str) -> Matchers {
    parse_matchers(s, Mode::Fallback).unwrap_or_else(|e| panic!("bad matchers {s}: {e:?}"))
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().copied().collect()
}

fn node(matchers: &str, receiver: Option<&str>, routes: Vec<RouteConfig>) -> RouteConfig {
    RouteConfig {
        receiver: receiver.map(str::to_owned),
        matchers: if matchers.is_empty() {
            Matchers::new()
        } else {
            m(matchers)
        },
        routes,
        ..RouteConfig::default()
    }
}

fn labels(names: &[&str]) -> Option<GroupBy> {
    Some(GroupBy::Labels(
        names.iter().map(|s| s.to_string()).collect(),
    ))
}

/// The tree of upstream's `TestRouteMatch`, expressed as nodes.
fn match_tree() -> Route {
    let mins = |n: u64| Some(Duration::from_secs(n * 60));
    let mut owner_x = node(r#"{owner="team-X"}"#, Some("notify-A"), vec![]);
    owner_x.routes = vec![
        node(r#"{env="testing"}"#, Some("notify-testing"), vec![]),
        RouteConfig {
            group_wait: mins(2),
            ..node(r#"{env="production"}"#, Some("notify-productionA"), vec![])
        },
        RouteConfig {
            group_wait: mins(2),
            ..node(r#"{env="production"}"#, Some("notify-productionB"), vec![])
        },
    ];
    owner_x.routes[1].continue_ = true;
    let mut owner_y = node(r#"{owner="team-Y"}"#, Some("notify-B"), vec![]);
    owner_y.group_wait = mins(2);
    owner_y.group_by = labels(&["foo", "bar"]);
    owner_y.routes = vec![node(r#"{env="testing"}"#, Some("notify-testing"), vec![])];
    owner_y.routes[0].group_by = labels(&["foo", "bar"]);
    owner_y.routes[0].group_wait = mins(2);
    let mut group_by = node(r#"{group_by="role"}"#, None, vec![]);
    group_by.group_by = labels(&["role"]);
    let mut testing = node(r#"{env="testing"}"#, Some("notify-testing"), vec![]);
    let mut wait = node(r#"{wait="long"}"#, None, vec![]);
    wait.group_wait = mins(2);
    testing.routes = vec![wait];
    group_by.routes = vec![testing];
    let mut group_all = node(r#"{group_by="all"}"#, Some("notify-all"), vec![]);
    group_all.group_by = Some(GroupBy::All);
    let mut root = node(
        "",
        Some("notify-def"),
        vec![owner_x, owner_y, group_by, group_all],
    );
    root.group_by = labels(&["alertname", "cluster"]);
    root.routes[0].group_wait = mins(5);
    Route::new_tree(&root)
}

fn summary(routes: &[&Route]) -> Vec<(String, String, Duration)> {
    routes
        .iter()
        .map(|r| (r.receiver().to_owned(), r.key().to_owned(), r.group_wait()))
        .collect()
}

/// (receiver, key, group_wait) of one matched route.
type Expected<'a> = (&'a str, &'a str, Duration);

#[test]
fn match_table() {
    let tree = match_tree();
    let def = DEFAULT_GROUP_WAIT;
    let two = Duration::from_secs(120);
    let five = Duration::from_secs(300);
    let cases: Vec<(LabelSet, Vec<Expected>)> = vec![
        (ls(&[("owner", "team-A")]), vec![("notify-def", "{}", def)]),
        (
            ls(&[("owner", "team-A"), ("env", "unset")]),
            vec![("notify-def", "{}", def)],
        ),
        (ls(&[("owner", "team-C")]), vec![("notify-def", "{}", def)]),
        (
            ls(&[("owner", "team-X")]),
            vec![("notify-A", r#"{}/{owner="team-X"}"#, five)],
        ),
        (
            ls(&[("owner", "team-X"), ("env", "testing")]),
            vec![(
                "notify-testing",
                r#"{}/{owner="team-X"}/{env="testing"}"#,
                five,
            )],
        ),
        (
            // `continue` on the first production route: both match.
            ls(&[("owner", "team-X"), ("env", "production")]),
            vec![
                (
                    "notify-productionA",
                    r#"{}/{owner="team-X"}/{env="production"}"#,
                    two,
                ),
                (
                    "notify-productionB",
                    r#"{}/{owner="team-X"}/{env="production"}"#,
                    two,
                ),
            ],
        ),
        (
            ls(&[("owner", "team-Y"), ("env", "testing")]),
            vec![(
                "notify-testing",
                r#"{}/{owner="team-Y"}/{env="testing"}"#,
                two,
            )],
        ),
        (
            ls(&[("group_by", "role"), ("env", "testing"), ("wait", "long")]),
            vec![(
                "notify-testing",
                r#"{}/{group_by="role"}/{env="testing"}/{wait="long"}"#,
                two,
            )],
        ),
        (
            ls(&[("group_by", "all")]),
            vec![("notify-all", r#"{}/{group_by="all"}"#, def)],
        ),
    ];
    for (input, want) in cases {
        let got = summary(&tree.matches(&input));
        let want: Vec<_> = want
            .into_iter()
            .map(|(r, k, w)| (r.to_owned(), k.to_owned(), w))
            .collect();
        assert_eq!(got, want, "input {input}");
    }
}

#[test]
fn inheritance_and_defaults() {
    let tree = match_tree();
    assert_eq!(tree.group_interval(), DEFAULT_GROUP_INTERVAL);
    assert_eq!(tree.repeat_interval(), DEFAULT_REPEAT_INTERVAL);
    assert_eq!(tree.group_wait(), DEFAULT_GROUP_WAIT);
    let role = &tree.routes()[2];
    assert_eq!(role.receiver(), "notify-def");
    assert_eq!(role.group_by(), &GroupBy::Labels(vec!["role".into()]));
    let wait = &role.routes()[0].routes()[0];
    assert_eq!(wait.receiver(), "notify-testing");
    assert_eq!(wait.group_by(), &GroupBy::Labels(vec!["role".into()]));
    assert_eq!(
        tree.routes()[1].group_by(),
        &GroupBy::Labels(vec!["bar".into(), "foo".into()])
    );
    // Root defaults with nothing configured.
    let bare = Route::new_tree(&RouteConfig::default());
    assert_eq!(bare.group_by(), &GroupBy::Labels(vec![]));
    assert_eq!(bare.key(), "{}");
    assert_eq!(bare.id(), "{}");
}

#[test]
fn group_by_all_is_inherited_and_overridable() {
    let mut child = node(r#"{a="1"}"#, None, vec![node(r#"{b="2"}"#, None, vec![])]);
    child.routes[0].group_by = labels(&["x"]);
    let mut empty = node(r#"{c="3"}"#, Some(""), vec![]);
    empty.group_by = labels(&[]);
    let mut root = node("", Some("r"), vec![child, empty]);
    root.group_by = Some(GroupBy::All);
    let tree = Route::new_tree(&root);
    assert_eq!(tree.routes()[0].group_by(), &GroupBy::All);
    assert_eq!(
        tree.routes()[0].routes()[0].group_by(),
        &GroupBy::Labels(vec!["x".into()])
    );
    // Like Alertmanager, an empty receiver or `group_by: []` inherits.
    assert_eq!(tree.routes()[1].group_by(), &GroupBy::All);
    assert_eq!(tree.routes()[1].receiver(), "r");
}

#[test]
fn time_intervals_are_not_inherited() {
    let mut root = node("", Some("r"), vec![node(r#"{a="1"}"#, None, vec![])]);
    root.mute_time_intervals = vec!["night".into()];
    root.active_time_intervals = vec!["day".into()];
    root.routes[0].group_interval = Some(Duration::from_secs(60));
    root.routes[0].mute_time_intervals = vec!["weekend".into()];
    let tree = Route::new_tree(&root);
    assert_eq!(tree.mute_time_intervals(), ["night"]);
    let child = &tree.routes()[0];
    assert_eq!(child.mute_time_intervals(), ["weekend"]);
    assert!(child.active_time_intervals().is_empty());
    assert_eq!(child.group_interval(), Duration::from_secs(60));
    assert_eq!(child.repeat_interval(), DEFAULT_REPEAT_INTERVAL);
}

#[test]
fn matchers_are_sorted_in_key() {
    let tree = Route::new_tree(&node(
        "",
        Some("r"),
        vec![node(
            r#"{team=~"a|b", severity="page", a!="x"}"#,
            None,
            vec![],
        )],
    ));
    assert_eq!(
        tree.routes()[0].key(),
        r#"{}/{a!="x",severity="page",team=~"a|b"}"#
    );
}

/// Upstream's `TestRouteID`, plus walk order and `idx`.
#[test]
fn ids_walk_and_idx() {
    let sub = |s: &str| node(s, None, vec![]);
    let mut routes = vec![
        node(r#"{foo="bar"}"#, Some("test1"), vec![sub(r#"{bar="baz"}"#)]),
        node(r#"{foo="bar"}"#, Some("test1"), vec![sub(r#"{bar="baz"}"#)]),
        node(r#"{foo="bar"}"#, Some("test2"), vec![sub(r#"{bar="baz"}"#)]),
        node(
            r#"{bar="baz"}"#,
            Some("test3"),
            vec![sub(r#"{baz="qux"}"#), sub(r#"{qux="corge"}"#)],
        ),
        sub(r#"{qux=~"[a-zA-Z0-9]+"}"#),
        sub(r#"{corge!~"[0-9]+"}"#),
    ];
    for r in &mut routes {
        r.continue_ = true;
    }
    let tree = Route::new_tree(&node("", Some("default"), routes));
    let mut ids = Vec::new();
    let mut idxs = Vec::new();
    tree.walk(&mut |r| {
        ids.push(r.id().to_owned());
        idxs.push(r.idx());
    });
    let want = [
        r#"{}"#,
        r#"{}/{foo="bar"}/0"#,
        r#"{}/{foo="bar"}/0/{bar="baz"}/0"#,
        r#"{}/{foo="bar"}/1"#,
        r#"{}/{foo="bar"}/1/{bar="baz"}/0"#,
        r#"{}/{foo="bar"}/2"#,
        r#"{}/{foo="bar"}/2/{bar="baz"}/0"#,
        r#"{}/{bar="baz"}/3"#,
        r#"{}/{bar="baz"}/3/{baz="qux"}/0"#,
        r#"{}/{bar="baz"}/3/{qux="corge"}/1"#,
        r#"{}/{qux=~"[a-zA-Z0-9]+"}/4"#,
        r#"{}/{corge!~"[0-9]+"}/5"#,
    ];
    assert_eq!(ids, want);
    assert_eq!(idxs, (0..want.len()).collect::<Vec<_>>());
    // Keys are shared by identical siblings, ids are not.
    assert_eq!(tree.routes()[0].key(), tree.routes()[1].key());
    assert_eq!(
        tree.routes()[1].routes()[0].key(),
        r#"{}/{foo="bar"}/{bar="baz"}"#
    );
    // With `continue` everywhere, an alert lands in several routes, in order.
    let hit = tree.matches(&ls(&[("foo", "bar"), ("bar", "baz"), ("qux", "x")]));
    let hit: Vec<&str> = hit.iter().map(|r| r.id()).collect();
    assert_eq!(
        hit,
        [
            r#"{}/{foo="bar"}/0/{bar="baz"}/0"#,
            r#"{}/{foo="bar"}/1/{bar="baz"}/0"#,
            r#"{}/{foo="bar"}/2/{bar="baz"}/0"#,
            r#"{}/{bar="baz"}/3"#,
            r#"{}/{qux=~"[a-zA-Z0-9]+"}/4"#,
            r#"{}/{corge!~"[0-9]+"}/5"#,
        ]
    );
}

#[test]
fn stop_after_first_non_continue_match() {
    let tree = Route::new_tree(&node(
        "",
        Some("r"),
        vec![
            node(r#"{a="1"}"#, Some("x"), vec![]),
            node(r#"{a="1"}"#, Some("y"), vec![]),
        ],
    ));
    let got = tree.matches(&ls(&[("a", "1")]));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].receiver(), "x");
    // Root matchers failing means no match at all.
    let mut root = node(r#"{z="1"}"#, Some("r"), vec![]);
    root.continue_ = false;
    assert!(
        Route::new_tree(&root)
            .matches(&ls(&[("a", "1")]))
            .is_empty()
    );
}

#[test]
fn group_labels_by_mode() {
    let alert = ls(&[("alertname", "A"), ("cluster", "eu"), ("job", "j")]);
    let mut root = node("", Some("r"), vec![]);
    root.group_by = labels(&["cluster", "missing"]);
    let by = Route::new_tree(&root);
    assert_eq!(group_labels(&by, &alert), ls(&[("cluster", "eu")]));
    root.group_by = Some(GroupBy::All);
    assert_eq!(group_labels(&Route::new_tree(&root), &alert), alert);
    root.group_by = None;
    assert_eq!(
        group_labels(&Route::new_tree(&root), &alert),
        LabelSet::new()
    );
}

#[test]
fn group_keys_are_byte_identical() {
    let mut child = node(r#"{severity="page",team=~"a|b"}"#, None, vec![]);
    child.group_by = Some(GroupBy::All);
    let tree = Route::new_tree(&node("", Some("r"), vec![child]));
    let route = &tree.routes()[0];
    let cases = [
        (ls(&[]), r#"{}/{severity="page",team=~"a|b"}:{}"#),
        (
            ls(&[("b", "y"), ("a", "x")]),
            r#"{}/{severity="page",team=~"a|b"}:{a="x", b="y"}"#,
        ),
        (
            ls(&[("q", "say \"hi\""), ("s", r"C:\dir")]),
            r#"{}/{severity="page",team=~"a|b"}:{q="say \"hi\"", s="C:\\dir"}"#,
        ),
        (
            ls(&[("n", "a\nb\tc")]),
            r#"{}/{severity="page",team=~"a|b"}:{n="a\nb\tc"}"#,
        ),
        (
            ls(&[("u", "héllo 世界"), ("z", "\u{7f}")]),
            r#"{}/{severity="page",team=~"a|b"}:{u="héllo 世界", z="\x7f"}"#,
        ),
    ];
    for (labels, want) in cases {
        let gl = group_labels(route, &labels);
        assert_eq!(group_key(route, &gl), want);
    }
    assert_eq!(group_key(&tree, &LabelSet::new()), "{}:{}");
}
