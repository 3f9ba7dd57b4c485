//! Scoring a whole [`SeriesSet`] at once, over all cores with the `parallel` feature.

use super::analyzer::Analyzer;
use super::config::AnalyzerConfig;
use super::report::BeaconReport;
use crate::series::SeriesSet;

/// Scores every series of `set` with at least `min_events` events, returning
/// `(series index, report)` in index order.
///
/// With the `parallel` feature (on by default) the series are shared out over rayon's thread
/// pool, one [`Analyzer`] per worker thread for the whole call (analyzers keep FFT plans and
/// scratch buffers, so they are reused but not shared); without it they are scored in turn by
/// one analyzer. The results are the same either way.
///
/// # Example
/// ```
/// use beaconstat::{AnalyzerConfig, ConnEvent, GroupBy, Grouper, Timestamp, score_set};
/// let mut g = Grouper::new(GroupBy::Pair);
/// for i in 0..40 {
///     g.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "a", "b"));
///     g.push(&ConnEvent::new(Timestamp::from_secs(i * i), "a", "c"));
/// }
/// let set = g.finish();
/// let reports = score_set(&set, &AnalyzerConfig::default(), 6);
/// assert_eq!(reports.len(), 2);
/// assert!(reports[0].1.score > reports[1].1.score);
/// ```
pub fn score_set(set: &SeriesSet, cfg: &AnalyzerConfig, min_events: usize) -> Vec<(usize, BeaconReport)> {
    // The qualifying series first (a cheap pass over lengths): scoring is then a map over an
    // indexed list, collected straight into one exact-size vector (filtering inside a parallel
    // pass collects through per-split vectors: on a million tiny series that cost more time and
    // five times the output's memory).
    let chosen: Vec<usize> = set
        .iter()
        .filter(|s| s.len() >= min_events)
        .map(|s| s.index())
        .collect();
    map_scored(&chosen, cfg, |analyzer, &i| (i, score_one(analyzer, set, i)))
}

/// `f` of every item with an analyzer, the results in item order: with the `parallel`
/// feature over rayon's pool, one [`Analyzer`] per worker thread for the whole call
/// (analyzers keep FFT plans and scratch buffers, so they are reused but not shared); without
/// it in turn with one. An analyzer's reports do not depend on what it scored before, so the
/// results are the same either way.
pub(crate) fn map_scored<T: Sync, R: Send>(
    items: &[T],
    cfg: &AnalyzerConfig,
    f: impl Fn(&mut Analyzer, &T) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        // One analyzer per worker thread, each behind its own (never contended) lock: with
        // `map_init` every rayon job would build one, re-planning its FFTs and growing its
        // buffers afresh.
        let workers = rayon::current_num_threads().max(1);
        let analyzers: Vec<std::sync::Mutex<Analyzer>> = (0..workers)
            .map(|_| std::sync::Mutex::new(Analyzer::new(cfg.clone())))
            .collect();
        // Sixteen series a job keeps the pool's overhead off a million tiny series, but a
        // few long ones (an AN1113 join's handful of process series, tens of thousands of
        // check-ins each) would then all score on one thread: fewer items, smaller jobs.
        let min_len = (items.len() / (workers * 8)).clamp(1, 16);
        items
            .par_iter()
            .with_min_len(min_len)
            .map(|item| {
                let worker = rayon::current_thread_index().unwrap_or(0) % workers;
                // A poisoned lock only means another item's scoring panicked (it never does):
                // the analyzer's scratch is rebuilt on every call, so it is still usable.
                let mut guard = match analyzers[worker].lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                f(&mut guard, item)
            })
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut analyzer = Analyzer::new(cfg.clone());
        items.iter().map(|item| f(&mut analyzer, item)).collect()
    }
}

/// Series `i` of `set` scored (`i` comes from the set, so it is found; an empty series is the
/// fallback).
fn score_one(analyzer: &mut Analyzer, set: &SeriesSet, i: usize) -> BeaconReport {
    match set.get(i) {
        Some(s) => analyzer.score_series(&s),
        None => analyzer.score(&[], None),
    }
}
