//! Tests of rule templating: Grafana's documented examples and its own test cases, Go's
//! formatting rules, error texts and positions, and garbage input.

use std::collections::BTreeMap;

use super::*;

const URL: &str = "http://localhost/path/prefix";

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values(pairs: &[(&str, Option<f64>)]) -> BTreeMap<String, TemplateValue> {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                TemplateValue {
                    labels: labels(&[("host", "a")]),
                    value: *v,
                },
            )
        })
        .collect()
}

/// Labels `instance=foo, job=node`, values `B=3 {host=a}`, `C=NaN {host=a}`.
fn sample() -> TemplateData {
    TemplateData::new(
        labels(&[("instance", "foo"), ("job", "node")]),
        values(&[("B", Some(3.0)), ("C", None)]),
    )
}

fn with_b(b: f64) -> TemplateData {
    TemplateData::new(labels(&[("instance", "foo")]), values(&[("B", Some(b))]))
}

fn with_value(value: &str) -> TemplateData {
    TemplateData {
        value: value.to_string(),
        ..TemplateData::default()
    }
}

fn run(text: &str, data: &TemplateData) -> Result<String, TemplateError> {
    expand("test", text, data, URL)
}

fn ok(text: &str, data: &TemplateData) -> String {
    match run(text, data) {
        Ok(s) => s,
        Err(e) => panic!("{text:?} failed: {e}"),
    }
}

fn fail(text: &str, data: &TemplateData) -> TemplateError {
    match run(text, data) {
        Ok(s) => panic!("{text:?} gave {s:?}, expected an error"),
        Err(e) => e,
    }
}

#[test]
fn documented_examples() {
    let cases: &[(&str, TemplateData, &str)] = &[
        ("{{ $labels.instance }} is down", sample(), "foo is down"),
        ("{{ $values.B.Value }}", sample(), "3"),
        ("{{ $values.B.Labels.host }}", sample(), "a"),
        (
            "{{ humanize $values.B.Value }}",
            with_b(1234567.0),
            "1.235M",
        ),
        (
            "{{ printf \"%.2f\" $values.B.Value }}",
            with_b(12.3456),
            "12.35",
        ),
        (
            "{{ if gt $values.B.Value 80.0 }}high{{ else }}low{{ end }}",
            with_b(90.0),
            "high",
        ),
        (
            "{{ if gt $values.B.Value 80.0 }}high{{ else }}low{{ end }}",
            with_b(10.0),
            "low",
        ),
        (
            "{{ $value }}",
            sample(),
            "[ var='B' labels={host=a} value=3 ], [ var='C' labels={host=a} value=null ]",
        ),
        ("{{ humanizePercentage 0.1234 }}", sample(), "12.34%"),
        ("{{ humanizeDuration 3601 }}", sample(), "1h 0m 1s"),
        ("{{ humanize1024 1048576 }}", sample(), "1Mi"),
        ("{{ toUpper \"a\" }}", sample(), "A"),
        // Go reads `$1x` as the group named "1x", which does not exist.
        ("{{ reReplaceAll \"(a)b\" \"$1x\" \"ab\" }}", sample(), ""),
        (
            "{{ reReplaceAll \"(a)b\" \"${1}x\" \"ab\" }}",
            sample(),
            "ax",
        ),
        ("{{ title \"hello world\" }}", sample(), "Hello World"),
        (
            "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
            sample(),
            "instance=foo;job=node;",
        ),
        (
            "{{ index $labels \"instance.name\" }}|{{ index $labels \"instance\" }}",
            sample(),
            "|foo",
        ),
        ("{{ len $labels }}", sample(), "2"),
    ];
    for (text, data, want) in cases {
        assert_eq!(ok(text, data), *want, "{text}");
    }
}

#[test]
fn missing_label_prints_no_value_in_brackets() {
    assert_eq!(
        ok("{{ $labels.nope }} is down", &sample()),
        "[no value] is down"
    );
    assert_eq!(ok("{{ $values.Z.Value }}", &sample()), "[no value]");
    assert_eq!(
        ok("{{ if $labels.nope }}y{{ else }}n{{ end }}", &sample()),
        "n"
    );
}

