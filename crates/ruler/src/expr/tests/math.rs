//! Math: lexing and parsing (precedence, literals, errors with positions), evaluation with
//! Grafana's union, null and NaN semantics, functions, and a no-panic fuzz test.

use serde_json::json;

use super::{assert_f, assert_same, num, range, results, series};
use crate::data::{Results, Value};
use crate::expr::{
    ExprError, Expression, MathErrorKind, MathExpression, evaluate, math::lexer::BinOp,
};

/// Evaluates `src` as a math expression over `input`.
fn eval(src: &str, input: &Results) -> Result<Value, ExprError> {
    let e = MathExpression::new("M", src)?;
    e.evaluate(input)
}

/// Evaluates a constant expression to its scalar value.
fn scalar(src: &str) -> Option<f64> {
    match eval(src, &Results::new()) {
        Ok(Value::Scalar(v)) => v,
        other => panic!("{src}: expected a scalar, got {other:?}"),
    }
}

/// The syntax error of `src`: position and kind.
fn syntax_error(src: &str) -> (usize, MathErrorKind) {
    match MathExpression::new("M", src) {
        Err(ExprError::Math { source, .. }) => (source.pos, source.kind),
        other => panic!("{src:?}: expected a syntax error, got {other:?}"),
    }
}

#[test]
fn constants_and_precedence() {
    let cases: &[(&str, f64)] = &[
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("7 / 2", 3.5),
        ("10 % 4", 2.0),
        ("-7 % 4", -3.0),
        ("2 ** 3", 8.0),
        // Grafana: `**` is left-associative and unary minus binds tighter.
        ("2 ** 3 ** 2", 64.0),
        ("-2 ** 2", 4.0),
        ("10 - 4 - 3", 3.0),
        ("1 + 2 > 2", 1.0),
        ("1 < 2 == 1", 1.0),
        ("3 >= 3", 1.0),
        ("3 <= 2", 0.0),
        ("3 != 3", 0.0),
        ("1 || 0 && 0", 1.0),
        ("0 || 0", 0.0),
        ("2 && 3", 1.0),
        ("!0", 1.0),
        ("!5", 0.0),
        ("!!5", 1.0),
        ("- -3", 3.0),
        ("-(2 + 3)", -5.0),
        ("0x2A", 42.0),
        ("0X1f", 31.0),
        ("072", 58.0),
        ("089", 89.0),
        ("-0.8e-2", -0.008),
        ("1E3", 1000.0),
        (".5", 0.5),
        ("2.", 2.0),
        ("  1\t+\n1 ", 2.0),
        ("5>-1", 1.0),
    ];
    for (src, want) in cases {
        assert_f(scalar(src), Some(*want), src);
    }
}

#[test]
fn functions() {
    let cases: &[(&str, Option<f64>)] = &[
        ("abs(-1)", Some(1.0)),
        ("ceil(3.123)", Some(4.0)),
        ("floor(3.123)", Some(3.0)),
        ("round(2.5)", Some(3.0)),
        ("round(-2.5)", Some(-3.0)),
        ("round(3.123)", Some(3.0)),
        ("log(1)", Some(0.0)),
        ("log(-1)", Some(f64::NAN)),
        ("is_nan(nan())", Some(1.0)),
        ("is_nan(1)", Some(0.0)),
        ("is_inf(inf())", Some(1.0)),
        ("is_inf(infn())", Some(1.0)),
        ("is_inf(1)", Some(0.0)),
        ("is_null(null())", Some(1.0)),
        ("is_null(0)", Some(0.0)),
        ("is_number(1)", Some(1.0)),
        ("is_number(null())", Some(0.0)),
        ("is_number(nan())", Some(0.0)),
        ("is_number(infn())", Some(0.0)),
        // Functions of real numbers turn null into NaN (Grafana's perFloat).
        ("abs(null())", Some(f64::NAN)),
        ("is_nan(null())", Some(f64::NAN)),
        ("infn() == -inf()", Some(1.0)),
        ("abs(-2) * ceil(0.5) + floor(-0.5)", Some(1.0)),
        ("null()", None),
    ];
    for (src, want) in cases {
        assert_f(scalar(src), *want, src);
    }
}

