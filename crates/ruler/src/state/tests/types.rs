//! String and JSON forms of states, reasons and modes, and settings defaults.

use super::super::{
    ExecErrState, NoDataState, Outcome, RuleSettings, State, StateReason, format_state_and_reason,
};

#[test]
fn state_strings_match_grafana() {
    let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "Normal",
            "Pending",
            "Alerting",
            "NoData",
            "Error",
            "Recovering"
        ]
    );
    for s in State::ALL {
        assert_eq!(s.as_str().parse::<State>(), Ok(s));
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(
            serde_json::to_string(&s).ok(),
            Some(format!("\"{}\"", s.as_str()))
        );
    }
    assert!("Firing".parse::<State>().is_err());
}

#[test]
fn reason_strings_match_grafana() {
    let names: Vec<&str> = StateReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        names,
        [
            "MissingSeries",
            "NoData",
            "Error",
            "Paused",
            "Updated",
            "RuleDeleted",
            "KeepLast",
            "NoData, KeepLast",
            "Error, KeepLast",
        ]
    );
    for r in StateReason::ALL {
        assert_eq!(r.as_str().parse::<StateReason>(), Ok(r));
        let json = serde_json::to_string(&r).expect("serialise");
        assert_eq!(json, format!("\"{}\"", r.as_str()));
        let back: StateReason = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, r);
    }
    assert!(serde_json::from_str::<StateReason>("\"Bogus\"").is_err());
    assert_eq!(
        format_state_and_reason(State::Normal, Some(StateReason::MissingSeries)),
        "Normal (MissingSeries)"
    );
    assert_eq!(format_state_and_reason(State::Pending, None), "Pending");
}

#[test]
fn mode_json_spellings() {
    for (mode, json) in [
        (NoDataState::Alerting, "\"Alerting\""),
        (NoDataState::NoData, "\"NoData\""),
        (NoDataState::Ok, "\"OK\""),
        (NoDataState::KeepLast, "\"KeepLast\""),
    ] {
        assert_eq!(serde_json::to_string(&mode).ok().as_deref(), Some(json));
        assert_eq!(serde_json::from_str::<NoDataState>(json).ok(), Some(mode));
        assert_eq!(mode.as_str().parse::<NoDataState>(), Ok(mode));
    }
    for (mode, json) in [
        (ExecErrState::Alerting, "\"Alerting\""),
        (ExecErrState::Error, "\"Error\""),
        (ExecErrState::Ok, "\"OK\""),
        (ExecErrState::KeepLast, "\"KeepLast\""),
    ] {
        assert_eq!(serde_json::to_string(&mode).ok().as_deref(), Some(json));
        assert_eq!(serde_json::from_str::<ExecErrState>(json).ok(), Some(mode));
        assert_eq!(mode.as_str().parse::<ExecErrState>(), Ok(mode));
    }
    assert!(serde_json::from_str::<NoDataState>("\"Ok\"").is_err());
    assert!("NoData".parse::<ExecErrState>().is_err());
}

#[test]
fn settings_defaults() {
    let s = RuleSettings::default();
    assert_eq!(s.interval, 60_000);
    assert_eq!((s.for_duration, s.keep_firing_for), (0, 0));
    assert_eq!(s.no_data_state, NoDataState::NoData);
    assert_eq!(s.exec_err_state, ExecErrState::Error);
    assert_eq!(s.missing_series_evals(), 2);
    let s = RuleSettings {
        missing_series_evals_to_resolve: Some(0),
        ..RuleSettings::default()
    };
    assert_eq!(s.missing_series_evals(), 2, "0 means the default");
    let s = RuleSettings {
        missing_series_evals_to_resolve: Some(5),
        ..RuleSettings::default()
    };
    assert_eq!(s.missing_series_evals(), 5);
}

#[test]
fn outcome_states() {
    assert_eq!(Outcome::Normal.as_state(), State::Normal);
    assert_eq!(Outcome::Alerting.as_state(), State::Alerting);
    assert_eq!(Outcome::NoData.as_state(), State::NoData);
    assert_eq!(Outcome::Error("x".into()).as_state(), State::Error);
}
