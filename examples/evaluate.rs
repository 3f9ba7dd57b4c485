//! The engine on the labelled evaluation corpus (`beaconstat::synth::Corpus`): AUC, TPR at a
//! false-positive rate of 1e-3 and 1e-2, period accuracy, segments found for sleep changes,
//! Poisson calibration, and recall per class. The corpus goes through a Zeek conn.log (written,
//! read back, grouped by (src, dst)) as a user's log would; series are scored on their timing.
//!
//! ```text
//! cargo run --release --example evaluate                      # seed 12, the default corpus
//! cargo run --release --example evaluate -- --seed 7 --per-class 40 --aperiodic 200
//! cargo run --release --example generate -- --corpus 12 > corpus.conn.log 2> corpus.truth.jsonl
//! ```
use beaconstat::synth::Corpus;
use beaconstat::{Analyzer, BeaconReport, GroupBy, Grouper, ReadOptions};
use std::collections::HashMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut b = Corpus::builder();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let n = args.next().and_then(|v| v.parse::<u64>().ok());
        b = match (a.as_str(), n) {
            ("--seed", Some(n)) => b.seed(n),
            ("--per-class", Some(n)) => b.per_class(n as usize),
            ("--aperiodic", Some(n)) => b.aperiodic_per_class(n as usize),
            _ => {
                eprintln!("usage: evaluate [--seed S] [--per-class N] [--aperiodic N]");
                return ExitCode::from(2);
            }
        };
    }
    let corpus = b.build();
    let log = corpus.to_zeek_tsv();
    let mut grouper = Grouper::new(GroupBy::Pair);
    let read = ReadOptions::new()
        .from_reader(std::io::Cursor::new(log.into_bytes()))
        .and_then(|mut r| r.for_each(|ev| grouper.push(&ev)));
    if let Err(e) = read {
        eprintln!("reading the generated conn.log: {e}");
        return ExitCode::FAILURE;
    }
    let set = grouper.finish();
    let index: HashMap<String, usize> = (0..corpus.series().len()).map(|i| (corpus.addresses(i).0, i)).collect();
    // Timing only, as `Corpus::evaluate` scores (the corpus's byte counts carry no signal).
    let mut analyzer = Analyzer::default();
    let mut reports = vec![BeaconReport::default(); corpus.series().len()];
    for s in set.iter() {
        if let Some(&j) = s.key().source().and_then(|src| index.get(src))
            && let Some(slot) = reports.get_mut(j)
        {
            *slot = analyzer.score(s.timestamps(), None);
        }
    }
    print!("{}", corpus.evaluate_reports(&reports));
    ExitCode::SUCCESS
}
