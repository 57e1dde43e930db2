//! Routing parity with `amtool config routes test`: for each configuration in
//! `tests/data/routes/` and each `# test: labels => receivers` line, our route tree must reach
//! the recorded receivers, and so must the real Alertmanager's amtool.

mod oracle;

use std::path::{Path, PathBuf};

use wk_alertmanager::config::Config;
use wk_alertmanager::dispatch::Route;
use wk_alertmanager::labels::LabelSet;

/// One `# test:` line: the label arguments as written and the expected receivers.
struct Case {
    args: Vec<String>,
    expected: String,
}

fn corpus() -> Vec<(PathBuf, String, Vec<Case>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/routes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{e}"));
            let cases = text
                .lines()
                .filter_map(|l| l.strip_prefix("# test: "))
                .map(|l| {
                    let (labels, expected) = l.split_once(" => ").unwrap_or((l, ""));
                    Case {
                        args: labels.split_whitespace().map(str::to_owned).collect(),
                        expected: expected.trim().to_owned(),
                    }
                })
                .collect();
            (f, text, cases)
        })
        .collect()
}

fn label_set(args: &[String]) -> LabelSet {
    args.iter()
        .filter_map(|a| a.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn receivers(route: &Route, labels: &LabelSet) -> String {
    route
        .matches(labels)
        .iter()
        .map(|r| r.receiver().to_owned())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn routes_reach_the_recorded_receivers() {
    let corpus = corpus();
    let total: usize = corpus.iter().map(|(_, _, c)| c.len()).sum();
    assert!(total >= 20, "routing corpus too small: {total} cases");
    let mut failures = Vec::new();
    for (file, text, cases) in &corpus {
        let config = Config::from_yaml(text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let tree = Route::new_tree(&config.route);
        for case in cases {
            let got = receivers(&tree, &label_set(&case.args));
            if got != case.expected {
                failures.push(format!(
                    "{} {:?}: ours {got}, expected {}",
                    file.display(),
                    case.args,
                    case.expected
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn amtool_reaches_the_same_receivers() {
    if !oracle::available("amtool routing parity") {
        return;
    }
    let mut failures = Vec::new();
    for (file, _, cases) in corpus() {
        let flag = format!("--config.file={}", file.display());
        for case in cases {
            let mut args = vec!["config", "routes", "test", flag.as_str()];
            args.extend(case.args.iter().map(String::as_str));
            let out = oracle::amtool(&args);
            if !out.ok || out.stdout.trim() != case.expected {
                failures.push(format!(
                    "{} {:?}: amtool {:?} ({}), expected {}",
                    file.display(),
                    case.args,
                    out.stdout.trim(),
                    out.stderr.trim(),
                    case.expected
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
