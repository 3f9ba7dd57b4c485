//! Reports in JSON: durations are seconds under the `…_s` names, to the microsecond, and read
//! back the same.
#![cfg(feature = "serde")]

use beaconstat::beacon::Segment;
use beaconstat::{Analyzer, BeaconReport, Interval};

#[test]
fn durations_are_seconds_in_json() {
    let ts: Vec<i64> = (0..20).map(|i| i * 2_500_000 + (i % 3) * 7).collect();
    let r = Analyzer::default().score(&ts, None);
    let period = r.period.expect("a period");
    let json = serde_json::to_value(r).unwrap();
    // Seconds under the old names, to the microsecond.
    assert_eq!(json["period_s"].as_f64(), Some(period.as_secs_f64()));
    assert_eq!(json["coalesce_gap_s"].as_f64(), Some(r.coalesce_gap.as_secs_f64()));
    assert_eq!(
        json["intervals"]["median_s"].as_f64(),
        Some(r.intervals.median.as_secs_f64())
    );
    assert!(json.get("period").is_none());
    // And back: the same durations.
    let back: BeaconReport = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(
        (back.period, back.coalesce_gap, back.intervals.median),
        (r.period, r.coalesce_gap, r.intervals.median)
    );
    // A missing optional duration reads as none; a non-number duration is an error.
    let mut partial = json.clone();
    partial.as_object_mut().unwrap().remove("period_s");
    assert_eq!(serde_json::from_value::<BeaconReport>(partial).unwrap().period, None);
    let mut bad = json;
    bad["coalesce_gap_s"] = serde_json::json!("3 s");
    assert!(serde_json::from_value::<BeaconReport>(bad).is_err());
}

#[test]
fn seconds_round_to_the_microsecond() {
    let s: Segment = serde_json::from_str(
        r#"{"first":0,"last":1,"beats":2,"period_s":250.33998880050532,"jitter":0,"explained":1,"p_value":1}"#,
    )
    .unwrap();
    assert_eq!(s.period, Interval::from_micros(250_339_989));
    assert_eq!(serde_json::to_value(s).unwrap()["period_s"].as_f64(), Some(250.339989));
}
