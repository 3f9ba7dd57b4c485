//! Property tests: the JSON flattener agrees with serde_json on strings, and never panics.

use beaconstat::winevent::WinRecord;
use proptest::prelude::*;
use std::collections::BTreeMap;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any flat object of string values: every value comes back exactly as serde_json wrote it
    /// (escapes, control characters, non-BMP characters).
    #[test]
    fn strings_round_trip(map in prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,8}", any::<String>(), 0..12)) {
        let mut obj: BTreeMap<String, serde_json::Value> =
            map.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        obj.insert("EventID".into(), serde_json::json!(4698));
        let line = serde_json::to_string(&obj).unwrap();
        let mut rec = WinRecord::new();
        rec.parse_str(&line).unwrap();
        prop_assert_eq!(rec.event_id(), Some(4698));
        for (k, v) in &map {
            if k != "EventID" {
                prop_assert_eq!(rec.data(k), Some(v.as_str()));
            }
        }
    }

    /// Nested evtx-shaped objects: EventData values found by name.
    #[test]
    fn evtx_shape_round_trip(data in prop::collection::btree_map("[A-Z][a-z]{1,8}", any::<String>(), 1..8)) {
        let line = serde_json::json!({
            "Event": {
                "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "H"},
                "EventData": data,
            }
        })
        .to_string();
        let mut rec = WinRecord::new();
        rec.parse_str(&line).unwrap();
        prop_assert!(rec.is_sysmon());
        for (k, v) in &data {
            prop_assert_eq!(rec.data(k), Some(v.as_str()));
        }
    }

    /// Arbitrary text: an error or a record, never a panic.
    #[test]
    fn never_panics(s in any::<String>(), prefix in prop::sample::select(vec!["", "{", "{\"a\":", "{\"a\":\"\\u", "[", "{\"Event\":{\"System\":"])) {
        let mut rec = WinRecord::new();
        let _ = rec.parse_str(&format!("{prefix}{s}"));
    }
}
