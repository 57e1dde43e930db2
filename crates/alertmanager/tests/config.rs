//! The configuration corpus in `tests/data/config`: every file states `# expect: valid` or
//! `# expect: invalid <substring of our error>` on its first line, and, where Alertmanager 0.25
//! deliberately differs (unsupported integrations), `# amtool: valid|invalid` on the second.
//! Webhook `url_file` and `timeout` are accepted by us although 0.25 lacks them (later versions
//! have them), and label names in `group_by` and inhibition `equal` are UTF-8 like alerts and
//! matchers (0.27+), where 0.25 wants classic names.
//! With `amtool` on PATH, its accept/reject verdict must equal ours (or the override).

use std::path::{Path, PathBuf};

mod oracle;

use wk_alertmanager::config::{Config, GroupBy};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// (expected valid, expected error substring, amtool override).
fn expectation(text: &str) -> (bool, String, Option<bool>) {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let exp = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("missing `# expect:` line: {first:?}"));
    let amtool = lines
        .next()
        .and_then(|l| l.strip_prefix("# amtool: "))
        .map(|v| v.trim() == "valid");
    match exp.strip_prefix("invalid") {
        Some(sub) => (false, sub.trim().to_owned(), amtool),
        None => {
            assert_eq!(exp.trim(), "valid");
            (true, String::new(), amtool)
        }
    }
}

#[test]
fn corpus_matches_expectations() {
    let files = corpus();
    assert!(files.len() >= 40, "corpus has {} files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read corpus file");
        let (valid, sub, _) = expectation(&text);
        match (Config::from_yaml(&text), valid) {
            (Ok(_), true) => {}
            (Err(e), false) if e.to_string().contains(&sub) => {}
            (r, _) => failures.push(format!("{}: got {:?}", f.display(), r.map(|_| "valid"))),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn amtool_parity() {
    if !oracle::available("amtool parity") {
        return;
    }
    let mut failures = Vec::new();
    for f in corpus() {
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        let (valid, _, over) = expectation(&text);
        let out = oracle::check_config(&f);
        let ours = Config::from_yaml(&text).is_ok();
        if ours != valid || out.ok != over.unwrap_or(valid) {
            failures.push(format!(
                "{}: amtool {} ours {}\n{}",
                f.display(),
                out.ok,
                ours,
                out.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn route_tree_and_defaults() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config/valid_full_route.yml"),
    )
    .expect("read");
    let c = Config::from_yaml(&text).expect("valid");
    assert_eq!(c.global.resolve_timeout.as_secs(), 5400);
    assert_eq!(c.route.routes.len(), 2);
    assert_eq!(
        c.route.routes[0].matchers.to_string(),
        r#"{severity="page",team=~"a|b"}"#
    );
    assert!(c.route.routes[0].continue_);
    assert_eq!(
        c.route.routes[1].matchers.to_string(),
        r#"{env=~"prod|stage",service="db"}"#
    );
    assert_eq!(c.route.routes[1].group_by, Some(GroupBy::All));
    assert!(c.receivers[1].webhook_configs[0].send_resolved);
    let e = Config::from_yaml("route: {receiver: a}\nreceivers: [{name: a}]\n").expect("valid");
    assert_eq!(e.global.resolve_timeout.as_secs(), 300);
    assert_eq!(e.global.smtp_hello, "localhost");
}

#[test]
fn email_globals_apply() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config/valid_email_globals.yml"),
    )
    .expect("read");
    let c = Config::from_yaml(&text).expect("valid");
    let e = &c.receivers[0].email_configs[0];
    assert_eq!(e.smarthost, "smtp.example.com:587");
    assert_eq!(e.from, "am@example.com");
    assert_eq!(e.auth_password_file, "password.txt");
    assert!(!e.require_tls);
    assert!(!e.send_resolved);
    assert_eq!(e.headers.get("Subject").map(String::as_str), Some("hi"));
}

#[test]
fn yaml_errors_carry_position_and_no_panic_on_junk() {
    let e = Config::from_yaml("route:\n  receiver: a\n  bogus: 1\n").expect_err("invalid");
    assert!(e.to_string().contains("line 3"), "{e}");
    for junk in [
        "",
        "~",
        "[]",
        "route: 5",
        "{{{",
        "route: {routes: [~]}",
        "\t:",
    ] {
        let _ = Config::from_yaml(junk);
    }
}
