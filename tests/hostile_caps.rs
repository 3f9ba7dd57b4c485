//! Inputs built to exhaust memory or time in the lineage parsers stay within their caps: an
//! `at.exe` line of millions of arguments and a deeply nested task XML event. The heap is
//! measured with the counting allocator (one test per binary, so nothing else allocates).
mod common;

use beaconstat::lineage::{SchtasksCommand, TaskDefinition, TaskXmlErrorKind};
use common::counting::{PEAK, reset_peak};
use std::sync::atomic::Ordering;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn hostile_lineage_inputs_stay_within_their_caps() {
    // The at.exe line had 25 M arguments (2.77 GB before the cap). 2.5 M here: the
    // heap beyond the line itself must not grow with the argument count.
    let line = format!("at 13:20 cmd{}", " a".repeat(2_500_000));
    let before = reset_peak();
    let c = SchtasksCommand::parse(&line).expect("an at.exe line");
    let d = c.definition();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    assert!(c.at && c.truncated);
    assert_eq!(d.exec().map(|(cmd, _)| cmd), Some("cmd"));
    // MAX_ARGS strings of one byte each, their Vec and the joined command, twice over.
    assert!(
        peak < 512 * 1024,
        "at.exe parse peak {peak} B for a {} B line",
        line.len()
    );

    // 300 k nested elements (the 4 MB event): refused at the depth cap, and the
    // parser's heap stays at the cap's size, not the input's.
    let n = 300_000;
    let xml = format!("<Task>{}{}</Task>", "<a>".repeat(n), "</a>".repeat(n));
    let before = reset_peak();
    let err = TaskDefinition::parse(&xml).unwrap_err();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    assert!(matches!(err.kind(), TaskXmlErrorKind::TooDeep { limit: 64 }), "{err}");
    assert!(
        peak < 64 * 1024,
        "task XML parse peak {peak} B for a {} B event",
        xml.len()
    );
}
