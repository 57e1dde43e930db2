//! Tables re-expressing upstream's `pkg/labels` and `matcher/parse` test cases.

use super::*;

use MatchType::{Equal as Eq, NotEqual as Ne, NotRegexp as Nre, Regexp as Re};

fn m(kind: MatchType, name: &str, value: &str) -> Matcher {
    match Matcher::new(kind, name, value) {
        Ok(m) => m,
        Err(e) => panic!("bad test matcher {name} {value}: {e}"),
    }
}

fn check(mode: Mode, input: &str, want: &[(MatchType, &str, &str)]) {
    let want: Matchers = want.iter().map(|&(k, n, v)| m(k, n, v)).collect();
    match parse_matchers(input, mode) {
        Ok(got) => assert_eq!(got, want, "{mode:?} {input:?}"),
        Err(e) => panic!("{mode:?} {input:?}: unexpected error {e}"),
    }
}

fn check_err(mode: Mode, input: &str, want: &str) {
    match parse_matchers(input, mode) {
        Ok(got) => panic!("{mode:?} {input:?}: expected error {want:?}, got {got}"),
        Err(e) => assert_eq!(e.to_string(), want, "{mode:?} {input:?}"),
    }
}

#[test]
fn classic_accepts() {
    let c = Mode::Classic;
    check(c, "{}", &[]);
    check(c, "", &[]);
    check(c, "{foo='}", &[(Eq, "foo", "'")]);
    check(c, "{foo=`}", &[(Eq, "foo", "`")]);
    check(c, "{foo=\\\"}", &[(Eq, "foo", "\"")]);
    check(c, "{foo=bar}", &[(Eq, "foo", "bar")]);
    check(c, "{foo=\"bar\"}", &[(Eq, "foo", "bar")]);
    check(c, "{foo=~bar.*}", &[(Re, "foo", "bar.*")]);
    check(c, "{foo!~\"bar.*\"}", &[(Nre, "foo", "bar.*")]);
    check(c, "{foo!=bar}", &[(Ne, "foo", "bar")]);
    check(
        c,
        r#"{foo="bar", baz!~".*quux", derp="wat"}"#,
        &[
            (Eq, "foo", "bar"),
            (Nre, "baz", ".*quux"),
            (Eq, "derp", "wat"),
        ],
    );
    check(
        c,
        r#"{foo="bar,quux", job="job1"}"#,
        &[(Eq, "foo", "bar,quux"), (Eq, "job", "job1")],
    );
    check(
        c,
        r#"{foo = "bar", dings != "bums", }"#,
        &[(Eq, "foo", "bar"), (Ne, "dings", "bums")],
    );
    check(
        c,
        "foo=bar,dings!=bums",
        &[(Eq, "foo", "bar"), (Ne, "dings", "bums")],
    );
    check(
        c,
        r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
        &[(
            Eq,
            "quote",
            "She said: \"Hi, ladies! That's gender-neutral…\"",
        )],
    );
    check(c, r#"statuscode=~"5..""#, &[(Re, "statuscode", "5..")]);
    check(c, "tricky=~~~", &[(Re, "tricky", "~~")]);
    check(c, r#"trickier==\\=\=\""#, &[(Eq, "trickier", "=\\=\\=\"")]);
    check(
        c,
        r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
        &[
            (Ne, "contains_quote", "\""),
            (Nre, "contains_comma", "foo,bar"),
        ],
    );
    check(c, "{foo=bar}}", &[(Eq, "foo", "bar}")]);
    check(c, "{foo=bar}},}", &[(Eq, "foo", "bar}}")]);
    check(c, "{foo=,bar=}}", &[(Eq, "foo", ""), (Eq, "bar", "}")]);
    check(c, r"{foo=bar\t}", &[(Eq, "foo", "bar\\t")]);
    check(c, r"{foo=bar\n}", &[(Eq, "foo", "bar\n")]);
    check(c, r"{foo=bar\}", &[(Eq, "foo", "bar\\")]);
    check(c, r"{foo=bar\\}", &[(Eq, "foo", "bar\\")]);
    check(c, r#"{foo=bar\"}"#, &[(Eq, "foo", "bar\"")]);
    check(c, "job=", &[(Eq, "job", "")]);
    check(c, "{foo=", &[(Eq, "foo", "")]);
    check(c, "{foo=}b", &[(Eq, "foo", "}b")]);
    check(c, "a:b=c", &[(Eq, "a:b", "c")]);
    check(c, "\tfoo\n=\r bar \u{c}", &[(Eq, "foo", "bar")]);
}

#[test]
fn classic_rejects() {
    let c = Mode::Classic;
    check_err(c, ",", "bad matcher format: ");
    check_err(c, "{,}", "bad matcher format: ");
    check_err(
        c,
        "job=\"value",
        "matcher value contains unescaped double quote: \"value",
    );
    check_err(
        c,
        "job=value\"",
        "matcher value contains unescaped double quote: value\"",
    );
    check_err(
        c,
        r#"trickier==\\=\=\"""#,
        r#"matcher value contains unescaped double quote: =\\=\=\"""#,
    );
    check_err(
        c,
        "contains_unescaped_quote = foo\"bar",
        "matcher value contains unescaped double quote: foo\"bar",
    );
    check_err(
        c,
        r#"{invalid-name = "valid label"}"#,
        r#"bad matcher format: invalid-name = "valid label""#,
    );
    check_err(c, r#""{foo=\"bar"}"#, r#"bad matcher format: "{foo=\"bar""#);
    check_err(c, r#""foo="bar"""#, r#"bad matcher format: "foo="bar"""#);
    check_err(c, "{{foo=", "bad matcher format: {foo=");
    check_err(c, "foo=\u{a0}bar\u{a0},x", "bad matcher format: x");
    check_err(c, "ä=1", "bad matcher format: ä=1");
    assert!(matches!(
        parse_matchers(r#"{foo=~"invalid[regexp"}"#, c),
        Err(ParseError::InvalidRegex(_))
    ));
}

#[test]
fn utf8_accepts() {
    let u = Mode::Utf8;
    check(u, "", &[]);
    check(u, "{}", &[]);
    check(u, "{foo=bar}", &[(Eq, "foo", "bar")]);
    check(u, "{foo=bar,}", &[(Eq, "foo", "bar")]);
    check(u, "{foo=~[a-z]+}", &[(Re, "foo", "[a-z]+")]);
    check(u, "{foo!~[a-z]+}", &[(Nre, "foo", "[a-z]+")]);
    check(u, "{foo=🙂bar}", &[(Eq, "foo", "🙂bar")]);
    check(u, "foo=bar,", &[(Eq, "foo", "bar")]);
    check(u, "{\"foo\"=~\"\\\\d+\"}", &[(Re, "foo", "\\d+")]);
    check(
        u,
        "{\"foo\"=\"\\xf0\\x9f\\x99\\x82\"}",
        &[(Eq, "foo", "🙂")],
    );
    check(u, "{\"foo\"=\"\\U0001f642\"}", &[(Eq, "foo", "🙂")]);
    check(u, "{\"foo\"=\"bar\\t\"}", &[(Eq, "foo", "bar\t")]);
    check(u, "{\"foo\"=\"\\\"bar\\\"\"}", &[(Eq, "foo", "\"bar\"")]);
    check(u, "\"foo\"=\"bar\",", &[(Eq, "foo", "bar")]);
    check(
        u,
        "foo=\"bar\",bar!=\"baz\"",
        &[(Eq, "foo", "bar"), (Ne, "bar", "baz")],
    );
    check(
        u,
        " { foo = bar , \"a b\" != \"\\101\" } ",
        &[(Eq, "foo", "bar"), (Ne, "a b", "A")],
    );
    check(u, "foo:bar.baz=1", &[(Eq, "foo:bar.baz", "1")]);
}

#[test]
fn utf8_rejects_with_positions() {
    let u = Mode::Utf8;
    check_err(u, ",", "0:1: unexpected ,: expected label name");
    check_err(u, "{,}", "1:2: unexpected ,: expected label name");
    check_err(u, "{", "0:1: end of input: expected close brace");
    check_err(u, "}", "0:1: }: expected opening brace");
    check_err(u, "foo=bar}", "0:8: }: expected opening brace");
    check_err(u, "{foo=bar", "0:8: end of input: expected close brace");
    check_err(
        u,
        "{foo=:\"bar\"}",
        "6:11: unexpected \"bar\": expected a comma or close brace",
    );
    check_err(u, "{foo=\"bar\\w\"}", "5:12: \"bar\\w\": invalid input");
    check_err(u, "{\"foo\"=~\"\\d+\"}", "8:13: \"\\d+\": invalid input");
    check_err(
        u,
        "{foo=bar\\n}",
        "8:9: \\: invalid input: expected a comma or close brace",
    );
    check_err(
        u,
        "{\"foo\"=\"\\xf0\\x9f\"}",
        "7:17: \"\\xf0\\x9f\": invalid input",
    );
    check_err(
        u,
        "foo",
        "end of input: expected an operator such as '=', '!=', '=~' or '!~'",
    );
    check_err(u, "foo=", "end of input: expected label value");
    check_err(
        u,
        "foo!",
        "3:4: unexpected end of input, expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'",
    );
    check_err(
        u,
        "foo!x",
        "3:4: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'",
    );
    check_err(
        u,
        "foo=\"bar",
        "4:8: \"bar: missing end \": expected label value",
    );
    check_err(u, "~", "0:1: ~: invalid input");
    check_err(u, "{}x", "2:3: x: expected end of input");
    check_err(u, "{}}", "2:3: }: expected end of input");
    check_err(u, "{a=b}~", "5:6: ~: invalid input: expected end of input");
    check_err(
        u,
        "a=b,,",
        "4:5: unexpected ,: expected a matcher or close brace after comma",
    );
    check_err(
        u,
        "a=b c=d",
        "4:5: unexpected c: expected a comma or close brace",
    );
    check_err(
        u,
        "ä=b ö",
        "4:5: unexpected ö: expected a comma or close brace",
    );
    match parse_matchers("a=~\"(\"", u) {
        Err(ParseError::InvalidRegexUtf8(_)) => {}
        other => panic!("{other:?}"),
    }
    match parse_matchers("{a=b", u) {
        Err(ParseError::Syntax(e)) => assert_eq!(e.kind, SyntaxErrorKind::ExpectedCloseBrace),
        other => panic!("{other:?}"),
    }
}

#[test]
fn single_matcher() {
    assert_eq!(parse_matcher("a=b", Mode::Utf8), Ok(m(Eq, "a", "b")));
    assert_eq!(parse_matcher("", Mode::Utf8), Err(ParseError::NoMatchers));
    assert_eq!(
        parse_matcher("a=b,c=d", Mode::Utf8),
        Err(ParseError::TooManyMatchers(2))
    );
    assert_eq!(
        parse_matcher("{a=b}", Mode::Fallback),
        Err(ParseError::UnexpectedBrace("{a=b}".into()))
    );
    assert_eq!(
        parse_matcher("a=b\\c", Mode::Fallback),
        Ok(m(Eq, "a", "b\\c"))
    );
    assert_eq!(
        parse_matcher(" a = \"b\" ", Mode::Classic),
        Ok(m(Eq, "a", "b"))
    );
}

#[test]
fn fallback_prefers_classic_then_utf8() {
    let f = Mode::Fallback;
    // Classic only (unquoted backslash).
    check(f, r"foo=bar\n", &[(Eq, "foo", "bar\n")]);
    // UTF-8 only (quoted / non-classic names).
    check(f, r#""a b"="c""#, &[(Eq, "a b", "c")]);
    check(f, "ä=1", &[(Eq, "ä", "1")]);
    // Both, disagreeing: the classic result wins.
    check(f, "foo=~~~", &[(Re, "foo", "~~")]);
    // Both reject: the classic error is reported.
    check_err(
        f,
        "{foo=\"bar}",
        "matcher value contains unescaped double quote: \"bar",
    );
}

#[test]
fn display_like_upstream() {
    let ms: Matchers = vec![
        m(Eq, "a", "x\"y\\z\nw\t"),
        m(Re, "b", "1|2"),
        m(Ne, "c", ""),
        m(Nre, "d", "é"),
    ]
    .into();
    assert_eq!(
        ms.to_string(),
        "{a=\"x\\\"y\\\\z\\nw\t\",b=~\"1|2\",c!=\"\",d!~\"é\"}"
    );
    assert_eq!(m(Eq, "a b", "x\ty").to_string(), "\"a b\"=\"x\\ty\"");
    assert_eq!(m(Ne, "a,b", "\u{1}").to_string(), "\"a,b\"!=\"\\x01\"");
    assert_eq!(m(Eq, "ä", "1").to_string(), "ä=\"1\"");
    assert_eq!(Matchers::new().to_string(), "{}");
}

#[test]
fn sort_by_name_value_type() {
    let mut ms: Matchers = vec![
        m(Nre, "b", "1"),
        m(Eq, "b", "1"),
        m(Re, "a", "2"),
        m(Ne, "a", "10"),
    ]
    .into();
    ms.sort();
    assert_eq!(ms.to_string(), "{a!=\"10\",a=~\"2\",b=\"1\",b!~\"1\"}");
}

#[test]
fn matching() {
    let labels: LabelSet = [("job", "api"), ("env", "prod")].into_iter().collect();
    let ok = |s: &str| match parse_matchers(s, Mode::Utf8) {
        Ok(ms) => ms.matches(&labels),
        Err(e) => panic!("{s}: {e}"),
    };
    assert!(ok("{}"));
    assert!(ok("job=api"));
    assert!(ok("job=~\"a.*\",env!=dev"));
    assert!(!ok("job=~\"a\""));
    assert!(ok("missing=\"\""));
    assert!(ok("missing=~\".*\""));
    assert!(!ok("missing!=\"\""));
    assert!(ok("job!~\"x|y\""));
    assert!(ok("env=~\"prod|dev\""));
    assert!(!ok("env=~\"pro\""));
}

/// Deterministic xorshift generator so the fuzz corpus is stable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn parsers_never_panic() {
    const ALPHABET: &[&str] = &[
        "{", "}", ",", "=", "!", "~", "\"", "\\", "'", "`", " ", "\t", "\n", "a", "b", "_", ":",
        "0", "ä", "🙂", "\u{a0}", "x", "n", "u", "U", "7", "[", "]", "(", ")", "*", ".", "|",
        "\\x", "\\u00", "\\d", "\\Q", "\\E", "[:", ":]", "^", "$",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = (rng.next() % 16) as usize;
        let input: String = (0..len)
            .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
            .collect();
        for mode in [Mode::Classic, Mode::Utf8, Mode::Fallback] {
            if let Ok(ms) = parse_matchers(&input, mode) {
                let _ = ms.to_string();
            }
            let _ = parse_matcher(&input, mode);
        }
    }
}
