//! One rule's routine: evaluates the rule on the ticks it is given, runs the state machine,
//! records transitions, saves what changed and hands alerts on; applies rule changes, pauses
//! and deletion (resolving what was firing).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::ports::{HistoryEntry, LoadedRule, RuleKey};
use super::view::{InstanceView, RuleView};
use super::{Shared, now_ms};
use crate::data::{Labels, Millis};
use crate::eval::EvalResult;
use crate::state::{Evaluation, Outcome, RuleState, State, StoredInstance, Transition};
use crate::template::{self, TemplateData, TemplateValue};

/// Label holding the rule's title.
pub const ALERTNAME_LABEL: &str = "alertname";
/// Label holding the folder's title.
pub const FOLDER_LABEL: &str = "grafana_folder";
/// Label holding the rule's uid.
pub const RULE_UID_LABEL: &str = "__alert_rule_uid__";

/// An evaluation to run: at tick time `at`, after `delay` (spreading a tick's rules).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick {
    pub(crate) at: Millis,
    pub(crate) delay: Duration,
}

/// A change to the routine's rule.
#[derive(Debug)]
pub(crate) enum Control {
    /// The rule changed.
    Update(Box<LoadedRule>),
    /// The rule was deleted.
    Stop,
}

/// The labels every alert of `r` carries besides its result's: the rule's labels, then the
/// reserved ones.
pub(crate) fn base_labels(r: &LoadedRule) -> Labels {
    let mut labels = r.rule.labels.clone();
    labels.insert(ALERTNAME_LABEL.to_owned(), r.rule.title.clone());
    labels.insert(FOLDER_LABEL.to_owned(), r.folder_title.clone());
    labels.insert(RULE_UID_LABEL.to_owned(), r.rule.uid.clone());
    labels
}

/// The link alerts carry back to their rule (Grafana's rule view page).
pub(crate) fn generator_url(external_url: &str, r: &LoadedRule) -> String {
    format!(
        "{}/alerting/grafana/{}/view?orgId={}",
        external_url.trim_end_matches('/'),
        r.rule.uid,
        r.org_id
    )
}

pub(crate) struct RuleTask {
    shared: Arc<Shared>,
    key: RuleKey,
    rule: LoadedRule,
    state: RuleState,
    counts: BTreeMap<State, i64>,
}

impl RuleTask {
    pub(crate) fn new(shared: Arc<Shared>, rule: LoadedRule, stored: Vec<StoredInstance>) -> Self {
        let key = (rule.org_id, rule.rule.uid.clone());
        let settings = rule.rule.settings(Duration::from_millis(rule.interval_ms));
        let mut state = RuleState::restore(settings, base_labels(&rule), stored);
        state.set_rule_annotations(rule.rule.annotations.clone());
        state.set_generator_url(Some(generator_url(&shared.opts.external_url, &rule)));
        let mut task = Self {
            shared,
            key,
            rule,
            state,
            counts: BTreeMap::new(),
        };
        task.publish();
        task
    }

    pub(crate) async fn run(
        mut self,
        mut ticks: mpsc::Receiver<Tick>,
        mut control: mpsc::UnboundedReceiver<Control>,
    ) {
        loop {
            tokio::select! {
                biased;
                c = control.recv() => match c {
                    Some(Control::Update(r)) => self.update(*r).await,
                    Some(Control::Stop) => {
                        self.stop().await;
                        return;
                    }
                    // The scheduler shut down: the rule still exists, its state stays saved.
                    None => return,
                },
                t = ticks.recv() => match t {
                    Some(t) => {
                        if !t.delay.is_zero() {
                            tokio::time::sleep(t.delay).await;
                        }
                        self.evaluate(t.at).await;
                    }
                    None => return,
                },
            }
        }
    }