#[test]
fn null_and_nan_semantics() {
    let cases: &[(&str, Option<f64>)] = &[
        ("null() + 1", None),
        ("1 - null()", None),
        ("null() > 1", None),
        ("null() || 1", None),
        ("-null()", None),
        ("!null()", None),
        ("nan() + 1", Some(f64::NAN)),
        ("nan() > 1", Some(f64::NAN)),
        ("nan() == nan()", Some(f64::NAN)),
        ("-nan()", Some(f64::NAN)),
        ("!nan()", Some(f64::NAN)),
        // Short circuits happen before the NaN check.
        ("1 || nan()", Some(1.0)),
        ("0 && nan()", Some(0.0)),
        ("nan() || 0", Some(1.0)),
        ("nan() && 1", Some(f64::NAN)),
        ("1 / 0", Some(f64::INFINITY)),
        ("0 / 0", Some(f64::NAN)),
    ];
    for (src, want) in cases {
        assert_f(scalar(src), *want, src);
    }
}

/// The union examples of Grafana's "Write expression queries" page and its union tests.
#[test]
fn union_of_labelled_numbers() {
    struct Case {
        name: &'static str,
        a: Value,
        b: Value,
        want: Value,
    }
    let n = |pairs: &[(&str, &str)], v: f64| num(pairs, Some(v));
    let cases = vec![
        Case {
            name: "exact label match joins item by item",
            a: Value::Numbers(vec![
                n(&[("host", "web01")], 1.0),
                n(&[("host", "web02")], 2.0),
            ]),
            b: Value::Numbers(vec![
                n(&[("host", "web02")], 20.0),
                n(&[("host", "web01")], 10.0),
            ]),
            want: Value::Numbers(vec![
                n(&[("host", "web01")], 11.0),
                n(&[("host", "web02")], 22.0),
            ]),
        },
        Case {
            name: "an item without labels joins to anything",
            a: Value::Numbers(vec![
                n(&[("host", "web01")], 1.0),
                n(&[("host", "web02")], 2.0),
            ]),
            b: Value::Numbers(vec![n(&[], 100.0)]),
            want: Value::Numbers(vec![
                n(&[("host", "web01")], 101.0),
                n(&[("host", "web02")], 102.0),
            ]),
        },
        Case {
            name: "a subset joins and takes the more specific labels",
            a: Value::Numbers(vec![
                n(&[("host", "A"), ("dc", "MIA")], 1.0),
                n(&[("host", "B"), ("dc", "MIA")], 2.0),
            ]),
            b: Value::Numbers(vec![n(&[("host", "A")], 10.0), n(&[("host", "B")], 20.0)]),
            want: Value::Numbers(vec![
                n(&[("host", "A"), ("dc", "MIA")], 11.0),
                n(&[("host", "B"), ("dc", "MIA")], 22.0),
            ]),
        },
        Case {
            name: "one item on each side joins even with different labels, result unlabelled",
            a: Value::Numbers(vec![n(&[("id", "1")], 1.0)]),
            b: Value::Numbers(vec![n(&[("id", "2")], 2.0)]),
            want: Value::Numbers(vec![n(&[], 3.0)]),
        },
        Case {
            name: "same keys, no matching values, several items: nothing joins",
            a: Value::Numbers(vec![n(&[("id", "1")], 1.0), n(&[("id", "3")], 3.0)]),
            b: Value::Numbers(vec![n(&[("id", "2")], 2.0)]),
            want: Value::Numbers(vec![]),
        },
        Case {
            name: "incompatible labels of different lengths: nothing joins",
            a: Value::Numbers(vec![n(&[("ID", "1")], 1.0), n(&[("ID", "3")], 3.0)]),
            b: Value::Numbers(vec![n(&[("id", "1"), ("fish", "red snapper")], 2.0)]),
            want: Value::Numbers(vec![]),
        },
        Case {
            name: "a single subset item joins each of many",
            a: Value::Numbers(vec![n(&[("id", "1")], 1.0)]),
            b: Value::Numbers(vec![
                n(&[("id", "1"), ("fish", "herring")], 10.0),
                n(&[("id", "1"), ("fish", "red snapper")], 20.0),
            ]),
            want: Value::Numbers(vec![
                n(&[("id", "1"), ("fish", "herring")], 11.0),
                n(&[("id", "1"), ("fish", "red snapper")], 21.0),
            ]),
        },
        Case {
            name: "mixed label lengths make three unions",
            a: Value::Numbers(vec![
                n(&[("id", "1")], 1.0),
                n(&[("id", "1"), ("fish", "herring")], 2.0),
            ]),
            b: Value::Numbers(vec![
                n(&[("id", "1"), ("fish", "herring")], 10.0),
                n(&[("id", "1"), ("fish", "red snapper")], 20.0),
            ]),
            want: Value::Numbers(vec![
                n(&[("id", "1"), ("fish", "herring")], 11.0),
                n(&[("id", "1"), ("fish", "red snapper")], 21.0),
                n(&[("id", "1"), ("fish", "herring")], 12.0),
            ]),
        },
        Case {
            name: "unmatched items are dropped",
            a: Value::Numbers(vec![
                n(&[("host", "web01")], 1.0),
                n(&[("host", "web03")], 3.0),
            ]),
            b: Value::Numbers(vec![
                n(&[("host", "web01")], 10.0),
                n(&[("host", "web02")], 20.0),
            ]),
            want: Value::Numbers(vec![n(&[("host", "web01")], 11.0)]),
        },
        Case {
            name: "a scalar combines with every number",
            a: Value::Numbers(vec![
                n(&[("host", "web01")], 1.0),
                n(&[("host", "web02")], 2.0),
            ]),
            b: Value::Scalar(Some(5.0)),
            want: Value::Numbers(vec![
                n(&[("host", "web01")], 6.0),
                n(&[("host", "web02")], 7.0),
            ]),
        },
        Case {
            name: "no data on the right gives no data",
            a: Value::Numbers(vec![n(&[("host", "web01")], 1.0)]),
            b: Value::NoData,
            want: Value::NoData,
        },
        Case {
            name: "no data on the left gives no data",
            a: Value::NoData,
            b: Value::Scalar(Some(1.0)),
            want: Value::NoData,
        },
        Case {
            name: "an empty operand gives an empty result",
            a: Value::Numbers(vec![]),
            b: Value::Numbers(vec![n(&[("host", "web01")], 1.0)]),
            want: Value::Numbers(vec![]),
        },
    ];
    for case in cases {
        let input = results(vec![("A", case.a), ("B", case.b)]);
        let got = eval("$A + $B", &input).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            format!("{got:?}"),
            format!("{:?}", case.want),
            "case {:?}",
            case.name
        );
    }
}

