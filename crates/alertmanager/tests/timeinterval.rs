//! Time intervals: parsing and validation messages, `contains()` at boundaries, serialization,
//! and parity with Debian's Alertmanager 0.25 `amtool check-config` when it is installed.

use std::path::{Path, PathBuf};

mod oracle;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use wk_alertmanager::timeinterval::{
    DayOfMonthRange, MonthRange, NamedTimeInterval, TimeInterval, TimeRange, WeekdayRange,
    YearRange,
};

fn parse(yaml: &str) -> Result<TimeInterval, String> {
    serde_norway::from_str(yaml).map_err(|e| e.to_string())
}

fn parse_ok(yaml: &str) -> TimeInterval {
    parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

/// An instant given as RFC 3339 text with its offset.
fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn check(ti: &TimeInterval, inside: &[&str], outside: &[&str]) {
    for t in inside {
        assert!(ti.contains(at(t)), "{ti:?} should contain {t}");
    }
    for t in outside {
        assert!(!ti.contains(at(t)), "{ti:?} should not contain {t}");
    }
}

#[test]
fn parses_fields_into_ranges() {
    let ti = parse_ok(
        "weekdays: ['monday:friday', 'Sunday']\nmonths: ['january:march', '12']\n\
         days_of_month: ['-7:-1', '1:-1']\nyears: ['2020:2025', '2030']\n\
         times: [{start_time: '09:00', end_time: '17:00'}, {start_time: '00:00', end_time: '24:00'}]\n\
         location: Australia/Sydney",
    );
    assert_eq!(
        ti.weekdays,
        Some(vec![
            WeekdayRange { begin: 1, end: 5 },
            WeekdayRange { begin: 0, end: 0 }
        ])
    );
    assert_eq!(
        ti.months,
        Some(vec![
            MonthRange { begin: 1, end: 3 },
            MonthRange { begin: 12, end: 12 }
        ])
    );
    assert_eq!(
        ti.days_of_month,
        Some(vec![
            DayOfMonthRange { begin: -7, end: -1 },
            DayOfMonthRange { begin: 1, end: -1 }
        ])
    );
    assert_eq!(
        ti.years,
        Some(vec![
            YearRange {
                begin: 2020,
                end: 2025
            },
            YearRange {
                begin: 2030,
                end: 2030
            }
        ])
    );
    assert_eq!(
        ti.times,
        Some(vec![
            TimeRange {
                start_minute: 540,
                end_minute: 1020
            },
            TimeRange {
                start_minute: 0,
                end_minute: 1440
            },
        ])
    );
    assert_eq!(ti.location, Some(Tz::Australia__Sydney));
}

/// Minutes of a parsed time range, or a substring of the error.
type Expected = Result<(u32, u32), &'static str>;

#[test]
fn time_strings() {
    let cases: &[(&str, Expected)] = &[
        ("{start_time: '00:00', end_time: '24:00'}", Ok((0, 1440))),
        ("{start_time: '01:35', end_time: '17:39'}", Ok((95, 1059))),
        ("{start_time: '09:35', end_time: '09:39'}", Ok((575, 579))),
        ("{start_time: 09:35, end_time: 23:59}", Ok((575, 1439))),
        (
            "{start_time: '17:31', end_time: '17:31'}",
            Err("start time cannot be equal or greater than end time"),
        ),
        (
            "{start_time: '12:30', end_time: '24:01'}",
            Err("couldn't parse timestamp 24:01, invalid format"),
        ),
        (
            "{start_time: '09:30', end_time: '07:41'}",
            Err("start time cannot be equal or greater than end time"),
        ),
        (
            "{start_time: '24:00', end_time: '17:41'}",
            Err("start time cannot be equal or greater than end time"),
        ),
        (
            "{start_time: '14:03'}",
            Err("both start and end times must be provided"),
        ),
        (
            "{start_time: ~, end_time: '14:03'}",
            Err("both start and end times must be provided"),
        ),
        (
            "{start_time: '9:00', end_time: '14:03'}",
            Err("couldn't parse timestamp 9:00, invalid format"),
        ),
        (
            "{start_time: '00:00', end_time: '99:99'}",
            Err("couldn't parse timestamp 99:99, invalid format"),
        ),
        (
            "{start_time: '00:00', end_time: '12:00 '}",
            Err("couldn't parse timestamp 12:00 , invalid format"),
        ),
        (
            "{start_time: '00:00', end_time: '12:00', x: 1}",
            Err("unknown field `x`"),
        ),
    ];
    for (yaml, want) in cases {
        let got = serde_norway::from_str::<TimeRange>(yaml);
        match (want, got) {
            (Ok((s, e)), Ok(tr)) => {
                assert_eq!((tr.start_minute, tr.end_minute), (*s, *e), "{yaml}")
            }
            (Err(msg), Err(err)) => assert!(err.to_string().contains(msg), "{yaml}: {err}"),
            (want, got) => panic!("{yaml}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn rejects_with_upstream_messages() {
    let cases = [
        (
            "times: [{start_time: '01:99', end_time: '23:59'}]",
            "couldn't parse timestamp 01:99, invalid format",
        ),
        (
            "weekdays: ['friday:monday']",
            "start day cannot be before end day",
        ),
        (
            "weekdays: ['blurgsday:flurgsday']",
            "blurgsday is not a valid weekday",
        ),
        ("weekdays: ['1:3']", "1 is not a valid weekday"),
        ("weekdays: ['-2:-1']", "-2 is not a valid weekday"),
        (
            "weekdays: ['Mon:Tue:Wed']",
            "couldn't parse range mon:tue:wed, invalid format",
        ),
        (
            "days_of_month: ['0']",
            "0 is not a valid day of the month: out of range",
        ),
        (
            "days_of_month: ['-50:-20']",
            "-50 is not a valid day of the month: out of range",
        ),
        (
            "days_of_month: ['1:50']",
            "50 is not a valid day of the month: out of range",
        ),
        (
            "days_of_month: ['99999999999']",
            "99999999999 is not a valid day of the month: out of range",
        ),
        (
            "days_of_month: ['-15:5']",
            "end day must be negative if start day is negative",
        ),
        (
            "days_of_month: ['10:-25']",
            "end day -25 is always before start day 10",
        ),
        (
            "days_of_month: ['5:3']",
            "end day 3 is always before start day 5",
        ),
        (
            "days_of_month: [' 1']",
            "strconv.Atoi: parsing \" 1\": invalid syntax",
        ),
        (
            "days_of_month: [true]",
            "strconv.Atoi: parsing \"true\": invalid syntax",
        ),
        ("months: ['martius:june']", "martius is not a valid month"),
        ("months: ['march:junius']", "junius is not a valid month"),
        (
            "months: ['december:january']",
            "end month january is before start month december",
        ),
        (
            "months: ['99999999999999999999']",
            "99999999999999999999 is not a valid month",
        ),
        (
            "years: ['2022:2020']",
            "end year 2020 is before start year 2022",
        ),
        (
            "years: ['twenty']",
            "strconv.Atoi: parsing \"twenty\": invalid syntax",
        ),
        ("location: Not/AZone", "unknown time zone Not/AZone"),
        ("location: europe/berlin", "unknown time zone europe/berlin"),
        ("location: /etc/localtime", "time: invalid location name"),
        ("location: 'Europe/../UTC'", "time: invalid location name"),
        ("unknown_field: 1", "unknown field `unknown_field`"),
    ];
    for (yaml, msg) in cases {
        match parse(yaml) {
            Ok(ti) => panic!("{yaml}: accepted as {ti:?}"),
            Err(err) => assert!(err.contains(msg), "{yaml}: want {msg:?}, got {err:?}"),
        }
    }
}

#[test]
fn error_messages_name_the_field() {
    let err = parse("weekdays: ['monday', 'friday:monday']")
        .err()
        .unwrap_or_default();
    assert!(
        err.starts_with("weekdays: start day cannot be before end day at line 1"),
        "{err}"
    );
}

#[test]
fn range_text_parses_directly() {
    assert_eq!(
        "MONDAY:friday".parse(),
        Ok(WeekdayRange { begin: 1, end: 5 })
    );
    assert_eq!("-3:-1".parse(), Ok(DayOfMonthRange { begin: -3, end: -1 }));
    assert_eq!("05:+7".parse(), Ok(DayOfMonthRange { begin: 5, end: 7 }));
    assert_eq!("February:12".parse(), Ok(MonthRange { begin: 2, end: 12 }));
    assert_eq!("13".parse(), Ok(MonthRange { begin: 13, end: 13 }));
    assert_eq!("-5:0".parse(), Ok(YearRange { begin: -5, end: 0 }));
    let err = "15:14".parse::<MonthRange>().err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("end month  is before start month "));
}

#[test]
fn nulls_and_empty_lists_follow_upstream() {
    // Absent and null fields do not restrict.
    let open = parse_ok("weekdays: ~\ntimes: ~\nlocation: ~");
    assert_eq!(open, TimeInterval::default());
    assert!(open.contains(at("2024-02-29T12:00:00Z")));
    // An explicit empty list matches nothing.
    assert!(!parse_ok("times: []").contains(at("2024-02-29T12:00:00Z")));
    // A null element is the zero value: Sunday for weekdays, nothing for times.
    let sunday = parse_ok("weekdays: [~]");
    check(
        &sunday,
        &["2024-03-03T10:00:00Z"],
        &["2024-03-04T10:00:00Z"],
    );
    assert!(!parse_ok("times: [~]").contains(at("2024-03-03T00:00:00Z")));
    assert!(!parse_ok("days_of_month: [~]").contains(at("2024-03-01T00:00:00Z")));
    // Unquoted scalars keep their text.
    let days = parse_ok("days_of_month: [010, 1]");
    assert_eq!(
        days.days_of_month,
        Some(vec![
            DayOfMonthRange { begin: 10, end: 10 },
            DayOfMonthRange { begin: 1, end: 1 }
        ])
    );
}

#[test]
fn location_forms() {
    let loc = |s: &str| parse_ok(&format!("location: '{s}'")).location;
    assert_eq!(loc(""), Some(Tz::UTC));
    assert_eq!(loc("UTC"), Some(Tz::UTC));
    assert_eq!(loc("US/Pacific"), Some(Tz::US__Pacific));
    assert_eq!(loc("posix/Europe/Berlin"), Some(Tz::Europe__Berlin));
    assert!(loc("Local").is_some());
}

#[test]
fn named_intervals() {
    let named: Vec<NamedTimeInterval> = serde_norway::from_str(
        "- name: offhours\n  time_intervals:\n    - times: [{start_time: '00:00', end_time: '09:00'}]\n    \
         - weekdays: [saturday, sunday]\n- name: never\n  time_intervals: ~\n- name: always\n  time_intervals: [~]",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(named.len(), 3);
    let offhours = &named[0];
    assert!(offhours.contains(at("2024-01-01T08:59:00Z")));
    assert!(!offhours.contains(at("2024-01-01T09:00:00Z")));
    assert!(offhours.contains(at("2024-01-06T12:00:00Z")));
    assert!(!named[1].contains(at("2024-01-06T12:00:00Z")));
    assert!(named[2].contains(at("2024-01-06T12:00:00Z")));
    for bad in ["- time_intervals: []", "- name: ''", "- name: ~"] {
        let err = serde_norway::from_str::<Vec<NamedTimeInterval>>(bad)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.unwrap_or_default()
                .contains("missing name in time interval"),
            "{bad}"
        );
    }
}

#[test]
fn contains_upstream_cases() {
    // Every instant is in the empty interval.
    check(
        &TimeInterval::default(),
        &["2006-01-02T15:04:00Z", "2007-01-03T10:04:00Z"],
        &[],
    );
    // 9am to 5pm, Monday to Friday; start inclusive, end exclusive.
    let business =
        parse_ok("weekdays: ['monday:friday']\ntimes: [{start_time: '09:00', end_time: '17:00'}]");
    check(
        &business,
        &[
            "2020-05-04T15:04:00Z",
            "2020-05-05T10:04:00Z",
            "2020-06-09T09:04:00Z",
            "2020-07-08T09:00:00Z",
            "2020-07-08T16:59:59Z",
        ],
        &[
            "2020-05-03T15:04:00Z",
            "2020-05-04T08:59:00Z",
            "2020-05-05T05:00:00Z",
            "2020-07-08T17:00:00Z",
        ],
    );
    // Easter 2020.
    let easter = parse_ok("days_of_month: ['4:6']\nmonths: ['april']\nyears: ['2020']");
    check(
        &easter,
        &[
            "2020-04-04T15:04:00Z",
            "2020-04-05T00:00:00Z",
            "2020-04-06T23:05:00Z",
        ],
        &[
            "2018-05-03T15:04:00Z",
            "2020-04-03T23:59:00Z",
            "2020-06-04T23:59:00Z",
            "2019-04-06T23:59:00Z",
            "2020-04-07T00:00:00Z",
        ],
    );
    // Last three days of every month, including February in a leap year.
    let last3 = parse_ok("days_of_month: ['-3:-1']");
    check(
        &last3,
        &[
            "2020-01-31T15:04:00Z",
            "2020-01-29T15:04:00Z",
            "2020-06-30T00:00:00Z",
            "2020-02-29T23:05:00Z",
            "2020-02-27T00:00:00Z",
            "2021-02-26T00:00:00Z",
        ],
        &[
            "2020-01-27T15:04:00Z",
            "2020-03-01T00:00:00Z",
            "2020-02-26T23:59:59Z",
            "2021-02-25T23:59:59Z",
        ],
    );
    // Out-of-range days are clamped to the month.
    // (`-31:31` is rejected by the parser; upstream's case builds the struct directly.)
    let june = TimeInterval {
        months: Some(vec![MonthRange { begin: 6, end: 6 }]),
        days_of_month: Some(vec![DayOfMonthRange {
            begin: -31,
            end: 31,
        }]),
        ..TimeInterval::default()
    };
    check(
        &june,
        &["2020-06-30T00:00:00Z", "2020-06-01T00:00:00Z"],
        &["2020-05-31T00:00:00Z", "2020-07-01T00:00:00Z"],
    );
    // A range starting after the month's end matches nothing, not the last day.
    let feb = parse_ok("days_of_month: ['30:31']\nmonths: ['february']\nyears: ['2020:2023']");
    check(&feb, &[], &["2021-02-28T13:00:00Z", "2020-02-29T13:00:00Z"]);
    // Feb 29 only exists in leap years; day 29 of February.
    let d29 = parse_ok("days_of_month: ['29']\nmonths: ['february']");
    check(
        &d29,
        &["2024-02-29T00:00:00Z", "2000-02-29T23:59:59Z"],
        &["2024-03-01T00:00:00Z", "2023-03-01T00:00:00Z"],
    );
    // Mixed lists and negative end days.
    let mixed = parse_ok(
        "weekdays: ['monday:wednesday', 'saturday', 'sunday']\ntimes: [{start_time: '13:00', end_time: '15:00'}]\n\
         days_of_month: ['1', '10', '20:-1']\nyears: ['2020:2023']\nmonths: ['january:march']",
    );
    check(
        &mixed,
        &["2021-01-10T13:00:00Z", "2021-01-30T14:24:00Z"],
        &[
            "2021-01-09T13:00:00Z",
            "2021-01-20T12:59:00Z",
            "2021-02-02T13:00:00Z",
        ],
    );
    // Years ranges are inclusive at both ends.
    let years = parse_ok("years: ['2020:2022', '2030']");
    check(
        &years,
        &[
            "2020-01-01T00:00:00Z",
            "2022-12-31T23:59:59Z",
            "2030-06-01T00:00:00Z",
        ],
        &[
            "2019-12-31T23:59:59Z",
            "2023-01-01T00:00:00Z",
            "2029-12-31T23:59:59Z",
        ],
    );
    // 24:00 ends at midnight: the last minute of the day is inside.
    let evening = parse_ok("times: [{start_time: '17:00', end_time: '24:00'}]");
    check(
        &evening,
        &["2024-01-01T23:59:59Z", "2024-01-01T17:00:00Z"],
        &["2024-01-02T00:00:00Z", "2024-01-01T16:59:59Z"],
    );
}

#[test]
fn contains_in_locations() {
    let sydney = parse_ok(
        "weekdays: ['monday:friday']\ntimes: [{start_time: '09:00', end_time: '17:00'}]\nlocation: Australia/Sydney",
    );
    check(
        &sydney,
        &["2021-04-06T13:00:00+10:00"],
        &["2021-04-06T13:00:00Z"],
    );
    let sydney_nov = parse_ok(
        "weekdays: ['monday:friday']\ntimes: [{start_time: '09:00', end_time: '17:00'}]\nmonths: ['november']\nlocation: Australia/Sydney",
    );
    check(
        &sydney_nov,
        &["2021-11-01T09:00:00+11:00", "2021-10-31T22:00:00Z"],
        &["2021-10-31T21:00:00Z"],
    );
    // Upstream's intervener cases: evenings and weekends in Sydney.
    let evenings = parse_ok(
        "times: [{start_time: '00:00', end_time: '09:00'}, {start_time: '17:00', end_time: '24:00'}]\nlocation: Australia/Sydney",
    );
    let weekends = parse_ok("weekdays: ['saturday', 'sunday']\nlocation: Australia/Sydney");
    let syd = |d: u32, h: u32| {
        Tz::Australia__Sydney
            .with_ymd_and_hms(2024, 1, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| panic!("no such time"))
    };
    assert!(evenings.contains(syd(1, 0)) && !weekends.contains(syd(1, 0)));
    assert!(!evenings.contains(syd(1, 9)) && !weekends.contains(syd(1, 9)));
    assert!(!evenings.contains(syd(6, 10)) && weekends.contains(syd(6, 10)));
    assert!(evenings.contains(syd(6, 17)) && weekends.contains(syd(6, 17)));
    assert!(evenings.contains(at("2024-01-01T10:00:00Z")));
    assert!(
        evenings.contains(at("2024-01-06T10:00:00Z"))
            && weekends.contains(at("2024-01-06T10:00:00Z"))
    );
}

#[test]
fn contains_across_dst() {
    // Berlin springs forward 2024-03-31 02:00 CET -> 03:00 CEST; falls back 2024-10-27 03:00 -> 02:00.
    let berlin =
        parse_ok("times: [{start_time: '02:00', end_time: '03:00'}]\nlocation: Europe/Berlin");
    check(
        &berlin,
        // Both 02:xx hours of the fall-back day are inside (once CEST, once CET).
        &[
            "2024-10-27T00:30:00Z",
            "2024-10-27T01:30:00Z",
            "2024-03-30T01:30:00Z",
        ],
        // The skipped hour never happens: 00:59Z is 01:59 CET, 01:00Z is 03:00 CEST.
        &[
            "2024-03-31T00:59:00Z",
            "2024-03-31T01:00:00Z",
            "2024-10-27T02:00:00Z",
        ],
    );
    // The last day of a month with a DST change is still its calendar last day.
    let last = parse_ok("days_of_month: ['-1']\nlocation: Europe/Berlin");
    check(
        &last,
        &["2024-03-31T12:00:00+02:00", "2024-10-31T12:00:00+01:00"],
        &["2024-03-30T12:00:00+01:00"],
    );
    // New York: 2024-03-10 02:00 EST -> 03:00 EDT, 2024-11-03 02:00 EDT -> 01:00 EST.
    let ny =
        parse_ok("times: [{start_time: '09:00', end_time: '17:00'}]\nlocation: America/New_York");
    check(
        &ny,
        &[
            "2024-03-08T14:00:00Z",
            "2024-03-11T13:00:00Z",
            "2024-11-04T14:00:00Z",
            "2024-11-01T13:00:00Z",
        ],
        &[
            "2024-03-08T13:59:00Z",
            "2024-03-11T12:59:00Z",
            "2024-11-04T13:59:00Z",
            "2024-11-01T21:00:00Z",
        ],
    );
    let ny_one =
        parse_ok("times: [{start_time: '01:00', end_time: '02:00'}]\nlocation: America/New_York");
    check(
        &ny_one,
        &["2024-11-03T05:00:00Z", "2024-11-03T06:59:00Z"],
        &["2024-11-03T07:00:00Z", "2024-11-03T04:59:00Z"],
    );
    // Day boundaries follow the location: 23:30 UTC Sunday is Monday in Berlin.
    let monday = parse_ok("weekdays: [monday]\nlocation: Europe/Berlin");
    check(
        &monday,
        &["2024-01-07T23:30:00Z"],
        &["2024-01-07T22:59:59Z"],
    );
}

#[test]
fn serializes_in_config_form_and_round_trips() {
    let ti = parse_ok(
        "weekdays: ['Monday:friday', 'sunday']\nmonths: ['january:march', 'june']\ndays_of_month: ['-7:-1', '5']\n\
         years: ['2020:2025']\ntimes: [{start_time: '09:05', end_time: '24:00'}]\nlocation: Europe/Berlin",
    );
    let json = serde_json::to_value(&ti).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({
            "times": [{"start_time": "09:05", "end_time": "24:00"}],
            "weekdays": ["monday:friday", "sunday"],
            "days_of_month": ["-7:-1", "5"],
            "months": ["1:3", "6"],
            "years": ["2020:2025"],
            "location": "Europe/Berlin",
        })
    );
    let back: TimeInterval = serde_json::from_value(json).unwrap_or_default();
    assert_eq!(back, ti);
    let yaml = serde_norway::to_string(&ti).unwrap_or_default();
    assert_eq!(parse_ok(&yaml), ti);
    // Empty lists survive a round trip (upstream's omitempty would turn "never" into "always").
    let never = parse_ok("times: []");
    assert_eq!(
        parse_ok(&serde_norway::to_string(&never).unwrap_or_default()),
        never
    );
    let named = NamedTimeInterval {
        name: "x".into(),
        time_intervals: vec![never],
    };
    let text = serde_json::to_string(&named).unwrap_or_default();
    assert_eq!(text, r#"{"name":"x","time_intervals":[{"times":[]}]}"#);
    assert!(serde_json::to_string(&WeekdayRange { begin: 7, end: 7 }).is_err());
}

#[test]
fn grafana_json_form() {
    let json = r#"{"name":"weekends","time_intervals":[{"times":[{"start_time":"00:00","end_time":"12:00"}],
        "weekdays":["saturday","sunday"],"days_of_month":["1:15"],"months":["1","february"],"years":["2024"],
        "location":"America/New_York"}]}"#;
    let named: NamedTimeInterval = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
    assert!(named.contains(at("2024-01-06T11:59:00-05:00")));
    assert!(!named.contains(at("2024-01-06T12:00:00-05:00")));
    assert!(!named.contains(at("2024-01-08T11:00:00-05:00")));
    let bad = serde_json::from_str::<NamedTimeInterval>(
        r#"{"name":"x","time_intervals":[{"weekdays":["sat"]}]}"#,
    );
    assert!(
        bad.err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("sat is not a valid weekday")
    );
}

