//! W4, the hostile workload (see `tests/common/hostile.rs`): 1 M single-event keys with
//! timestamps over `0..=i64::MAX`, runs of identical timestamps, one series over the whole
//! `i64` range. Grouped and scored end to end, it must give a clear result (no panic, a report
//! per series, the right verdicts) with bounded memory, measured with a counting allocator.
mod common;

use beaconstat::{Analyzer, AnalyzerConfig, BeaconReport, GroupBy, Grouper, Verdict, score_set};
use common::counting::{LIVE, PEAK, reset_peak};
use common::hostile::{self, DUP_BEATS, DUP_COPIES, DUP_RUN, EVENTS, FULL_RANGE, KEYS, SINGLES};
use std::sync::atomic::Ordering;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

const MIB: f64 = 1024.0 * 1024.0;

#[test]
fn hostile_workload_groups_and_scores_with_bounded_memory() {
    let sources = hostile::sources();
    let events = hostile::events(&sources);
    assert_eq!(events.len(), EVENTS);

    // Grouping.
    let before_group = reset_peak();
    let mut grouper = Grouper::new(GroupBy::Pair);
    for e in &events {
        grouper.push(e);
    }
    let set = grouper.finish();
    let group_peak = PEAK.load(Ordering::SeqCst) - before_group;
    let set_bytes = LIVE.load(Ordering::SeqCst) - before_group;
    assert_eq!(set.len(), KEYS);
    assert_eq!(set.events(), EVENTS);
    assert_eq!(set.unkeyed(), 0);

    // Scoring every series (min_events 1: the single-event series get reports too).
    let before_score = reset_peak();
    let reports = score_set(&set, &AnalyzerConfig::default(), 1);
    let score_peak = PEAK.load(Ordering::SeqCst) - before_score;
    let reports_bytes = LIVE.load(Ordering::SeqCst) - before_score;
    eprintln!(
        "W4: {EVENTS} events, {KEYS} keys; grouping peak +{:.1} MiB ({:.0} B/event), series set {:.1} MiB; \
         score_set peak +{:.1} MiB ({:.0} B/event, {:.0} B/series), reports {:.1} MiB",
        group_peak as f64 / MIB,
        group_peak as f64 / EVENTS as f64,
        set_bytes as f64 / MIB,
        score_peak as f64 / MIB,
        score_peak as f64 / EVENTS as f64,
        score_peak as f64 / KEYS as f64,
        reports_bytes as f64 / MIB,
    );

    // Scoring alone, without collecting reports: one analyzer, every series in turn. Its
    // scratch grows with the longest series (`full-range`), not with the number of series.
    let before_analyzer = reset_peak();
    let mut analyzer = Analyzer::default();
    let mut acc = 0.0;
    for s in set.iter() {
        acc += analyzer.score_series(&s).score;
    }
    drop(analyzer);
    let analyzer_peak = PEAK.load(Ordering::SeqCst) - before_analyzer;
    eprintln!(
        "one analyzer over every series: peak +{:.1} MiB ({:.0} B per event of the longest series)",
        analyzer_peak as f64 / MIB,
        analyzer_peak as f64 / FULL_RANGE as f64
    );
    assert!(acc.is_finite());

    // A report per series, in index order.
    assert_eq!(reports.len(), KEYS);
    assert!(reports.iter().enumerate().all(|(n, (i, _))| n == *i));
    let by_src = |name: &str| {
        let s = set.iter().find(|s| s.key().src == Some(name)).unwrap();
        (s, reports[s.index()].1)
    };
    for (_, r) in &reports {
        assert!(r.score.is_finite() && (0.0..=1.0).contains(&r.score), "{r:?}");
        assert!(r.p_value.is_finite() && (0.0..=1.0).contains(&r.p_value), "{r:?}");
    }

    // One event: too few, score 0, p 1, first == last == the event.
    let singles = set.iter().filter(|s| s.len() == 1).count();
    assert_eq!(singles, SINGLES);
    for s in set.iter().filter(|s| s.len() == 1) {
        let r = &reports[s.index()].1;
        assert_eq!(r.verdict, Verdict::TooFew, "{}", s.key());
        assert_eq!((r.score, r.p_value, r.events, r.beats), (0.0, 1.0, 1, 1));
        assert_eq!(Some(r.first), s.first());
        assert_eq!(r.first, r.last);
    }
    let (_, r) = by_src("h0");
    assert_eq!(r.first.0, 0);
    let (_, r) = by_src("h1");
    assert_eq!(r.first.0, i64::MAX);

    // Identical timestamps coalesce into one beat each.
    let (_, r) = by_src("dup-periodic");
    assert_eq!((r.events, r.beats), (DUP_BEATS * DUP_COPIES, DUP_BEATS), "{r:?}");
    assert_eq!(r.verdict, Verdict::Scored);
    assert!(r.score > 0.9, "a strict 60 s beacon logged 50× per check-in: {r:?}");
    assert!((r.period.unwrap().as_secs_f64() - 60.0).abs() < 0.01, "{r:?}");
    assert_eq!(r.missed_beats, 0, "{r:?}");
    let (_, r) = by_src("dup-same");
    assert_eq!((r.events, r.beats, r.verdict), (DUP_RUN, 1, Verdict::TooFew), "{r:?}");
    assert_eq!((r.first.0, r.last.0), (i64::MAX, i64::MAX));
    let (_, r) = by_src("dup-extremes");
    assert_eq!((r.events, r.beats, r.verdict), (DUP_RUN, 2, Verdict::TooFew), "{r:?}");
    assert_eq!((r.first.0, r.last.0), (i64::MIN, i64::MAX));

    // The whole i64 range in one series: scored, a finite score in [0, 1], a finite period.
    let (s, r) = by_src("full-range");
    assert_eq!(s.len(), FULL_RANGE);
    assert_eq!((r.first.0, r.last.0), (i64::MIN, i64::MAX));
    assert_eq!(r.verdict, Verdict::Scored, "{r:?}");
    eprintln!("full-range: {r:?}");
    assert!(r.period.is_none_or(|p| p.as_micros() > 0), "{r:?}");

    // Bounded memory: each stage's heap high-water mark above what was live before it, against
    // a bound linear in its input (see the constants for the measured figures).
    assert!(
        group_peak <= GROUP_BYTES_PER_EVENT * EVENTS,
        "grouping peaked at {group_peak} bytes over {EVENTS} events"
    );
    assert!(
        analyzer_peak <= ANALYZER_BYTES_PER_EVENT * FULL_RANGE + ANALYZER_FIXED,
        "one analyzer peaked at {analyzer_peak} bytes; longest series {FULL_RANGE} events"
    );
    let report = std::mem::size_of::<(usize, BeaconReport)>();
    assert!(
        score_peak as f64 <= SCORE_SET_OVER_OUTPUT * (report * KEYS) as f64,
        "score_set peaked at {score_peak} bytes for {KEYS} reports of {report} bytes"
    );
}