#[test]
fn comparison_on_numbers_gives_one_or_zero() {
    let input = results(vec![(
        "A",
        Value::Numbers(vec![
            num(&[("host", "a")], Some(3.0)),
            num(&[("host", "b")], Some(7.0)),
            num(&[("host", "c")], None),
            num(&[("host", "d")], Some(f64::NAN)),
        ]),
    )]);
    let got = eval("$A > 5", &input).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![
            num(&[("host", "a")], Some(0.0)),
            num(&[("host", "b")], Some(1.0)),
            num(&[("host", "c")], None),
            num(&[("host", "d")], Some(f64::NAN)),
        ]),
    );
    // Operand order matters for non-commutative operators.
    let got = eval("10 - $A", &input).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![
            num(&[("host", "a")], Some(7.0)),
            num(&[("host", "b")], Some(3.0)),
            num(&[("host", "c")], None),
            num(&[("host", "d")], Some(f64::NAN)),
        ]),
    );
}

#[test]
fn series_operations() {
    let a = series(
        &[("host", "a")],
        &[(1, Some(1.0)), (2, Some(2.0)), (3, None)],
    );
    let b = series(
        &[("host", "a")],
        &[(2, Some(10.0)), (3, Some(20.0)), (4, Some(30.0))],
    );
    let input = results(vec![
        ("A", Value::Series(vec![a.clone()])),
        ("B", Value::Series(vec![b])),
        (
            "N",
            Value::Numbers(vec![num(&[("host", "a")], Some(100.0))]),
        ),
    ]);
    // Series op series keeps the timestamps present in both.
    assert_same(
        &eval("$A + $B", &input).expect("evaluates"),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(2, Some(12.0)), (3, None)],
        )]),
    );
    // Series op scalar applies per point.
    assert_same(
        &eval("$A * 2", &input).expect("evaluates"),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(2.0)), (2, Some(4.0)), (3, None)],
        )]),
    );
    // Number op series gives a series.
    assert_same(
        &eval("$N - $A", &input).expect("evaluates"),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(99.0)), (2, Some(98.0)), (3, None)],
        )]),
    );
    // Functions and unary operators map each point.
    assert_same(
        &eval("-abs($A)", &input).expect("evaluates"),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(-1.0)), (2, Some(-2.0)), (3, Some(f64::NAN))],
        )]),
    );
    assert_same(
        &eval("is_null($A)", &input).expect("evaluates"),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(0.0)), (2, Some(0.0)), (3, Some(1.0))],
        )]),
    );
    // An empty series set stays an empty series set.
    let empty = results(vec![("A", Value::Series(vec![]))]);
    assert_same(
        &eval("$A + 1", &empty).expect("evaluates"),
        &Value::Series(vec![]),
    );
}

