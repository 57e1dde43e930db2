use super::*;

/// Parses `text` and returns the value of `key` in the default section.
fn value_of(text: &str, key: &str) -> Option<String> {
    let (file, errors) = parse(text);
    assert!(errors.is_empty(), "{text:?}: {errors:?}");
    file.get(DEFAULT_SECTION, key).map(|e| e.value.clone())
}

#[test]
fn single_line_values_follow_go_ini() {
    let cases: &[(&str, &str)] = &[
        ("k = v", "v"),
        ("k=v", "v"),
        ("k: v", "v"),
        ("k =   spaced out   ", "spaced out"),
        ("k =", ""),
        ("k = \t ", ""),
        // `#` and `;` start a comment anywhere in an unquoted value.
        ("k = abc#123", "abc"),
        ("k = abc;123", "abc"),
        ("k = abc # comment", "abc"),
        ("k = #only comment", ""),
        ("k = a=b:c", "a=b:c"),
        // Triple quotes and backticks keep everything, including comment characters.
        ("k = \"\"\"#p;w\"\"\"", "#p;w"),
        ("k = \"\"\" padded \"\"\"", " padded "),
        ("k = \"\"\"a\"\"\" trailing # ignored", "a"),
        ("k = \"\"\"a\"\"\"b\"\"\"", "a\"\"\"b"),
        ("k = `#p;w`", "#p;w"),
        ("k = `it's \"quoted\"`", "it's \"quoted\""),
        // Surrounding single quotes are removed only when both ends match.
        ("k = \"value\"", "value"),
        ("k = 'value'", "value"),
        ("k = \"${POD_IP}:9094\"", "${POD_IP}:9094"),
        ("k = \"value'", "\"value'"),
        ("k = \"a\"b\"", "\"a\"b\""),
        ("k = \"\"", ""),
        ("k = \"", "\""),
        ("k = \"a#b\"", "\"a"),
        // A lone `"""` at the end of the input is a plain value.
        ("k = \"\"\"", "\"\"\""),
        // Keys can be quoted.
        ("\"my key\" = v", "v"),
        ("`my key` = v", "v"),
    ];
    for (text, want) in cases {
        let key = if text.starts_with(['"', '`']) {
            "my key"
        } else {
            "k"
        };
        assert_eq!(
            value_of(text, key).as_deref(),
            Some(*want),
            "input {text:?}"
        );
    }
}

#[test]
fn multi_line_quoted_values() {
    let cases: &[(&str, &str)] = &[
        ("k = \"\"\"first\nsecond\"\"\"\n", "first\nsecond"),
        ("k = \"\"\"\nbody\n\"\"\"\n", "\nbody\n"),
        ("k = `one\ntwo\nthree` # c\n", "one\ntwo\nthree"),
        ("k = `a\r\nb`\r\n", "a\r\nb"),
    ];
    for (text, want) in cases {
        assert_eq!(
            value_of(text, "k").as_deref(),
            Some(*want),
            "input {text:?}"
        );
    }
}

#[test]
fn backslash_continues_a_value() {
    let cases: &[(&str, &str)] = &[
        ("k = one \\\n  two\n", "one two"),
        ("k = a\\\nb\\\nc\nnext = 1\n", "abc"),
        ("k = a\\\n\nnext = 1\n", "a"),
        ("k = a # kept \\\nb\n", "a # kept b"),
        ("k = a\\", "a"),
    ];
    for (text, want) in cases {
        assert_eq!(
            value_of(text, "k").as_deref(),
            Some(*want),
            "input {text:?}"
        );
    }
    let (file, _) = parse("k = a\\\nb\nnext = 1\n");
    assert_eq!(file.get(DEFAULT_SECTION, "next").map(|e| e.line), Some(3));
}

