//! Alert instance state.