#[test]
fn variables_in_braces_and_with_spaces() {
    let input = results(vec![
        ("A", Value::Scalar(Some(2.0))),
        ("my var", Value::Scalar(Some(3.0))),
        ("B_1", Value::Scalar(Some(4.0))),
    ]);
    let got = eval("${A} * ${my var} + $B_1", &input).expect("evaluates");
    assert_same(&got, &Value::Scalar(Some(10.0)));
    let e = MathExpression::new("M", "$A + ${my var} * $A + $B_1").expect("parses");
    assert_eq!(e.vars(), ["A", "my var", "B_1"]);
}

#[test]
fn no_data_propagates_through_functions_and_unary() {
    let input = results(vec![("A", Value::NoData)]);
    for src in ["abs($A)", "-$A", "is_null($A)", "$A > 1", "1 + $A * 2"] {
        assert_same(&eval(src, &input).expect("evaluates"), &Value::NoData);
    }
}

#[test]
fn missing_reference_at_evaluation() {
    let input = results(vec![("A", Value::Scalar(Some(1.0)))]);
    let err = eval("$A + $Q", &input).expect_err("Q is missing");
    assert_eq!(
        err,
        ExprError::MissingRef {
            ref_id: "M".into(),
            missing: "Q".into()
        }
    );
    assert!(err.to_string().contains("Q"), "{err}");
}

#[test]
fn syntax_errors_report_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "empty expression"),
        ("   ", 0, "empty expression"),
        ("$A +", 4, "unexpected end of expression"),
        ("$A + * 2", 5, "unexpected operator \"*\""),
        ("(1 + 2", 6, "expected \")\""),
        ("1 + 2)", 5, "unexpected \")\""),
        ("$A $B", 3, "expected an operator"),
        ("$A ^ 2", 3, "power operator is \"**\""),
        ("$A & $B", 3, "did you mean \"&&\""),
        ("$A = 1", 3, "did you mean \"==\""),
        ("$A # 1", 3, "unexpected character '#'"),
        ("${A", 0, "unterminated variable"),
        ("1 + $", 4, "incomplete variable"),
        ("${}", 0, "incomplete variable"),
        ("${a-b}", 3, "unsupported character '-'"),
        ("1.2.3", 0, "bad number syntax \"1.2.3\""),
        ("0x", 0, "bad number syntax"),
        ("12ab + 1", 0, "bad number syntax \"12ab\""),
        ("2e+", 0, "bad number syntax"),
        ("1 + .", 4, "bad number syntax"),
        ("foo($A)", 0, "unknown function \"foo\""),
        ("1 + sqrt(4)", 4, "unknown function \"sqrt\""),
        ("abs()", 0, "takes 1 argument(s), got 0"),
        ("abs(1, 2)", 0, "takes 1 argument(s), got 2"),
        ("nan(1)", 0, "takes 0 argument(s), got 1"),
        ("abs $A", 4, "expected \"(\" after the function name"),
        ("abs(1 2)", 6, "expected \",\" or \")\""),
        ("\"str\"", 0, "unexpected character '\"'"),
    ];
    for (src, pos, message) in cases {
        let (got_pos, kind) = syntax_error(src);
        assert_eq!(got_pos, *pos, "{src:?}: position ({kind})");
        assert!(
            kind.to_string().contains(message),
            "{src:?}: message {kind:?} should contain {message:?}"
        );
    }
}

#[test]
fn math_errors_through_the_model_name_refid_field_and_position() {
    let err = Expression::parse("B", &json!({"type": "math", "expression": "$A + * 2"}))
        .expect_err("bad syntax");
    let text = err.to_string();
    assert!(text.contains("expression B"), "{text}");
    assert!(text.contains("`expression`"), "{text}");
    assert!(text.contains("position 5"), "{text}");
    assert!(text.contains("$A + * 2"), "{text}");
}

#[test]
fn nesting_and_length_limits() {
    let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(syntax_error(&deep).1, MathErrorKind::TooDeep);
    let negations = format!("{}1", "-".repeat(500));
    assert_eq!(syntax_error(&negations).1, MathErrorKind::TooDeep);
    let long_chain = vec!["1"; 400].join(" + ");
    assert_eq!(syntax_error(&long_chain).1, MathErrorKind::TooDeep);
    // Reasonable expressions stay within the limits.
    let ok_nesting = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_f(scalar(&ok_nesting), Some(1.0), "30 parentheses");
    let ok_chain = vec!["1"; 200].join(" + ");
    assert_f(scalar(&ok_chain), Some(200.0), "200 terms");
}

