//! Scoring a whole [`SeriesSet`] at once, over all cores with the `parallel` feature.

use super::analyzer::Analyzer;
use super::config::AnalyzerConfig;
use super::report::BeaconReport;
use crate::series::SeriesSet;

/// Scores every series of `set` with at least `min_events` events, returning
/// `(series index, report)` in index order.
///
/// With the `parallel` feature (on by default) the series are shared out over rayon's thread
/// pool, one [`Analyzer`] per worker thread (analyzers keep scratch buffers, so they are not
/// shared); without it they are scored in turn by one analyzer. The results are the same
/// either way.
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
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..set.len())
            .into_par_iter()
            .with_min_len(64)
            .map_init(
                || Analyzer::new(cfg.clone()),
                |analyzer, i| {
                    let s = set.get(i)?;
                    (s.len() >= min_events).then(|| (i, analyzer.score_series(&s)))
                },
            )
            .flatten()
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut analyzer = Analyzer::new(cfg.clone());
        set.iter()
            .filter(|s| s.len() >= min_events)
            .map(|s| (s.index(), analyzer.score_series(&s)))
            .collect()
    }
}