    /// The label sets of firing instances, as the expressions saw them (without the labels
    /// the rule adds).
    fn firing(&self) -> BTreeSet<Labels> {
        // The state holds the rule's labels plus the reserved ones: what the rule added.
        let added = self.state.rule_labels();
        self.state
            .instances()
            .filter(|i| matches!(i.state, State::Alerting | State::Recovering))
            .map(|i| {
                i.labels
                    .iter()
                    .filter(|(k, _)| !added.contains_key(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .collect()
    }

    async fn evaluate_once(&self, at: Millis, firing: &BTreeSet<Labels>) -> Vec<EvalResult> {
        let timeout = self.shared.opts.evaluation_timeout;
        let eval = self
            .shared
            .evaluator
            .evaluate(self.rule.org_id, &self.rule.rule, at, firing);
        match tokio::time::timeout(timeout, eval).await {
            Ok(r) => r,
            Err(_) => vec![EvalResult::error(format!(
                "evaluation timed out after {timeout:?}"
            ))],
        }
    }

    /// The labels and evaluation of one result: the rule's labels and annotations rendered
    /// with the result's labels and values (`$labels`, `$values`, `$value`), the result's
    /// labels, then the reserved labels.
    fn instance_of(&self, r: EvalResult) -> (Labels, Evaluation) {
        let rule = &self.rule.rule;
        let name = template::template_name(&rule.title);
        let values: BTreeMap<String, TemplateValue> = r
            .values
            .iter()
            .map(|(k, (labels, value))| {
                (
                    k.clone(),
                    TemplateValue {
                        labels: labels.clone(),
                        value: *value,
                    },
                )
            })
            .collect();
        let data = TemplateData::new(r.labels.clone(), values);
        let url = &self.shared.opts.external_url;
        let (rule_labels, label_errors) = template::expand_map(&name, &rule.labels, &data, url);
        let (annotations, annotation_errors) =
            template::expand_map(&name, &rule.annotations, &data, url);
        for e in label_errors.iter().chain(&annotation_errors) {
            tracing::warn!(rule = %rule.uid, error = %e, "template of the rule failed; its text is kept");
        }
        let mut labels = r.labels;
        labels.extend(rule_labels);
        labels.insert(ALERTNAME_LABEL.to_owned(), rule.title.clone());
        labels.insert(FOLDER_LABEL.to_owned(), self.rule.folder_title.clone());
        labels.insert(RULE_UID_LABEL.to_owned(), rule.uid.clone());
        let values = r.values.into_iter().map(|(k, (_, v))| (k, v)).collect();
        let evaluation = Evaluation::new(r.outcome)
            .with_values(values)
            .with_annotations(annotations);
        (labels, evaluation)
    }

    async fn evaluate(&mut self, at: Millis) {
        if self.rule.rule.is_paused {
            return;
        }
        let started = Instant::now();
        let firing = self.firing();
        let mut results = self.evaluate_once(at, &firing).await;
        let mut attempt = 1;
        while attempt < self.shared.opts.max_attempts
            && !results.is_empty()
            && results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Error(_)))
        {
            tokio::time::sleep(super::retry_wait(&self.shared.opts, attempt)).await;
            attempt += 1;
            results = self.evaluate_once(at, &firing).await;
        }
        let org = super::metrics::RulerMetrics::org(self.rule.org_id);
        let m = &self.shared.metrics;
        m.evaluations.get_or_create(&org).inc();
        if results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Error(_)))
        {
            m.evaluation_failures.get_or_create(&org).inc();
        }
        m.evaluation_duration
            .get_or_create(&org)
            .observe(started.elapsed().as_secs_f64());

        let evaluations: Vec<(Labels, Evaluation)> =
            results.into_iter().map(|r| self.instance_of(r)).collect();
        let before: BTreeSet<Labels> = self.state.instances().map(|i| i.labels.clone()).collect();
        let transitions = self.state.process(evaluations, at);
        let alerts = self.state.alerts_to_send(at);
        self.after(transitions, before, at).await;
        if !alerts.is_empty() {
            self.shared.sink.send(self.rule.org_id, alerts).await;
        }
    }

