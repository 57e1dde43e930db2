//! Compiles Watchkeeper's own `.proto` files (under `proto/`) into Rust with prost.
//!
//! Parsing is done in-process by protox, so no `protoc` binary is needed.
//! `google.protobuf.Timestamp` resolves to `prost_types::Timestamp` (prost-build's default).

use std::error::Error;

/// The schema files, relative to the crate root.
const PROTOS: [&str; 4] = [
    "proto/alerts.proto",
    "proto/cluster.proto",
    "proto/nflog.proto",
    "proto/silence.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let fds = protox::compile(PROTOS, ["proto"])?;
    prost_build::Config::new()
        // Sorted maps keep encoding deterministic (Go's gogo marshaller sorts map keys too).
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