#[test]
fn values_print_like_go() {
    let data = sample();
    // Grafana's Labels and Value types print through their String() methods.
    assert_eq!(ok("{{ $labels }}", &data), "instance=foo, job=node");
    assert_eq!(ok("{{ $values.B }}", &data), "3");
    assert_eq!(ok("{{ $values.C }}", &data), "NaN");
    assert_eq!(ok("{{ $values.B.Labels }}", &data), "host=a");
    assert_eq!(ok("{{ $values }}", &data), "map[B:3 C:NaN]");
    assert_eq!(ok("{{ .Values.B }} {{ .Labels.job }}", &data), "3 node");
    assert_eq!(
        ok("{{ printf \"%s|%v\" $labels $values.B }}", &data),
        "instance=foo, job=node|3"
    );
    assert_eq!(ok("{{ $labels | print }}", &data), "instance=foo, job=node");
    // Floats print with Go's %v; Value.String() never uses an exponent.
    assert_eq!(
        ok("{{ $values.B.Value }}", &with_b(1234567.0)),
        "1.234567e+06"
    );
    assert_eq!(ok("{{ $values.B }}", &with_b(1234567.0)), "1234567");
    assert_eq!(ok("{{ $values.B.Value }}", &with_b(0.00001)), "1e-05");
    assert_eq!(ok("{{ $values.B.Value }}", &with_b(123456.5)), "123456.5");
    assert_eq!(ok("{{ $values.C.Value }}", &data), "NaN");
    assert_eq!(ok("{{ 1.5 }} {{ true }} {{ 7 }}", &data), "1.5 true 7");
    assert_eq!(ok("{{ args 1 \"x\" }}", &data), "map[arg0:1 arg1:x]");
    assert_eq!(
        ok("{{ . }}", &data),
        "{instance=foo, job=node map[B:3 C:NaN] [ var='B' labels={host=a} value=3 ], \
         [ var='C' labels={host=a} value=null ]}"
    );
}

