//! The engine on the labelled evaluation corpus (`synth::Corpus`, seed 12): the targets.
//! Prints the figures and the per-class table (`cargo test --release --test evaluation -- --nocapture`).

use beaconstat::Analyzer;
use beaconstat::synth::Corpus;

#[test]
fn the_engine_meets_its_targets_on_the_labelled_corpus() {
    let corpus = Corpus::builder().build();
    let ev = corpus.evaluate(&mut Analyzer::default());
    println!("{ev}");
    assert!(ev.auc >= 0.995, "AUC {}", ev.auc);
    assert!(ev.tpr_at_fpr_1e3 >= 0.97, "TPR at FPR 1e-3: {}", ev.tpr_at_fpr_1e3);
    assert!(ev.period_accuracy >= 0.95, "period accuracy {}", ev.period_accuracy);
    assert!(ev.segments_found >= 0.9, "segments found {}", ev.segments_found);
    assert!(
        ev.poisson_p_below_005 <= 0.05,
        "Poisson P(p < 0.05) = {}",
        ev.poisson_p_below_005
    );
    // Every beacon class is seen, and no aperiodic class is taken for beacons.
    for c in &ev.classes {
        if c.class.is_beacon() {
            assert!(
                c.recall_at_fpr_1e3 >= 0.9,
                "{}: recall {}",
                c.class,
                c.recall_at_fpr_1e3
            );
        } else {
            assert!(c.recall <= 0.01, "{}: {} score >= 0.5", c.class, c.recall);
        }
    }
}

#[test]
fn the_corpus_round_trips_through_a_zeek_conn_log() {
    use beaconstat::{GroupBy, Grouper, ReadOptions};
    let corpus = Corpus::builder().seed(3).per_class(3).aperiodic_per_class(3).build();
    let log = corpus.to_zeek_tsv();
    let mut grouper = Grouper::new(GroupBy::Pair);
    ReadOptions::new()
        .from_reader(std::io::Cursor::new(log.into_bytes()))
        .and_then(|mut r| r.for_each(|ev| grouper.push(&ev)))
        .unwrap();
    let set = grouper.finish();
    assert_eq!(set.len(), corpus.series().len());
    for (i, s) in corpus.series().iter().enumerate() {
        let src = corpus.addresses(i).0;
        let got = set.iter().find(|g| g.key().source() == Some(src.as_str())).unwrap();
        assert_eq!(got.timestamps(), s.timestamps.as_slice(), "series {i} ({})", s.class);
    }
    assert_eq!(corpus.truth().len(), corpus.series().len());
}
