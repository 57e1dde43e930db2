//! Routing and grouping (`dispatch/route.go`, the grouping half of `dispatch/dispatch.go`).
//!
//! [`RouteConfig`] (from the configuration) is the plain route tree; [`Route::new_tree`]
//! applies Alertmanager's defaults and inheritance and precomputes each route's
//! [`Route::key`], [`Route::id`] and [`Route::idx`]. [`group_labels`] and [`group_key`] derive
//! an aggregation group's labels and its `GroupKey` (the nflog key, also sent to webhooks).
//! [`Dispatcher`] routes stored alerts into aggregation groups and runs their timers.

mod aggregation;
#[cfg(test)]
mod aggregation_tests;
mod dispatcher;
mod group;
mod route;
#[cfg(test)]
mod tests;

pub use aggregation::Clock;
pub use dispatcher::{DEFAULT_MAINTENANCE_INTERVAL, Dispatcher, DispatcherOptions, GroupInfo};
pub use group::{group_key, group_labels};
pub use route::{
    DEFAULT_GROUP_INTERVAL, DEFAULT_GROUP_WAIT, DEFAULT_REPEAT_INTERVAL, GroupBy, Route,
    RouteConfig,
};
