//! Grafana-managed alert rules, the generator half of alerting: the data a query yields
//! ([`data`]), data sources ([`datasource`]), server-side expressions ([`expr`]), the rules
//! themselves and their API shapes ([`rule`]), the state of each alert instance ([`state`]),
//! evaluation ([`eval`]), label and annotation templates ([`template`]) and the scheduler
//! that runs it on every instance ([`schedule`]).
//! Hands alerts on through ports the server implements; knows nothing of SQL or HTTP serving.

pub mod data;
pub mod datasource;
pub mod eval;
pub mod expr;
pub mod rule;
pub mod schedule;
pub mod state;
pub mod template;