#[test]
fn sample_minutes_across_a_leap_day() {
    // Every minute of 2024-02-28..03-01 in UTC: only Feb 29 is the last day of February.
    let ti = parse_ok("days_of_month: ['-1']\nmonths: ['february']");
    let start = NaiveDate::from_ymd_opt(2024, 2, 28)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    let start = start.unwrap_or_else(|| panic!("bad date"));
    let inside = (0..3 * 1440)
        .map(|m| start + chrono::Duration::minutes(m))
        .filter(|t| ti.contains(*t))
        .count();
    assert_eq!(inside, 1440);
}

// ---- amtool parity ----

/// The `time_intervals` list of a configuration, as far as this module reads it.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct ConfigSubset {
    time_intervals: Vec<NamedTimeInterval>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/timeinterval")
}

/// A minimal Alertmanager configuration using `snippet` as the only interval of `x`.
fn config_with(snippet: &str) -> String {
    let body: String = snippet
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("        {l}\n"))
        .collect();
    format!(
        "route:\n  receiver: r\n  routes:\n    - receiver: r\n      mute_time_intervals: [x]\n\
         receivers:\n  - name: r\ntime_intervals:\n  - name: x\n    time_intervals:\n      -\n{body}"
    )
}

/// Runs `amtool check-config`: its verdict and everything it printed.
fn amtool_check(config: &Path) -> (bool, String) {
    let out = oracle::check_config(config);
    (out.ok, format!("{}{}", out.stdout, out.stderr))
}

