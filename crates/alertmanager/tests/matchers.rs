//! Parity of the classic matcher parser and `Matchers` rendering with Alertmanager 0.25's
//! `amtool`: every line of `tests/data/matchers/corpus.txt` goes into a child route's
//! `matchers:`; `amtool check-config` must accept exactly what we accept, and
//! `amtool config routes show` must print the matchers exactly as our `Display` does.

use std::path::{Path, PathBuf};

mod oracle;

use wk_alertmanager::matchers::{Matchers, Mode, parse_matchers};

fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matchers/corpus.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

fn amtool(args: &[&str]) -> (bool, String, String) {
    let a = oracle::amtool(args);
    (a.ok, a.stdout, a.stderr)
}

fn write_config(dir: &Path, i: usize, matcher: &str) -> PathBuf {
    let quoted = serde_json::to_string(matcher).unwrap_or_else(|e| panic!("{e}"));
    let yaml = format!(
        "route:\n  receiver: r\n  routes:\n    - receiver: r\n      matchers: [{quoted}]\nreceivers:\n  - name: r\n"
    );
    let path = dir.join(format!("case{i}.yml"));
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    path
}

/// The child route's label in `routes show` output: `    └── <matchers>  receiver: r`.
fn child_route_text(tree: &str) -> Option<String> {
    let line = tree
        .lines()
        .find(|l| l.starts_with("    ") && l.contains("── "))?;
    let (_, rest) = line.split_once("── ")?;
    Some(rest.strip_suffix("  receiver: r")?.to_owned())
}

fn expected_route_text(ms: &Matchers) -> String {
    if ms.is_empty() {
        "default-route".to_owned()
    } else {
        ms.to_string()
    }
}

#[test]
fn classic_parser_matches_amtool() {
    if !oracle::available("the amtool parity test") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("wk-matchers-amtool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
    let mut failures = Vec::new();
    let (mut n_accepted, mut n_rejected) = (0, 0);
    for (i, input) in corpus().iter().enumerate() {
        let ours = parse_matchers(input, Mode::Classic).map(|mut ms| {
            ms.sort();
            ms
        });
        let config = write_config(&dir, i, input);
        let config_arg = config.to_string_lossy().into_owned();
        let (accepted, _, stderr) = amtool(&["check-config", &config_arg]);
        if accepted {
            n_accepted += 1;
        } else {
            n_rejected += 1;
        }
        match (&ours, accepted) {
            (Ok(ms), true) => {
                let flag = format!("--config.file={config_arg}");
                let (ok, tree, err) = amtool(&["config", "routes", "show", &flag]);
                let got = child_route_text(&tree);
                let want = expected_route_text(ms);
                if !ok || got.as_deref() != Some(want.as_str()) {
                    failures.push(format!(
                        "{input:?}: amtool shows {got:?} ({err}), we show {want:?}"
                    ));
                }
            }
            (Err(_), false) => {}
            (Ok(ms), false) => failures.push(format!(
                "{input:?}: we accept {ms}, amtool rejects: {stderr}"
            )),
            (Err(e), true) => failures.push(format!("{input:?}: amtool accepts, we reject: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("amtool accepted {n_accepted}, rejected {n_rejected}");
    assert!(
        n_accepted > 0 && n_rejected > 0,
        "corpus should exercise both outcomes"
    );
    assert!(
        failures.is_empty(),
        "differences from amtool:\n{}",
        failures.join("\n")
    );
}