#[test]
fn sections_comments_and_line_numbers() {
    let text = "\
# comment
; another
top = 1

[server]
http_port = 3000
  [unified_alerting.state_history]
backend = loki
[server]
domain = example.com
";
    let (file, errors) = parse(text);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<&str> = file.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["DEFAULT", "server", "unified_alerting.state_history"]
    );
    let entry = |s: &str, k: &str| file.get(s, k).map(|e| (e.value.as_str(), e.line));
    assert_eq!(entry("DEFAULT", "top"), Some(("1", 3)));
    assert_eq!(entry("server", "http_port"), Some(("3000", 6)));
    assert_eq!(entry("server", "domain"), Some(("example.com", 10)));
    assert_eq!(
        entry("unified_alerting.state_history", "backend"),
        Some(("loki", 8))
    );
    assert_eq!(file.section("server").map(|s| s.line), Some(5));
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    let (file, errors) = parse("[s]\na = 1\nb = 2\na = 3\n");
    assert!(errors.is_empty());
    let section = file.section("s").expect("section s");
    let keys: Vec<&str> = section.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(
        file.get("s", "a").map(|e| (e.value.as_str(), e.line)),
        Some(("3", 4))
    );
}

#[test]
fn crlf_and_bom_are_accepted() {
    let (file, errors) = parse("\u{feff}top = 1\r\n[s]\r\nk = \"v\"\r\nq = \"\"\"x\"\"\"\r\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        file.get(DEFAULT_SECTION, "top").map(|e| e.value.as_str()),
        Some("1")
    );
    assert_eq!(file.get("s", "k").map(|e| e.value.as_str()), Some("v"));
    assert_eq!(file.get("s", "q").map(|e| e.value.as_str()), Some("x"));
}

#[test]
fn section_names_are_kept_verbatim() {
    let (file, errors) = parse("[ spaced ]\na = 1\n[a]]\nb = 2\n");
    assert!(errors.is_empty());
    assert!(file.get(" spaced ", "a").is_some());
    assert!(file.get("a]", "b").is_some());
}

#[test]
fn auto_increment_keys() {
    let (file, _) = parse("[list]\n- = a\n- = b\n");
    assert_eq!(file.get("list", "#1").map(|e| e.value.as_str()), Some("a"));
    assert_eq!(file.get("list", "#2").map(|e| e.value.as_str()), Some("b"));
}

#[test]
fn syntax_errors_carry_line_numbers_and_parsing_goes_on() {
    let text = "[server]\nhttp_port 3000\n[unclosed\n= v\n[]\nk = \"\"\"never closed\nmore\n";
    let (file, errors) = parse(text);
    let found: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        found,
        [
            (2, "key-value delimiter not found"),
            (3, "unclosed section"),
            (4, "empty key name"),
            (5, "empty section name"),
            (6, "missing closing \"\"\" for the value that starts here"),
        ]
    );
    assert!(file.section("server").is_some());
}

#[test]
fn unterminated_backtick_is_an_error() {
    let (_, errors) = parse("a = 1\nk = `open\n");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
}

#[test]
fn debug_output_hides_secret_values() {
    let (file, _) = parse("admin_password = hunter2\n");
    let shown = format!("{file:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn arbitrary_input_never_panics() {
    let alphabet: Vec<char> = "ab=:#;[]\"'`\\ \t\r\n%()s$_{}.\u{b5}\u{feff}0-+dhM"
        .chars()
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let no_env = |_: &str| None;
    for _ in 0..3000 {
        let len = (next() % 48) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let (file, _) = parse(&text);
        let raw =
            crate::raw::RawConfig::from_ini(&file, |line| crate::source::Source::Defaults { line });
        for section in &file.sections {
            for entry in &section.entries {
                let _ = raw.interpolate(&section.name, &entry.key, &entry.value);
                let _ = crate::expand::expand(&entry.value, &no_env);
            }
        }
        let _ = crate::duration::parse_duration(&text);
        let _ = crate::reader::parse_go_int(&text);
    }
}