    /// Records the transitions that changed something, saves the instances they touched and
    /// forgets the ones that are gone, and publishes the rule's view.
    async fn after(&mut self, transitions: Vec<Transition>, before: BTreeSet<Labels>, at: Millis) {
        let changed: Vec<&Transition> = transitions.iter().filter(|t| t.changed).collect();
        // The state is saved first: what was recorded as history is then always restorable.
        let saved: Vec<StoredInstance> = changed
            .iter()
            .filter_map(|t| self.state.get(&t.labels).map(|i| i.to_stored()))
            .collect();
        let after: BTreeSet<&Labels> = self.state.instances().map(|i| &i.labels).collect();
        let removed: Vec<Labels> = before.into_iter().filter(|l| !after.contains(l)).collect();
        if (!saved.is_empty() || !removed.is_empty())
            && let Err(e) = self
                .shared
                .states
                .save(&self.key, saved, Some(removed))
                .await
        {
            tracing::warn!(rule = %self.key.1, error = %e, "saving alert state failed");
        }
        if !changed.is_empty() {
            let entries = changed
                .iter()
                .map(|t| HistoryEntry {
                    key: self.key.clone(),
                    rule_title: self.rule.rule.title.clone(),
                    labels: t.labels.clone(),
                    previous: t.previous_formatted(),
                    current: t.formatted(),
                    values: self
                        .state
                        .get(&t.labels)
                        .map(|i| i.values.clone())
                        .unwrap_or_default(),
                    error: self.state.get(&t.labels).and_then(|i| i.error.clone()),
                    at,
                })
                .collect();
            if let Err(e) = self.shared.history.record(entries).await {
                tracing::warn!(rule = %self.key.1, error = %e, "recording state history failed");
            }
        }
        self.publish();
    }

    /// Updates the alert gauges and the view the APIs read.
    fn publish(&mut self) {
        let mut counts: BTreeMap<State, i64> = BTreeMap::new();
        let mut instances = Vec::with_capacity(self.state.len());
        for i in self.state.instances() {
            *counts.entry(i.state).or_default() += 1;
            instances.push(InstanceView {
                labels: i.labels.clone(),
                annotations: i.annotations.clone(),
                state: i.state,
                reason: i.reason,
                active_at: i.starts_at,
                last_evaluated_at: i.last_evaluated_at,
                values: i.values.clone(),
                error: i.error.clone(),
            });
        }
        for state in State::ALL {
            let delta = counts.get(&state).copied().unwrap_or(0)
                - self.counts.get(&state).copied().unwrap_or(0);
            if delta != 0 {
                self.shared
                    .metrics
                    .alerts
                    .get_or_create(&super::metrics::StateLabel {
                        state: state.as_str().to_lowercase(),
                    })
                    .inc_by(delta);
            }
        }
        self.counts = counts;
        self.shared.view.put(
            self.key.clone(),
            RuleView {
                rule: self.rule.clone(),
                instances,
                last_evaluation: self.state.instances().map(|i| i.last_evaluated_at).max(),
            },
        );
    }

    async fn update(&mut self, r: LoadedRule) {
        let was_paused = self.rule.rule.is_paused;
        self.rule = r;
        self.state.set_settings(
            self.rule
                .rule
                .settings(Duration::from_millis(self.rule.interval_ms)),
        );
        self.state.set_rule_labels(base_labels(&self.rule));
        self.state
            .set_rule_annotations(self.rule.rule.annotations.clone());
        self.state.set_generator_url(Some(generator_url(
            &self.shared.opts.external_url,
            &self.rule,
        )));
        if self.rule.rule.is_paused && !was_paused {
            let at = now_ms();
            let before: BTreeSet<Labels> =
                self.state.instances().map(|i| i.labels.clone()).collect();
            let reset = self.state.pause(at);
            self.after(reset.transitions, before, at).await;
            if !reset.expired.is_empty() {
                self.shared.sink.send(self.rule.org_id, reset.expired).await;
            }
        } else {
            self.publish();
        }
    }

    async fn stop(&mut self) {
        let at = now_ms();
        let before: BTreeSet<Labels> = self.state.instances().map(|i| i.labels.clone()).collect();
        let reset = self.state.delete(at);
        self.after(reset.transitions, before, at).await;
        if let Err(e) = self.shared.states.save(&self.key, Vec::new(), None).await {
            tracing::warn!(rule = %self.key.1, error = %e, "forgetting alert state failed");
        }
        if !reset.expired.is_empty() {
            self.shared.sink.send(self.rule.org_id, reset.expired).await;
        }
        for (state, n) in std::mem::take(&mut self.counts) {
            self.shared
                .metrics
                .alerts
                .get_or_create(&super::metrics::StateLabel {
                    state: state.as_str().to_lowercase(),
                })
                .dec_by(n);
        }
        self.shared.view.remove(&self.key);
    }
}