#[test]
fn binary_operator_symbols_round_trip() {
    let ops = [
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Mod,
        BinOp::Pow,
    ];
    // Each operator parses back from its symbol and computes as expected on 6 and 4.
    let want = [
        1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 10.0, 2.0, 24.0, 1.5, 2.0, 1296.0,
    ];
    for (op, want) in ops.iter().zip(want) {
        let src = format!("6 {} 4", op.symbol());
        assert_f(scalar(&src), Some(want), &src);
    }
}

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random well-formed math expression over $A..$D.
fn random_expr(rng: &mut Rng, depth: usize) -> String {
    const LEAVES: &[&str] = &[
        "$A", "$B", "$C", "$D", "${A}", "1", "0", "-2.5e3", "0x1F", "07", "nan()", "null()",
        "inf()", "infn()",
    ];
    const OPS: &[&str] = &[
        "+", "-", "*", "**", "/", "%", ">", "<", ">=", "<=", "==", "!=", "&&", "||",
    ];
    const FUNCS: &[&str] = &[
        "abs",
        "log",
        "round",
        "ceil",
        "floor",
        "is_nan",
        "is_inf",
        "is_null",
        "is_number",
    ];
    let pick = |rng: &mut Rng, xs: &[&str]| xs[rng.below(xs.len())].to_string();
    if depth > 4 {
        return pick(rng, LEAVES);
    }
    match rng.below(6) {
        0 | 1 => pick(rng, LEAVES),
        2 => format!(
            "{} {} {}",
            random_expr(rng, depth + 1),
            pick(rng, OPS),
            random_expr(rng, depth + 1)
        ),
        3 => format!("{}({})", pick(rng, FUNCS), random_expr(rng, depth + 1)),
        4 => format!("{}{}", pick(rng, &["-", "!"]), random_expr(rng, depth + 1)),
        _ => format!("({})", random_expr(rng, depth + 1)),
    }
}

#[test]
fn garbage_never_panics() {
    let input = results(vec![
        (
            "A",
            Value::Numbers(vec![
                num(&[("host", "a")], Some(1.0)),
                num(&[("host", "b")], None),
            ]),
        ),
        (
            "B",
            Value::Series(vec![series(
                &[("host", "a")],
                &[(1, Some(f64::NAN)), (2, Some(0.0)), (3, None)],
            )]),
        ),
        ("C", Value::NoData),
        ("D", Value::Scalar(Some(0.0))),
    ]);
    let chars: Vec<char> = "$ABCD{}()0123456789.xXeE+-*/%<>=!&|^, _abs(ceil)log\"é\t\u{0}"
        .chars()
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut parsed, mut rejected) = (0, 0);
    for i in 0..600 {
        let src: String = match i % 3 {
            // Random characters.
            0 => (0..rng.below(40))
                .map(|_| chars[rng.below(chars.len())])
                .collect(),
            // Random well-formed expressions.
            1 => random_expr(&mut rng, 0),
            // Well-formed expressions with one character replaced.
            _ => {
                let mut cs: Vec<char> = random_expr(&mut rng, 0).chars().collect();
                let at = rng.below(cs.len().max(1));
                if let Some(c) = cs.get_mut(at) {
                    *c = chars[rng.below(chars.len())];
                }
                cs.into_iter().collect()
            }
        };
        match MathExpression::new("F", &src) {
            Ok(e) => {
                parsed += 1;
                // Ok or Err are both fine; a panic fails the test.
                let _ = e.evaluate(&input);
            }
            Err(e) => {
                rejected += 1;
                let _ = e.to_string();
            }
        }
    }
    assert!(parsed > 150, "too few random expressions parsed: {parsed}");
    assert!(
        rejected > 100,
        "too few random expressions rejected: {rejected}"
    );
}

#[test]
fn math_model_evaluates_through_evaluate() {
    let input = results(vec![(
        "A",
        Value::Numbers(vec![num(&[("host", "web01")], Some(6.0))]),
    )]);
    let e =
        Expression::parse("B", &json!({"type": "math", "expression": "$A > 5"})).expect("parses");
    assert_eq!(e.refs(), ["A"]);
    assert_eq!(e.kind(), "math");
    let got = evaluate(&e, &input, range(0, 1)).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![num(&[("host", "web01")], Some(1.0))]),
    );
}