#[test]
fn amtool_parity() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap_or_else(|e| panic!("data dir: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected at least 20 snippets");
    let have_amtool = oracle::available("the amtool comparison (recorded verdicts still checked)");
    let tmp = std::env::temp_dir().join(format!("wk-timeinterval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap_or_else(|e| panic!("tmp: {e}"));
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let snippet = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expect_valid = name.starts_with("valid_");
        let expect_msg = snippet
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# error: "));
        let config = config_with(&snippet);
        let ours = serde_norway::from_str::<ConfigSubset>(&config).map_err(|e| e.to_string());
        if ours.is_ok() != expect_valid {
            failures.push(format!(
                "{name}: ours {ours:?}, expected valid={expect_valid}"
            ));
        }
        if let (Err(err), Some(msg)) = (&ours, expect_msg)
            && !err.contains(msg)
        {
            failures.push(format!("{name}: our message {err:?} lacks {msg:?}"));
        }
        if !have_amtool {
            continue;
        }
        let path = tmp.join(format!("{name}.yml"));
        std::fs::write(&path, &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (accepted, output) = amtool_check(&path);
        if accepted != ours.is_ok() {
            failures.push(format!(
                "{name}: amtool accepted={accepted} ({output}), ours {ours:?}"
            ));
        }
        if let Some(msg) = expect_msg.filter(|_| !accepted)
            && !output.contains(msg)
        {
            failures.push(format!("{name}: amtool said {output:?}, expected {msg:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        failures.is_empty(),
        "parity failures:\n{}",
        failures.join("\n")
    );
}
