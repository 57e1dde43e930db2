//! Memory and CPU probe of Watchkeeper's alert structures, without a server: counts the heap
//! bytes of one stored alert and of the copies the store and an aggregation group hold, models
//! a compact alternative (interned names and low-cardinality values, shared between store and
//! group), and times the fingerprint sort `GET /api/v2/alerts` does.
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
use wk_alertmanager::labels::{Fingerprint, NameValidation};

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

/// A compact alert: interned label names and low-cardinality values (`Arc<str>` from a
/// table), one boxed slice per label set, fixed-size times.
#[allow(dead_code)] // Only its size matters.
struct Compact {
    labels: Box<[(Arc<str>, Arc<str>)]>,
    annotations: Box<[(Arc<str>, Box<str>)]>,
    generator_url: Box<str>,
    starts_at: i64,
    ends_at: i64,
    updated_at: i64,
    fingerprint: u64,
    timeout: bool,
}

/// Shares strings seen before.
#[derive(Default)]
struct Interner(HashMap<Box<str>, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Box::from(s), a.clone());
        a
    }
}

fn compact(a: &Alert, names: &mut Interner, values: &mut Interner) -> Compact {
    Compact {
        labels: a
            .labels
            .iter()
            .map(|(k, v)| {
                // `instance` is the one high-cardinality label of the shape.
                let v = if k == "instance" {
                    Arc::from(v)
                } else {
                    values.get(v)
                };
                (names.get(k), v)
            })
            .collect(),
        annotations: a
            .annotations
            .iter()
            .map(|(k, v)| (names.get(k), Box::from(v)))
            .collect(),
        generator_url: Box::from(a.generator_url.as_str()),
        starts_at: a.starts_at.timestamp_millis(),
        ends_at: a.ends_at.timestamp_millis(),
        updated_at: a.updated_at.timestamp_millis(),
        fingerprint: a.fingerprint().0,
        timeout: a.timeout,
    }
}

fn main() -> Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse().context("ALERTS must be a number")?,
        None => 100_000,
    };
    let now = Utc::now();
    let starts = now.to_rfc3339();
    let ends = (now + TimeDelta::days(7)).to_rfc3339();
    let posted: Vec<PostedAlert> = (0..n)
        .map(|i| serde_json::from_value(load::alert(i, &starts, &ends)))
        .collect::<Result<_, _>>()
        .context("decoding a generated alert")?;
    println!(
        "{n} alerts; size_of::<Alert>() = {} B, size_of::<Compact>() = {} B\n",
        std::mem::size_of::<Alert>(),
        std::mem::size_of::<Compact>()
    );

    let h = heap();
    let alerts: Vec<Alert> = posted
        .into_iter()
        .map(|p| ingest(p, now, TimeDelta::minutes(5), NameValidation::Utf8))
        .collect::<Result<_, _>>()
        .context("ingesting a generated alert")?;
    report("one Alert, heap only (+ size_of in the Vec)", h, n);

    let h = heap();
    let store = AlertStore::new(0);
    for a in &alerts {
        store
            .put(a.clone(), now)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    report(
        "AlertStore (HashMap<Fingerprint, Alert> + per-name count)",
        h,
        n,
    );

    let h = heap();
    let mut group: HashMap<Fingerprint, Alert> = HashMap::new();
    for a in &alerts {
        group.insert(a.fingerprint(), a.clone());
    }
    report("aggregation group copy (HashMap<Fingerprint, Alert>)", h, n);

    let h = heap();
    let mut silence_cache: HashMap<Fingerprint, (Vec<String>, u64)> = HashMap::new();
    for a in &alerts {
        silence_cache.insert(a.fingerprint(), (Vec::new(), 0));
    }
    report(
        "silence mute cache entry (after the first GET; model)",
        h,
        n,
    );

    let h = heap();
    let mut names = Interner::default();
    let mut values = Interner::default();
    let compacts: Vec<Arc<Compact>> = alerts
        .iter()
        .map(|a| Arc::new(compact(a, &mut names, &mut values)))
        .collect();
    report(
        "compact alternative: Arc<Compact>, interned names/values",
        h,
        n,
    );
    let h = heap();
    let mut shared_store: HashMap<u64, Arc<Compact>> = HashMap::new();
    let mut shared_group: HashMap<u64, Arc<Compact>> = HashMap::new();
    for c in &compacts {
        shared_store.insert(c.fingerprint, c.clone());
        shared_group.insert(c.fingerprint, c.clone());
    }
    report("  + store and group maps sharing the Arc", h, n);

    // GET /alerts: the sort by a recomputed fingerprint against a precomputed key.
    let list = store.list();
    let t = Instant::now();
    let mut a = list.clone();
    let clone_time = t.elapsed();
    let t = Instant::now();
    a.sort_by_key(Alert::fingerprint);
    let sort_recompute = t.elapsed();
    let t = Instant::now();
    let mut keyed: Vec<(Fingerprint, &Alert)> = list.iter().map(|a| (a.fingerprint(), a)).collect();
    keyed.sort_unstable_by_key(|(fp, _)| *fp);
    let sort_keyed = t.elapsed();
    let t = Instant::now();
    let fps: u64 = list.iter().map(|a| a.fingerprint().0 & 1).sum();
    let fp_time = t.elapsed();
    let t = Instant::now();
    let listed = store.list();
    let list_time = t.elapsed();
    println!(
        "\nGET /alerts pieces at {n}: AlertStore::list {:.0} ms (deep clone + sort); \
         clone of the list {:.0} ms; sort_by_key(fingerprint) of a sorted list {:.0} ms; \
         one fingerprint per alert {:.1} ms; sort by a precomputed key {:.1} ms",
        list_time.as_secs_f64() * 1e3,
        clone_time.as_secs_f64() * 1e3,
        sort_recompute.as_secs_f64() * 1e3,
        fp_time.as_secs_f64() * 1e3,
        sort_keyed.as_secs_f64() * 1e3,
    );
    // Keep everything alive until here, and use the values.
    let labels: BTreeMap<&str, usize> = [("fps", fps as usize), ("listed", listed.len())].into();
    println!(
        "(checks: {labels:?}, {} compact, {} group, {} silence entries)",
        shared_store.len() + shared_group.len(),
        group.len(),
        silence_cache.len()
    );
    Ok(())
}
