//! Grafana-managed alert rules, the generator half of alerting: the data a query yields
//! ([`data`]), data sources ([`datasource`]), server-side expressions ([`expr`]), the rules
//! themselves and their API shapes ([`rule`]) and the state of each alert instance ([`state`]). Hands alerts on to the Alertmanager; knows nothing of SQL
//! or HTTP serving.

pub mod data;
pub mod datasource;
pub mod expr;
pub mod rule;
pub mod state;