/// Grouping (`Grouper::push` … `finish`), per event. Measured: 84 B/event (91 MiB for
/// 1.13 M events, 1 M of them new keys: interned key text, a 28-byte record and a 32-bit hash
/// per key, the key table, a key id, timestamp and size per event while grouping, then the
/// sorted columns; 175 B/event, 188 MiB, before the per-key codes went, the records shrank and
/// the columns stopped doubling). Bound: 128.
const GROUP_BYTES_PER_EVENT: usize = 128;

/// One analyzer scoring every series in turn, per event of the longest series, plus FFT plans.
/// Measured: 9.0 MiB for a 100 000-event longest series (94 B per event: the scratch columns
/// are a few `Vec<i64>`/`Vec<f64>`/`Vec<u64>` of its length, the periodogram is capped at 65 536
/// bins). Bound: 96 B per event of the longest series + 8 MiB (17 MiB here).
const ANALYZER_BYTES_PER_EVENT: usize = 96;
const ANALYZER_FIXED: usize = 8 << 20;

/// `score_set`, as a multiple of its output (`(index, BeaconReport)`, 320 B per series).
/// Measured on 2 threads: 1.05× (320 MiB peak for 305 MiB of reports; the list of chosen
/// indices and per-thread analyzers are the rest). It was 5.1× while `score_set` filtered
/// inside the parallel pass and collected through per-split vectors. Bound: 1.25×.
const SCORE_SET_OVER_OUTPUT: f64 = 1.25;