/// Grafana's `TestExpandTemplate` cases.
#[test]
fn grafana_expand_cases() {
    let one = |v: Option<f64>, l: &[(&str, &str)]| {
        let mut values = BTreeMap::new();
        values.insert(
            "A".to_string(),
            TemplateValue {
                labels: labels(l),
                value: v,
            },
        );
        TemplateData::new(Labels::new(), values)
    };
    assert_eq!(
        ok(
            "{{ $values.A.Labels.instance }} has value {{ $values.A }}",
            &one(Some(1.0), &[("instance", "foo")])
        ),
        "foo has value 1"
    );
    assert_eq!(
        ok(
            "{{ $values.A.Labels.instance }} has value {{ $values.A.Value | printf \"%.1f\" }}",
            &one(Some(1.1), &[("instance", "foo")])
        ),
        "foo has value 1.1"
    );
    assert_eq!(
        ok(
            "{{ $values.A.Labels.instance }} has value {{ $values.A }}",
            &one(Some(1.0), &[])
        ),
        "[no value] has value 1"
    );
    assert_eq!(
        ok(
            "{{ $values.A.Labels.instance }} has value {{ $values.A }}",
            &one(None, &[("instance", "foo")])
        ),
        "foo has value NaN"
    );
    assert_eq!(
        ok("{{ humanize $value }}", &with_value("1234567.0")),
        "1.235M"
    );
    assert_eq!(
        ok("{{ humanize $value }}", &with_value("1234567")),
        "1.235M"
    );

    let series = |vs: &[f64]| {
        let values = vs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    ((b'A' + i as u8) as char).to_string(),
                    TemplateValue {
                        labels: Labels::new(),
                        value: Some(*v),
                    },
                )
            })
            .collect();
        TemplateData::new(Labels::new(), values)
    };
    assert_eq!(
        ok(
            "{{ range $key, $val := $values }}{{ humanize1024 .Value }}:{{ end }}",
            &series(&[0.0, 1.0, 1048576.0, 0.12])
        ),
        "0:1:1Mi:0.12:"
    );
    assert_eq!(
        ok(
            "{{ range $key, $val := $values }}{{ humanizeDuration .Value }}:{{ end }}",
            &series(&[
                0.0,
                1.0,
                60.0,
                3600.0,
                86400.0,
                86400.0 + 3600.0,
                -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
                899.99
            ])
        ),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
    );
    assert_eq!(
        ok(
            "{{ range $key, $val := $values }}{{ humanizeDuration .Value }}:{{ end }}",
            &series(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345])
        ),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
    );
    assert_eq!(
        ok("{{ humanizeDuration $value }}", &with_value("86400")),
        "1d 0h 0m 0s"
    );
    assert_eq!(
        ok("{{ humanizeDuration $value }}", &with_value(".0001")),
        "100us"
    );
    assert_eq!(
        ok("{{ humanizeDuration $value }}", &with_value("1.2345")),
        "1.234s"
    );
    let d = TemplateData::default();
    assert_eq!(
        ok(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
            &d
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok(
            r#"{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}"#,
            &d
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok("{{ 1435065584.128 | humanizeTimestamp }}", &d),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(
        ok(r#"{{ "1435065584.128" | humanizeTimestamp }}"#, &d),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(ok(r#"{{ "aa bb CC" | title }}"#, &d), "Aa Bb CC");
    assert_eq!(ok(r#"{{ "aa bb CC" | toUpper }}"#, &d), "AA BB CC");
    assert_eq!(ok(r#"{{ "aA bB CC" | toLower }}"#, &d), "aa bb cc");
    assert_eq!(
        ok(r#"{{ match "a+" "aa" }} {{ match "a+" "b" }}"#, &d),
        "true false"
    );
    assert_eq!(ok(r#"{{ reReplaceAll "(a)b" "x$1" "ab" }}"#, &d), "xa");
    assert_eq!(
        ok(
            r#"{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}"#,
            &d
        ),
        "1 2"
    );
    assert_eq!(ok("{{ pathPrefix }}", &d), "/path/prefix");
    assert_eq!(ok("{{ externalURL }}", &d), URL);
    assert_eq!(
        ok(
            r#"{{ graphLink "{\"expr\": \"up\", \"datasource\": \"gdev-prometheus\"}" }}"#,
            &d
        ),
        r#"/explore?left={"datasource":"gdev-prometheus","queries":[{"datasource":"gdev-prometheus","expr":"up","instant":false,"range":true,"refId":"A"}],"range":{"from":"now-1h","to":"now"}}"#
    );
    assert_eq!(
        ok(
            r#"{{ graphLink "{\"expr\": \"process_open_fds > 0\", \"datasource\": \"gdev prometheus\"}" }}"#,
            &d
        ),
        r#"/explore?left={"datasource":"gdev+prometheus","queries":[{"datasource":"gdev+prometheus","expr":"process_open_fds+%3E+0","instant":false,"range":true,"refId":"A"}],"range":{"from":"now-1h","to":"now"}}"#
    );
    assert_eq!(ok(r#"{{ graphLink "up" }}"#, &d), "");
    assert_eq!(
        ok(
            r#"{{ tableLink "{\"expr\": \"up\", \"datasource\": \"gdev-prometheus\"}" }}"#,
            &d
        ),
        r#"/explore?left={"datasource":"gdev-prometheus","queries":[{"datasource":"gdev-prometheus","expr":"up","instant":true,"range":false,"refId":"A"}],"range":{"from":"now-1h","to":"now"}}"#
    );
    assert_eq!(ok(r#"{{ tableLink "up" }}"#, &d), "");
    assert_eq!(
        ok(
            "{{ $values.A | strvalue }}",
            &one(Some(1.0), &[("__value__", "foo")])
        ),
        ""
    );
    assert_eq!(ok(r#"{{ "<b>" | safeHtml }}"#, &d), "<b>");
}

#[test]
fn more_functions() {
    let d = sample();
    assert_eq!(ok("{{ filterLabels $labels \"job\" }}", &d), "job=node");
    assert_eq!(ok("{{ removeLabels $labels \"job\" }}", &d), "instance=foo");
    assert_eq!(
        ok("{{ filterLabelsRe $labels \"^i\" }}", &d),
        "instance=foo"
    );
    assert_eq!(
        ok("{{ removeLabelslRe $labels \"o\" }}", &d),
        "instance=foo"
    );
    assert_eq!(ok("{{ (filterLabels $labels \"job\").job }}", &d), "node");
    assert_eq!(ok("{{ parseDuration \"1h30m\" }}", &d), "5400");
    assert_eq!(ok("{{ parseDuration \"1500ms\" }}", &d), "1.5");
    assert_eq!(ok("{{ stripPort \"host:9090\" }}", &d), "host");
    assert_eq!(ok("{{ stripPort \"[::1]:9090\" }}", &d), "::1");
    assert_eq!(ok("{{ stripPort \"host\" }}", &d), "host");
    assert_eq!(
        ok("{{ stripDomain \"foo.example.com:9090\" }}", &d),
        "foo:9090"
    );
    assert_eq!(
        ok("{{ stripDomain \"10.0.0.1:9090\" }}", &d),
        "10.0.0.1:9090"
    );
    assert_eq!(ok("{{ toTime 0 }}", &d), "1970-01-01 00:00:00 +0000 UTC");
    assert_eq!(ok("{{ humanize 0.000123 }}", &d), "123u");
    assert_eq!(ok("{{ humanize 0 }}", &d), "0");
    assert_eq!(ok("{{ humanize 999999.5 }}", &d), "1000k");
    assert_eq!(ok("{{ humanize1024 -2048 }}", &d), "-2ki");
    assert_eq!(ok("{{ label \"host\" $values.B }}", &d), "a");
    assert_eq!(ok("{{ value $values.B }}", &d), "3");
    assert_eq!(
        ok("{{ title \"don't stop-me now_x\" }}", &d),
        "Don't Stop-Me Now_x"
    );
}

#[test]
fn go_formatting() {
    use super::gofmt::{float_f, float_g, float_v, parse_float};
    assert_eq!(float_v(1e6), "1e+06");
    assert_eq!(float_v(123456.0), "123456");
    assert_eq!(float_v(1e21), "1e+21");
    assert_eq!(float_v(0.0001), "0.0001");
    assert_eq!(float_v(0.00001234), "1.234e-05");
    assert_eq!(float_v(-2.5e-300), "-2.5e-300");
    assert_eq!(float_v(f64::INFINITY), "+Inf");
    assert_eq!(float_g(9999.5, 4), "1e+04");
    assert_eq!(float_g(1234.5678, 4), "1235");
    assert_eq!(float_g(0.000123456, 4), "0.0001235");
    assert_eq!(float_g(2.5, 1), "2");
    assert_eq!(float_g(100000.0, 4), "1e+05");
    assert_eq!(float_f(1e21), "1000000000000000000000");
    assert_eq!(float_f(f64::NEG_INFINITY), "-Inf");
    assert_eq!(parse_float("1e5"), Ok(100000.0));
    assert_eq!(parse_float(".5"), Ok(0.5));
    assert_eq!(
        parse_float("+nan"),
        Err("strconv.ParseFloat: parsing \"+nan\": invalid syntax".to_string())
    );
    assert_eq!(
        parse_float("1e400"),
        Err("strconv.ParseFloat: parsing \"1e400\": value out of range".to_string())
    );
    assert_eq!(
        parse_float("1_0"),
        Err("strconv.ParseFloat: parsing \"1_0\": invalid syntax".to_string())
    );
    assert_eq!(parse_float("-Inf"), Ok(f64::NEG_INFINITY));
}

#[test]
fn value_string_matches_grafana() {
    let mut v = values(&[("B", Some(3.0)), ("C", None)]);
    v.insert(
        "D".to_string(),
        TemplateValue {
            labels: labels(&[("b", "2"), ("a", "1")]),
            value: Some(1234567.5),
        },
    );
    assert_eq!(
        value_string(&v),
        "[ var='B' labels={host=a} value=3 ], [ var='C' labels={host=a} value=null ], \
         [ var='D' labels={a=1, b=2} value=1.2345675e+06 ]"
    );
    assert_eq!(value_string(&BTreeMap::new()), "");
}

#[test]
fn execution_error_matches_grafana_text() {
    let e = fail("{{ humanize $value }}", &with_value("invalid"));
    assert_eq!(
        e.to_string(),
        "failed to expand template '{{- $labels := .Labels -}}{{- $values := .Values -}}{{- $value := .Value -}}{{ humanize $value }}': \
         error executing template __alert_test: template: __alert_test:1:79: executing \"__alert_test\" at <humanize $value>: \
         error calling humanize: strconv.ParseFloat: parsing \"invalid\": invalid syntax"
    );
    assert_eq!(e.kind, ErrorKind::Execute);
    assert_eq!((e.line, e.column), (Some(1), Some(80)));

    let e = fail(
        r#"{{ "invalid" | humanizePercentage }}"#,
        &TemplateData::default(),
    );
    assert_eq!(
        e.message,
        "template: __alert_test:1:91: executing \"__alert_test\" at <humanizePercentage>: \
         error calling humanizePercentage: strconv.ParseFloat: parsing \"invalid\": invalid syntax"
    );
    let e = fail("{{ humanizeDuration $value }}", &with_value("invalid"));
    assert!(
        e.message
            .contains("at <humanizeDuration $value>: error calling humanizeDuration:"),
        "{}",
        e.message
    );
}

#[test]
fn execution_errors_are_located() {
    let d = sample();
    // Inside a block, on a later line.
    let e = fail("ok\n{{ if true }}\n  {{ toUpper 1 }}{{ end }}", &d);
    assert_eq!(
        e.message,
        "template: __alert_test:3:5: executing \"__alert_test\" at <toUpper 1>: \
         wrong type for value; expected string; got int"
    );
    assert_eq!((e.line, e.column), (Some(3), Some(6)));
    // In a range body, in the else branch, in a pipeline.
    let e = fail("{{ range $labels }}{{ . | humanize }}{{ end }}", &d);
    assert!(
        e.message.contains("at <humanize>: error calling humanize"),
        "{}",
        e.message
    );
    let e = fail("{{ if false }}x{{ else }}{{ first (args) }}{{ end }}", &d);
    assert!(e.message.contains(":1:104: executing"), "{}", e.message);
    assert!(e.message.contains("at <first (args)>"), "{}", e.message);
    // A template call that does not exist.
    let e = fail("{{ template \"nope\" . }}", &d);
    assert!(
        e.message
            .ends_with("at <{{template \"nope\" .}}>: template \"nope\" not defined"),
        "{}",
        e.message
    );
    let e = fail("{{ if gt $values.B.Value 80 }}x{{ end }}", &d);
    assert_eq!(
        e.message,
        "template: __alert_test:1:82: executing \"__alert_test\" at <gt $values.B.Value 80>: \
         error calling gt: incompatible types for comparison: float64 and int"
    );
    // Errors Go reports at run time.
    let e = fail("{{ $x := 1 }}{{ $x.Foo }}", &d);
    assert!(
        e.message.contains("can't evaluate field Foo"),
        "{}",
        e.message
    );
    let e = fail("{{ reReplaceAll \"(\" \"\" \"a\" }}", &d);
    assert!(
        e.message
            .contains("error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp:"),
        "{}",
        e.message
    );
    assert!(
        e.to_string()
            .starts_with("failed to expand template '{{- $labels")
    );
}

#[test]
fn query_is_not_supported() {
    let e = fail("{{ query \"up\" | first | value }}", &sample());
    assert!(
        e.message
            .contains("at <query \"up\">: error calling query: query is not supported"),
        "{}",
        e.message
    );
}

#[test]
fn syntax_errors_name_template_and_line() {
    let d = sample();
    let cases = [
        ("{{ $labels.instance }", "template: __alert_test:1: "),
        (
            "a\n{{ end }}b",
            "template: __alert_test:2: unexpected {{end}}",
        ),
        (
            "{{ else }}",
            "template: __alert_test:1: unexpected {{else}}",
        ),
        ("{{ if true }}x", "template: __alert_test:1: unexpected EOF"),
        (
            "x\n\n{{ nope 1 }}",
            "template: __alert_test:3: function \"nope\" not defined",
        ),
        (
            "{{ $x }}",
            "template: __alert_test:1: undefined variable \"$x\"",
        ),
        (
            "{{ range $k, $v := $labels }}{{ end }}{{ $k }}",
            "template: __alert_test:1: undefined variable \"$k\"",
        ),
        (
            "{{ break }}",
            "template: __alert_test:1: {{break}} outside {{range}}",
        ),
        (
            "{{ if 1 }}{{ define \"x\" }}{{ end }}{{ end }}",
            "template: __alert_test:1: unexpected <define> in operand",
        ),
        (
            "{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}",
            "template: __alert_test:1: ",
        ),
        (
            "{{ block \"b\" . }}{{ else }}{{ end }}",
            "template: __alert_test:1: ",
        ),
    ];
    for (text, want) in cases {
        let e = fail(text, &d);
        assert_eq!(e.kind, ErrorKind::Parse, "{text}");
        assert!(e.message.starts_with(want), "{text}: {}", e.message);
        assert_eq!(e.name, "__alert_test");
        assert_eq!(e.template, format!("{PREFIX}{text}"));
        assert!(
            e.to_string()
                .contains(": error parsing template __alert_test: template: "),
            "{e}"
        );
    }
    // Valid uses of the same constructs.
    assert_eq!(
        ok(
            "{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ $v }}{{ end }}",
            &d
        ),
        "foo"
    );
    assert_eq!(
        ok("{{/* {{ end }} */}}x{{ \"{{ end }}\" }}", &d),
        "x{{ end }}"
    );
    assert_eq!(
        ok("{{ if false }}a{{ else if true }}b{{ else }}c{{ end }}", &d),
        "b"
    );
    assert_eq!(
        ok("{{ block \"b\" . }}[{{ .Labels.job }}]{{ end }}", &d),
        "[node]"
    );
    assert_eq!(
        ok(
            "{{ with $labels.job }}{{ . }}{{ else with 1 }}x{{ end }}",
            &d
        ),
        "node"
    );
}

#[test]
fn expand_map_drops_empty_and_keeps_failed_text() {
    let mut map = BTreeMap::new();
    map.insert(
        "summary".to_string(),
        "{{ $labels.instance }} down".to_string(),
    );
    map.insert(
        "team".to_string(),
        "{{ if eq $labels.job \"x\" }}x{{ end }}".to_string(),
    );
    map.insert("bad".to_string(), "{{ humanize \"z\" }}".to_string());
    map.insert("key{{x}}".to_string(), "v".to_string());
    let (out, errors) = expand_map("rule", &map, &sample(), URL);
    assert_eq!(out.get("summary").map(String::as_str), Some("foo down"));
    assert!(!out.contains_key("team"));
    assert_eq!(
        out.get("bad").map(String::as_str),
        Some("{{ humanize \"z\" }}")
    );
    assert_eq!(out.get("key{{x}}").map(String::as_str), Some("v"));
    assert_eq!(out.len(), 3);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].name, "__alert_rule");
}

#[test]
fn expand_or_error_keeps_template_text() {
    let d = sample();
    assert_eq!(expand_or_error("r", "{{ $labels.job }}", &d, URL), "node");
    assert_eq!(
        expand_or_error("r", "{{ humanize }}", &d, URL),
        "{{ humanize }}"
    );
    assert_eq!(expand_or_error("r", "{{", &d, URL), "{{");
}

#[test]
fn budgets_stop_runaway_templates() {
    let d = sample();
    let e = fail("{{ range 1000000 }}{{ end }}", &d);
    assert!(
        e.message.contains("exceeded the execution budget"),
        "{}",
        e.message
    );
    let e = fail("{{ range 10000 }}{{ range 10000 }}{{ end }}{{ end }}", &d);
    assert!(
        e.message.contains("exceeded the execution budget"),
        "{}",
        e.message
    );
    let e = fail(
        "{{ range 90000 }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ end }}",
        &d,
    );
    assert!(
        e.message.contains("template output exceeds"),
        "{}",
        e.message
    );
    // Exponential fan-out through template calls.
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "{{{{ define \"t{i}\" }}}}{{{{ template \"t{n}\" }}}}{{{{ template \"t{n}\" }}}}{{{{ end }}}}",
            n = i + 1
        ));
    }
    text.push_str("{{ define \"t40\" }}{{ end }}{{ template \"t0\" }}");
    let e = fail(&text, &d);
    assert!(
        e.message.contains("exceeded the execution budget"),
        "{}",
        e.message
    );
    let e = fail(
        "{{ define \"a\" }}{{ template \"a\" }}{{ end }}{{ template \"a\" }}",
        &d,
    );
    assert!(e.message.contains("depth"), "{}", e.message);
}

/// Deterministic xorshift, so the garbage is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn garbage_never_panics() {
    const TOKENS: &[&str] = &[
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "if ",
        "else ",
        "end",
        "range ",
        "with ",
        "define ",
        "template ",
        "block ",
        "break",
        "continue",
        "$labels",
        "$values",
        "$value",
        ".",
        ".Labels",
        ".Values.B",
        "$x",
        " := ",
        " = ",
        " | ",
        "(",
        ")",
        "\"",
        "`",
        "'",
        "humanize ",
        "printf ",
        "\"%v %d %.2f %q\" ",
        "1",
        "-1",
        "1.5",
        "1e400",
        "0x1F",
        "nil",
        "true",
        "index ",
        "len ",
        "slice ",
        "args ",
        "query ",
        "first ",
        "label ",
        "value ",
        "sortByLabel ",
        "reReplaceAll ",
        "\"(\" ",
        "\"a\" ",
        " ",
        "\n",
        "/*",
        "*/",
        "x",
        "{{ range 1000 }}",
        "{{ template \"t\" . }}",
        "{{ define \"t\" }}",
        "eq ",
        "gt ",
        "call ",
        "and ",
        "or ",
        "not ",
        "html ",
        "js ",
        "urlquery ",
        "println ",
        "title ",
        "toUpper ",
        "match ",
        "humanizeTimestamp ",
        "1e30 ",
        "\u{1F600}",
        "é",
        "{{/*",
        "*/}}",
        "$labels.instance",
        "$values.B.Value",
        "filterLabels ",
        "graphLink ",
        "\\",
        "{",
        "}",
        "-",
        ":",
        ",",
        "@",
        "humanizeDuration ",
        "toTime ",
        "parseDuration ",
    ];
    let data = sample();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut oks, mut errs) = (0, 0);
    for i in 0..300 {
        let mut text = String::new();
        let n = 1 + rng.next(30);
        for _ in 0..n {
            if i % 5 == 0 {
                // Raw characters as well as tokens.
                text.push(char::from_u32(rng.next(0x300) as u32).unwrap_or('?'));
            } else {
                text.push_str(TOKENS[rng.next(TOKENS.len())]);
            }
        }
        match expand("garbage", &text, &data, URL) {
            Ok(_) => oks += 1,
            Err(e) => {
                assert!(!e.message.is_empty());
                errs += 1;
            }
        }
    }
    assert_eq!(oks + errs, 300);
    // The garbage exercises both paths.
    assert!(oks > 10 && errs > 10, "{oks} ok, {errs} errors");
}
