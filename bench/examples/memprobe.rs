//! Memory and CPU probe of Watchkeeper's alert structures, without a server: counts the heap
//! bytes of one alert, of the alert store holding it (`Arc<Alert>` with compact label sets) and
//! of an aggregation group sharing it, and times the listing and sorting `GET /api/v2/alerts`
//! does.
//!
//! Run with `cargo run --release -p wk-bench --example memprobe [ALERTS]` (default 100000).
//! It uses the same alert shape as `wk-bench`.

#[path = "../src/load.rs"]
#[allow(dead_code)] // Only `alert` is used here.
mod load;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{TimeDelta, Utc};
use wk_alertmanager::alert::{Alert, PostedAlert, ingest};
use wk_alertmanager::alerts::AlertStore;
use wk_alertmanager::labels::{Fingerprint, LabelSet, NameValidation};

/// Counts live heap bytes as requested and as glibc malloc chunks (`max(32, round16(n + 8))`).
struct Counting;

static REQUESTED: AtomicIsize = AtomicIsize::new(0);
static CHUNKS: AtomicIsize = AtomicIsize::new(0);
static COUNT: AtomicIsize = AtomicIsize::new(0);

fn chunk(n: usize) -> isize {
    ((n + 8 + 15) & !15).max(32) as isize
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        REQUESTED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        CHUNKS.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        COUNT.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        REQUESTED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        CHUNKS.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        COUNT.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REQUESTED.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        CHUNKS.fetch_add(chunk(new_size) - chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap: requested bytes, glibc chunk bytes, allocations.
#[derive(Clone, Copy)]
struct Heap(isize, isize, isize);

fn heap() -> Heap {
    Heap(
        REQUESTED.load(Ordering::Relaxed),
        CHUNKS.load(Ordering::Relaxed),
        COUNT.load(Ordering::Relaxed),
    )
}

/// Prints the heap growth since `before`, per alert.
fn report(what: &str, before: Heap, n: usize) {
    let now = heap();
    let per = |a: isize, b: isize| (a - b) as f64 / n as f64;
    println!(
        "{what:<62} {:>7.0} B requested  {:>7.0} B malloc chunks  {:>5.1} allocations",
        per(now.0, before.0),
        per(now.1, before.1),
        per(now.2, before.2)
    );
}

fn main() -> Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse().context("ALERTS must be a number")?,
        None => 100_000,
    };
    let now = Utc::now();
    let starts = now.to_rfc3339();
    let ends = (now + TimeDelta::days(7)).to_rfc3339();
    let posted = |i: usize| -> Result<PostedAlert> {
        serde_json::from_value(load::alert(i, &starts, &ends)).context("decoding a generated alert")
    };
    let ingested = |i: usize| -> Result<Alert> {
        ingest(posted(i)?, now, TimeDelta::minutes(5), NameValidation::Utf8)
            .context("ingesting a generated alert")
    };
    println!(
        "{n} alerts; size_of::<Alert>() = {} B, size_of::<LabelSet>() = {} B\n",
        std::mem::size_of::<Alert>(),
        std::mem::size_of::<LabelSet>()
    );

    let h = heap();
    let alerts: Vec<Alert> = (0..n).map(ingested).collect::<Result<_>>()?;
    report("one Alert, heap only (+ size_of in the Vec)", h, n);
    drop(alerts);

    // Each alert is parsed and ingested inside the loop, so only what the store keeps counts.
    let h = heap();
    let store = AlertStore::new(0);
    for i in 0..n {
        store
            .put(ingested(i)?, now)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    report(
        "AlertStore (HashMap<Fingerprint, Arc<Alert>> + per-name count)",
        h,
        n,
    );

    let list = store.list();
    let h = heap();
    let mut group: HashMap<Fingerprint, Arc<Alert>> = HashMap::new();
    for a in &list {
        group.insert(a.fingerprint(), Arc::clone(a));
    }
    report("aggregation group (HashMap<Fingerprint, Arc<Alert>>)", h, n);

    let h = heap();
    let mut silence_cache: HashMap<Fingerprint, (Vec<String>, u64)> = HashMap::new();
    for a in &list {
        silence_cache.insert(a.fingerprint(), (Vec::new(), 0));
    }
    report(
        "silence mute cache entry (after the first GET; model)",
        h,
        n,
    );

    // GET /alerts: listing and sorting by the cached fingerprint.
    let t = Instant::now();
    let mut a = list.clone();
    let clone_time = t.elapsed();
    let t = Instant::now();
    a.sort_by_key(|a| a.fingerprint());
    let sort_cached = t.elapsed();
    let t = Instant::now();
    let fresh: u64 = list
        .iter()
        .map(|a| a.labels.iter().collect::<LabelSet>().fingerprint().0 & 1)
        .sum();
    let fp_time = t.elapsed();
    let t = Instant::now();
    let listed = store.list();
    let list_time = t.elapsed();
    println!(
        "\nGET /alerts pieces at {n}: AlertStore::list {:.1} ms (Arc clones + sort); \
         clone of the list {:.1} ms; sort_by_key(cached fingerprint) of a sorted list {:.1} ms; \
         rebuilding one label set and its fingerprint per alert {:.1} ms",
        list_time.as_secs_f64() * 1e3,
        clone_time.as_secs_f64() * 1e3,
        sort_cached.as_secs_f64() * 1e3,
        fp_time.as_secs_f64() * 1e3,
    );
    // Keep everything alive until here, and use the values.
    let labels: BTreeMap<&str, usize> = [("fps", fresh as usize), ("listed", listed.len())].into();
    println!(
        "(checks: {labels:?}, {} group, {} silence entries)",
        group.len(),
        silence_cache.len()
    );
    Ok(())
}
