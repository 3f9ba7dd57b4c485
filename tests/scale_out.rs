//! Scale-out paths, in one test binary (the heavy features link once): Arrow and Parquet in
//! and out (feature `arrow`), the feature matrix (feature `ndarray`).

mod common;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, UInt64Type};
use arrow_array::{
    ArrayRef, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt16Array, UInt64Array,
};
use beaconstat::arrow::{ArrowColumns, BatchEvents, IntTimeUnit, report_batch, series_from_batches, write_parquet};
use beaconstat::read::{ParquetReader, ParquetReaderBuilder};
use beaconstat::{Analyzer, ErrorKind, GroupBy, Grouper, ReadStats, SeriesKey, SeriesSet, SkipReason, score_set};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("beaconstat-scale-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn dictionary(values: &[&str]) -> ArrayRef {
    let mut b = StringDictionaryBuilder::<Int32Type>::new();
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

/// An event as (µs, src, dst, dst_port, bytes_out).
type Row = (i64, String, String, Option<u16>, Option<u64>);

/// Every event of a Parquet reader.
fn read_all(r: &mut ParquetReader) -> Vec<Row> {
    let mut out = Vec::new();
    r.for_each(|e| {
        out.push((
            e.ts.as_micros(),
            e.src.to_owned(),
            e.dst.to_owned(),
            e.dst_port,
            e.bytes_out,
        ))
    })
    .unwrap();
    out
}

#[test]
fn every_timestamp_layout_reads_to_the_same_microseconds() {
    let dir = scratch("ts");
    let secs = [1_700_000_000_i64, 1_700_000_060, 1_700_000_125];
    let micros: Vec<i64> = secs.iter().map(|s| s * 1_000_000).collect();
    let src: ArrayRef = Arc::new(StringArray::from(vec!["10.0.0.1"; 3]));
    let dst: ArrayRef = Arc::new(StringArray::from(vec!["203.0.113.9"; 3]));
    let layouts: Vec<(&str, ArrayRef)> = vec![
        ("second", Arc::new(TimestampSecondArray::from(secs.to_vec()))),
        (
            "milli",
            Arc::new(TimestampMillisecondArray::from(
                secs.iter().map(|s| s * 1000).collect::<Vec<_>>(),
            )),
        ),
        (
            "micro",
            Arc::new(arrow_array::TimestampMicrosecondArray::from(micros.clone()).with_timezone("UTC")),
        ),
        (
            "nano",
            Arc::new(TimestampNanosecondArray::from(
                secs.iter().map(|s| s * 1_000_000_000).collect::<Vec<_>>(),
            )),
        ),
        (
            "float_secs",
            Arc::new(Float64Array::from(secs.iter().map(|&s| s as f64).collect::<Vec<_>>())),
        ),
        ("int_secs", Arc::new(Int64Array::from(secs.to_vec()))),
        (
            "int_millis",
            Arc::new(Int64Array::from(secs.iter().map(|s| s * 1000).collect::<Vec<_>>())),
        ),
    ];
    for (name, ts) in layouts {
        let path = dir.join(format!("{name}.parquet"));
        write_parquet(
            &path,
            &[batch(vec![("ts", ts), ("src", src.clone()), ("dst", dst.clone())])],
        )
        .unwrap();
        let got: Vec<i64> = read_all(&mut ParquetReader::open(&path).unwrap())
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(got, micros, "{name}");
    }
    // An explicit unit overrides the magnitude rule for Int64.
    let path = dir.join("int_secs.parquet");
    let mut cols = ArrowColumns::new();
    cols.ts_unit(IntTimeUnit::Millis);
    let got = read_all(&mut ParquetReaderBuilder::new().columns(cols).open(&path).unwrap());
    assert_eq!(got[0].0, 1_700_000_000_000);
}

#[test]
fn every_string_layout_reads_to_the_same_keys() {
    let dir = scratch("keys");
    let srcs = ["10.0.0.1", "10.0.0.2", "10.0.0.1"];
    let dsts = ["203.0.113.9", "198.51.100.7", "203.0.113.9"];
    let ts: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.5]));
    let layouts: Vec<(&str, ArrayRef, ArrayRef)> = vec![
        (
            "utf8",
            Arc::new(StringArray::from(srcs.to_vec())),
            Arc::new(StringArray::from(dsts.to_vec())),
        ),
        (
            "large",
            Arc::new(LargeStringArray::from(srcs.to_vec())),
            Arc::new(LargeStringArray::from(dsts.to_vec())),
        ),
        (
            "view",
            Arc::new(StringViewArray::from(srcs.to_vec())),
            Arc::new(StringViewArray::from(dsts.to_vec())),
        ),
        ("dict", dictionary(&srcs), dictionary(&dsts)),
    ];
    for (name, src, dst) in layouts {
        let path = dir.join(format!("{name}.parquet"));
        let b = batch(vec![
            ("ts", ts.clone()),
            ("id.orig_h", src),
            ("id.resp_h", dst),
            ("id.resp_p", Arc::new(UInt16Array::from(vec![443, 53, 443]))),
            (
                "orig_bytes",
                Arc::new(UInt64Array::from(vec![Some(512), None, Some(514)])),
            ),
        ]);
        write_parquet(&path, &[b]).unwrap();
        let got = read_all(&mut ParquetReader::open(&path).unwrap());
        assert_eq!(
            got,
            vec![
                (1_000_000, srcs[0].into(), dsts[0].into(), Some(443), Some(512)),
                (2_000_000, srcs[1].into(), dsts[1].into(), Some(53), None),
                (3_500_000, srcs[2].into(), dsts[2].into(), Some(443), Some(514)),
            ],
            "{name}"
        );
        // Grouped by pair (the dictionary layout through the grouper's id path).
        let mut r = ParquetReader::open(&path).unwrap();
        let mut g = Grouper::new(GroupBy::Pair);
        r.group_into(&mut g).unwrap();
        let set = g.finish();
        assert_eq!(set.len(), 2, "{name}");
        let first = set.get(0).unwrap();
        assert_eq!(first.key(), SeriesKey::pair("10.0.0.1", "203.0.113.9"));
        assert_eq!(first.timestamps(), &[1_000_000, 3_500_000]);
        assert_eq!(first.sizes(), Some(&[512, 514][..]));
        assert_eq!(r.stats().events, 3);
    }
}

#[test]
fn nulls_and_bad_values_are_skipped_with_row_and_column() {
    let b = batch(vec![
        (
            "ts",
            Arc::new(Float64Array::from(vec![
                Some(1.0),
                None,
                Some(3.0),
                Some(4.0),
                Some(5.0),
                Some(6.0),
            ])) as ArrayRef,
        ),
        (
            "src_ip",
            Arc::new(StringArray::from(vec![
                Some("a"),
                Some("a"),
                None,
                Some(""),
                Some("a"),
                Some("a"),
            ])),
        ),
        ("dst_ip", Arc::new(StringArray::from(vec![Some("b"); 6]))),
        (
            "dport",
            Arc::new(Int64Array::from(vec![
                Some(80),
                Some(80),
                Some(80),
                Some(80),
                Some(70_000),
                None,
            ])),
        ),
        (
            "bytes_out",
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(-5),
            ])),
        ),
    ]);
    let dir = scratch("nulls");
    let path = dir.join("conn.parquet");
    // Two batches per file: row numbers continue across batches.
    write_parquet(&path, &[b.clone(), b]).unwrap();
    let mut r = ParquetReaderBuilder::new().batch_size(4).open(&path).unwrap();
    let got = read_all(&mut r);
    assert_eq!(got.len(), 2); // rows 1 of each copy
    let st: &ReadStats = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (12, 2, 10));
    assert_eq!(st.by_reason[&SkipReason::MissingField], 6);
    assert_eq!(st.by_reason[&SkipReason::BadPort], 2);
    assert_eq!(st.by_reason[&SkipReason::BadNumber], 2);
    let rows: Vec<(u64, &str, SkipReason)> = st
        .skipped_samples
        .iter()
        .map(|s| (s.position.line, s.field.as_deref().unwrap(), s.reason))
        .collect();
    assert_eq!(
        rows[..5],
        [
            (2, "ts", SkipReason::MissingField),
            (3, "src_ip", SkipReason::MissingField),
            (4, "src_ip", SkipReason::MissingField),
            (5, "dport", SkipReason::BadPort),
            (6, "bytes_out", SkipReason::BadNumber),
        ]
    );
    assert_eq!(rows[5].0, 8, "the second copy's rows are numbered on");
    assert_eq!(st.skipped_samples[3].value.as_deref(), Some("70000"));
    assert!(
        st.skipped_samples[3]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("conn.parquet")
    );

    // Strict: the first bad row is an error naming its row and column.
    let err = ParquetReaderBuilder::new()
        .strict(true)
        .open(&path)
        .unwrap()
        .for_each(|_| {})
        .unwrap_err();
    match err.kind() {
        ErrorKind::Parse { position, field, .. } => assert_eq!((position.line, field.as_deref()), (2, Some("ts"))),
        k => panic!("{k:?}"),
    }
}

#[test]
fn next_event_and_for_each_agree_when_mixed() {
    let n = 10;
    let b = batch(vec![
        (
            "ts",
            Arc::new(Int64Array::from((0..n).map(|i| 1_700_000_000 + i).collect::<Vec<_>>())) as ArrayRef,
        ),
        ("src", Arc::new(StringArray::from(vec!["a"; n as usize]))),
        (
            "dst",
            Arc::new(StringArray::from((0..n).map(|i| format!("d{i}")).collect::<Vec<_>>())),
        ),
    ]);
    let dir = scratch("mixed");
    let path = dir.join("x.parquet");
    write_parquet(&path, &[b]).unwrap();
    let mut r = ParquetReaderBuilder::new().batch_size(4).open(&path).unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(r.next_event().unwrap().unwrap().dst.to_owned());
    }
    r.for_each(|e| seen.push(e.dst.to_owned())).unwrap();
    assert_eq!(seen, (0..n).map(|i| format!("d{i}")).collect::<Vec<_>>());
    assert!(r.next_event().unwrap().is_none());
    assert_eq!(r.stats().events, n as u64);
}

#[test]
fn a_directory_is_read_recursively_in_path_order() {
    let dir = scratch("dir");
    for (day, base) in [("date=2024-01-02", 200.0), ("date=2024-01-01", 100.0)] {
        std::fs::create_dir_all(dir.join(day)).unwrap();
        let b = batch(vec![
            (
                "timestamp",
                Arc::new(Float64Array::from(vec![base, base + 1.0])) as ArrayRef,
            ),
            ("source", Arc::new(StringArray::from(vec!["a", "a"]))),
            ("destination", Arc::new(StringArray::from(vec!["b", "b"]))),
        ]);
        write_parquet(dir.join(day).join("part-0.parquet"), &[b]).unwrap();
    }
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    let mut r = ParquetReader::open(&dir).unwrap();
    assert_eq!(r.files().len(), 2);
    let ts: Vec<i64> = read_all(&mut r).into_iter().map(|e| e.0).collect();
    assert_eq!(ts, [100_000_000, 101_000_000, 200_000_000, 201_000_000]);
    let empty = scratch("empty");
    assert!(matches!(
        ParquetReader::open(&empty).unwrap_err().kind(),
        ErrorKind::Format { .. }
    ));
}

#[test]
fn column_mapping_by_name_and_errors_that_name_the_column() {
    let b = batch(vec![
        ("event_time", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
        ("client", Arc::new(StringArray::from(vec!["c"]))),
        ("server", Arc::new(StringArray::from(vec!["s"]))),
        ("weird", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let err = BatchEvents::new(&b, &ArrowColumns::new()).unwrap_err();
    assert!(err.to_string().contains("no ts column"), "{err}");
    let mut cols = ArrowColumns::new();
    cols.ts("event_time").src("client").dst("server");
    let ev = BatchEvents::new(&b, &cols).unwrap().event(0).unwrap();
    assert_eq!((ev.src, ev.dst), ("c", "s"));
    cols.dst("weird");
    let err = BatchEvents::new(&b, &cols).unwrap_err();
    assert!(err.to_string().contains("\"weird\" is Float64"), "{err}");
    cols.dst("absent");
    assert!(
        BatchEvents::new(&b, &cols)
            .unwrap_err()
            .to_string()
            .contains("\"absent\"")
    );
}

/// (key, timestamps, sizes) of every series, in key order, for comparing sets.
fn contents(set: &SeriesSet) -> Vec<(String, Vec<i64>, Option<Vec<u64>>)> {
    let mut v: Vec<_> = set
        .iter()
        .map(|s| {
            (
                s.key().to_string(),
                s.timestamps().to_vec(),
                s.sizes().map(<[u64]>::to_vec),
            )
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The dictionary id path groups exactly as the per-row hashing path does, nulls included.
    #[test]
    fn dictionary_path_equals_plain_path(
        rows in proptest::collection::vec((0i64..10_000, 0usize..5, proptest::option::weighted(0.9, 0usize..4), 0u64..2000), 0..300)
    ) {
        let names = ["10.0.0.1", "10.0.0.2", "a-rather-long-host-name.example", "", "10.0.0.9"];
        let ts: ArrayRef = Arc::new(Int64Array::from(rows.iter().map(|r| 1_700_000_000 + r.0).collect::<Vec<_>>()));
        let src: Vec<&str> = rows.iter().map(|r| names[r.1]).collect();
        let dst: Vec<Option<&str>> = rows.iter().map(|r| r.2.map(|d| names[d])).collect();
        let bytes: ArrayRef = Arc::new(UInt64Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>()));
        let plain = batch(vec![
            ("ts", ts.clone()),
            ("src", Arc::new(StringArray::from(src.clone()))),
            ("dst", Arc::new(StringArray::from(dst.clone()))),
            ("bytes_out", bytes.clone()),
        ]);
        let mut db = StringDictionaryBuilder::<Int32Type>::new();
        for d in &dst {
            match d { Some(v) => db.append_value(v), None => db.append_null() }
        }
        let dict = batch(vec![("ts", ts), ("src", dictionary(&src)), ("dst", Arc::new(db.finish())), ("bytes_out", bytes)]);
        let (a, sa) = series_from_batches([&plain], &ArrowColumns::new(), GroupBy::Pair).unwrap();
        let (b, sb) = series_from_batches([&dict], &ArrowColumns::new(), GroupBy::Pair).unwrap();
        prop_assert_eq!(contents(&a), contents(&b));
        prop_assert_eq!(sa, sb);
    }
}

/// Every batch of the Parquet file at `path`, as written.
fn read_batches(path: &std::path::Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Reports of a generated network out as a batch, through Parquet and back, value for value.
#[test]
fn reports_out_as_a_batch_and_parquet_round_trip() {
    let (set, _) = generated_network();
    let reports = score_set(&set, Analyzer::default().config(), 6);
    assert!(reports.len() > 10);
    let rows: Vec<(SeriesKey<'_>, &beaconstat::BeaconReport)> =
        reports.iter().map(|(i, r)| (set.get(*i).unwrap().key(), r)).collect();
    let b = report_batch(rows.iter().copied()).unwrap();
    assert_eq!(b.num_rows(), reports.len());
    let dir = scratch("reports");
    let path = dir.join("reports.parquet");
    write_parquet(&path, std::slice::from_ref(&b)).unwrap();
    let back = read_batches(&path);
    assert_eq!(back.len(), 1);
    let back = &back[0];
    assert_eq!(back.schema().fields(), b.schema().fields());
    let score = back.column_by_name("score").unwrap().as_primitive::<Float64Type>();
    let events = back.column_by_name("events").unwrap().as_primitive::<UInt64Type>();
    let src = back.column_by_name("src").unwrap().as_string::<i32>();
    let explanation = back.column_by_name("explanation").unwrap().as_string::<i32>();
    for (row, (key, r)) in rows.iter().enumerate() {
        assert_eq!(score.value(row), r.score);
        assert_eq!(events.value(row), r.events as u64);
        assert_eq!(Some(src.value(row)), key.src);
        assert_eq!(explanation.value(row), r.explain().to_string());
    }
}

/// A generated network (20 hosts, a day), grouped by the library from its Zeek log, and as a
/// record batch with dictionary-encoded keys.
fn generated_network() -> (SeriesSet, RecordBatch) {
    let log = beaconstat::synth::Scenario::builder()
        .hosts(20)
        .days(1.0)
        .seed(3)
        .build()
        .to_zeek_tsv();
    let mut ts = Vec::new();
    let (mut src, mut dst, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    let mut g = Grouper::new(GroupBy::Pair);
    let mut r = beaconstat::read::ZeekReader::from_reader(log.as_bytes()).unwrap();
    r.for_each(|e| {
        g.push(&e);
        ts.push(e.ts.as_micros());
        src.push(e.src.to_owned());
        dst.push(e.dst.to_owned());
        bytes.push(e.bytes_out);
    })
    .unwrap();
    let s: Vec<&str> = src.iter().map(String::as_str).collect();
    let d: Vec<&str> = dst.iter().map(String::as_str).collect();
    let b = batch(vec![
        (
            "ts",
            Arc::new(arrow_array::TimestampMicrosecondArray::from(ts)) as ArrayRef,
        ),
        ("src", dictionary(&s)),
        ("dst", dictionary(&d)),
        ("bytes_out", Arc::new(UInt64Array::from(bytes))),
    ]);
    (g.finish(), b)
}

#[test]
fn arrow_series_score_as_the_library_does() {
    let (library, b) = generated_network();
    let (arrow, stats) = series_from_batches([&b], &ArrowColumns::new(), GroupBy::Pair).unwrap();
    assert_eq!(stats.skipped, 0);
    assert_eq!(contents(&arrow), contents(&library));
}

/// `hunt --json` rows of `args`, parsed.
fn hunt_json(exe: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(exe)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hunt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hunt_reads_parquet_as_it_reads_zeek_and_writes_the_json_fields_as_parquet() {
    let Some(exe) = common::example("hunt") else { return };
    let scenario = beaconstat::synth::Scenario::builder()
        .hosts(20)
        .days(1.0)
        .seed(5)
        .build();
    let dir = scratch("hunt");
    let tsv = dir.join("conn.log");
    std::fs::write(&tsv, scenario.to_zeek_tsv()).unwrap();
    let pq_dir = dir.join("dataset");
    std::fs::create_dir_all(pq_dir.join("day=1")).unwrap();
    write_parquet(
        pq_dir.join("day=1").join("part-0.parquet"),
        &[scenario.to_record_batch().unwrap()],
    )
    .unwrap();
    let from_zeek = hunt_json(&exe, &[tsv.to_str().unwrap(), "--group-by", "pair", "--no-allowlist"]);
    assert!(from_zeek.len() > 20);
    let out = dir.join("beacons.parquet");
    let from_parquet = hunt_json(
        &exe,
        &[
            pq_dir.to_str().unwrap(),
            "--group-by",
            "pair",
            "--no-allowlist",
            "--parquet",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(from_parquet, from_zeek);
    // The Parquet output: one row per JSON row, one column per (flattened) JSON field.
    let batches = read_batches(&out);
    let b = &batches[0];
    assert_eq!(b.num_rows(), from_zeek.len());
    let mut fields: Vec<String> = Vec::new();
    for (k, v) in from_zeek[0].as_object().unwrap() {
        match v.as_object() {
            Some(inner) => fields.extend(inner.keys().map(|i| format!("{k}.{i}"))),
            None => fields.push(k.clone()),
        }
    }
    fields.sort();
    let mut columns: Vec<String> = b.schema().fields().iter().map(|f| f.name().clone()).collect();
    columns.sort();
    assert_eq!(columns, fields);
    let score = b.column_by_name("score").unwrap().as_primitive::<Float64Type>();
    // (JSON text is parsed back to the nearest few ulps, not bit for bit.)
    for (i, row) in from_zeek.iter().enumerate() {
        assert!((score.value(i) - row["score"].as_f64().unwrap()).abs() < 1e-12);
    }
}

#[cfg(feature = "ndarray")]
#[test]
fn feature_matrix_columns_match_the_reports() {
    use beaconstat::features::{FEATURES, feature_matrix};
    let (set, _) = generated_network();
    let reports: Vec<_> = score_set(&set, Analyzer::default().config(), 6)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let m = feature_matrix(&reports);
    assert_eq!(m.dim(), (reports.len(), FEATURES.len()));
    let col = |name: &str| FEATURES.iter().position(|f| f.name == name).unwrap();
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(m[[i, col("score")]], r.score);
        assert_eq!(m[[i, col("events")]], r.events as f64);
        match r.period {
            Some(p) => assert_eq!(m[[i, col("period_s")]], p.as_secs_f64()),
            None => assert!(m[[i, col("period_s")]].is_nan()),
        }
    }
}

/// The DataFusion aggregate: partitioned, merged, bounded; always the library's reports.
#[cfg(feature = "datafusion")]
mod sql {
    use super::*;
    use arrow_array::{Array, StructArray};
    use beaconstat::sql::{BeaconAggregate, register};
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
    use std::collections::HashMap;

    pub(crate) const QUERY: &str = "SELECT \"id.orig_h\" AS src, \"id.resp_h\" AS dst, beacon(ts, orig_bytes) AS b \
         FROM conn GROUP BY \"id.orig_h\", \"id.resp_h\" ORDER BY b.score DESC";

    /// A generated network written as `parts` Parquet files, rows dealt round-robin so every
    /// (src, dst) group is spread over all files; and its series as the library groups them.
    pub(crate) fn network_files(name: &str, parts: usize) -> (PathBuf, SeriesSet) {
        let scenario = beaconstat::synth::Scenario::builder()
            .hosts(20)
            .days(1.0)
            .seed(11)
            .build();
        let batch = scenario.to_record_batch().unwrap();
        let dir = scratch(name);
        for k in 0..parts {
            let rows: Vec<u64> = (k..batch.num_rows()).step_by(parts).map(|r| r as u64).collect();
            let part = arrow_select_rows(&batch, &rows);
            write_parquet(dir.join(format!("part-{k}.parquet")), &[part]).unwrap();
        }
        let (set, stats) = series_from_batches([&batch], &ArrowColumns::new(), GroupBy::Pair).unwrap();
        assert_eq!(stats.skipped, 0);
        (dir, set)
    }

    /// `rows` of `batch`, through DataFusion's own `take` kernel.
    fn arrow_select_rows(batch: &RecordBatch, rows: &[u64]) -> RecordBatch {
        let idx = UInt64Array::from(rows.to_vec());
        let columns = batch
            .columns()
            .iter()
            .map(|c| datafusion::arrow::compute::take(c, &idx, None).unwrap())
            .collect();
        RecordBatch::try_new(batch.schema(), columns).unwrap()
    }

    /// Runs `sql` on `ctx` (with `conn` registered) into (src, dst) → report struct row.
    pub(crate) fn run(ctx: &SessionContext, sql: &str) -> Vec<((String, String), StructArray)> {
        run_on(&tokio::runtime::Runtime::new().unwrap(), ctx, sql)
    }

    /// [`run`] on the runtime `rt`.
    pub(crate) fn run_on(
        rt: &tokio::runtime::Runtime,
        ctx: &SessionContext,
        sql: &str,
    ) -> Vec<((String, String), StructArray)> {
        let batches = rt.block_on(async { ctx.sql(sql).await?.collect().await }).unwrap();
        let mut out = Vec::new();
        for b in &batches {
            let src = b
                .column(0)
                .as_string_view_opt()
                .map(|a| (0..a.len()).map(|i| a.value(i).to_owned()).collect::<Vec<_>>());
            let src = src.unwrap_or_else(|| strings(b.column(0)));
            let dst = strings(b.column(1));
            let reports = b.column(2).as_struct();
            for i in 0..b.num_rows() {
                out.push(((src[i].clone(), dst[i].clone()), reports.slice(i, 1)));
            }
        }
        out
    }

    fn strings(a: &ArrayRef) -> Vec<String> {
        let a = datafusion::arrow::compute::cast(a, &datafusion::arrow::datatypes::DataType::Utf8).unwrap();
        let a = a.as_string::<i32>();
        (0..a.len()).map(|i| a.value(i).to_owned()).collect()
    }

    /// The library's report of every series, as the aggregate's struct rows.
    pub(crate) fn library(set: &SeriesSet, keep_last: Option<usize>) -> HashMap<(String, String), StructArray> {
        let mut a = Analyzer::default();
        set.iter()
            .map(|s| {
                let from = keep_last.map_or(0, |n| s.len().saturating_sub(n));
                let r = a.score(&s.timestamps()[from..], s.sizes().map(|z| &z[from..]));
                let b = report_batch([(SeriesKey::empty(), &r)]).unwrap();
                let fields = b.schema().fields()[6..].to_vec();
                let row = StructArray::try_new(fields.into(), b.columns()[6..].to_vec(), None).unwrap();
                ((s.key().src.unwrap().to_owned(), s.key().dst.unwrap().to_owned()), row)
            })
            .collect()
    }

    /// `EXPLAIN sql` as text: the logical, physical (and, on Ballista, distributed) plans.
    pub(crate) fn explain(rt: &tokio::runtime::Runtime, ctx: &SessionContext, sql: &str) -> String {
        let plan = rt
            .block_on(async { ctx.sql(&format!("EXPLAIN {sql}")).await?.collect().await })
            .unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&plan)
            .unwrap()
            .to_string()
    }

    pub(crate) fn context(partitions: usize, dir: &std::path::Path, udaf: BeaconAggregate) -> SessionContext {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
        ctx.register_udaf(udaf.into_udf());
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(ctx.register_parquet("conn", dir.to_str().unwrap(), ParquetReadOptions::default()))
            .unwrap();
        ctx
    }

    pub(crate) fn assert_same(got: &[((String, String), StructArray)], want: &HashMap<(String, String), StructArray>) {
        assert_eq!(got.len(), want.len());
        for (key, row) in got {
            let expected = &want[key];
            for (f, (a, b)) in row.fields().iter().zip(row.columns().iter().zip(expected.columns())) {
                assert_eq!(a.as_ref(), b.as_ref(), "{key:?}: field {}", f.name());
            }
        }
    }

    #[test]
    fn partitioned_equals_single_partition_equals_library() {
        let (dir, set) = network_files("sql", 4);
        let want = library(&set, None);
        let single = run(&context(1, &dir, BeaconAggregate::new()), QUERY);
        assert_same(&single, &want);
        let ctx = context(4, &dir, BeaconAggregate::new());
        // The plan really splits: partial aggregation per file, a hash shuffle on the group
        // key, then the final merge.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let text = explain(&rt, &ctx, QUERY);
        assert!(text.contains("mode=Partial"), "{text}");
        assert!(text.contains("mode=FinalPartitioned"), "{text}");
        assert!(text.contains("file_groups={4 groups"), "{text}");
        let multi = run(&ctx, QUERY);
        assert_same(&multi, &want);
        // Ranked by score, and the scenario's beacons are on top.
        let scores: Vec<f64> = multi
            .iter()
            .map(|(_, r)| {
                r.column_by_name("score")
                    .unwrap()
                    .as_primitive::<Float64Type>()
                    .value(0)
            })
            .collect();
        assert!(scores.is_sorted_by(|a, b| a >= b));
        assert!(scores[0] > 0.8);
        // And through `register`, with struct fields in SQL.
        let plain = SessionContext::new();
        register(&plain);
        rt.block_on(plain.register_parquet("conn", dir.to_str().unwrap(), ParquetReadOptions::default()))
            .unwrap();
        let top = rt
            .block_on(async {
                plain
                    .sql("SELECT b.period_s AS p, b.events AS n FROM (SELECT beacon(ts, orig_bytes) AS b FROM conn GROUP BY \"id.orig_h\", \"id.resp_h\") ORDER BY b.score DESC LIMIT 1")
                    .await?
                    .collect()
                    .await
            })
            .unwrap();
        assert_eq!(top[0].num_rows(), 1);
    }

    #[test]
    fn skipped_partial_aggregation_and_ungrouped_queries_equal_the_library() {
        let (dir, set) = network_files("sql-skip", 3);
        let want = library(&set, None);
        // Partial aggregation switched off after the first batch (of 64 rows): every later row
        // reaches the final stage as a state of its own (the groups accumulator's
        // `convert_to_state`).
        let ctx = context(3, &dir, BeaconAggregate::new());
        let rt = tokio::runtime::Runtime::new().unwrap();
        for option in [
            "SET datafusion.execution.batch_size = 64",
            "SET datafusion.execution.skip_partial_aggregation_probe_rows_threshold = 1",
            "SET datafusion.execution.skip_partial_aggregation_probe_ratio_threshold = 0.0",
        ] {
            rt.block_on(async { ctx.sql(option).await?.collect().await }).unwrap();
        }
        assert_same(&run(&ctx, QUERY), &want);
        // No GROUP BY: one group, the row accumulator, the same report as the library's.
        let (key, expected) = want
            .iter()
            .max_by_key(|(_, r)| {
                r.column_by_name("events")
                    .map(|c| c.as_primitive::<UInt64Type>().value(0))
            })
            .unwrap();
        let sql = format!(
            "SELECT beacon(ts, orig_bytes) AS b FROM conn WHERE \"id.orig_h\" = '{}' AND \"id.resp_h\" = '{}'",
            key.0, key.1
        );
        let out = rt.block_on(async { ctx.sql(&sql).await?.collect().await }).unwrap();
        let b = out[0].column(0).as_struct();
        for (f, (a, e)) in b.fields().iter().zip(b.columns().iter().zip(expected.columns())) {
            assert_eq!(a.as_ref(), e.as_ref(), "ungrouped: field {}", f.name());
        }
    }

    #[test]
    fn bounded_state_reports_the_latest_events_on_any_partitioning() {
        let (dir, set) = network_files("sql-bounded", 3);
        let want = library(&set, Some(50));
        for partitions in [1, 3] {
            let got = run(&context(partitions, &dir, BeaconAggregate::new().max_events(50)), QUERY);
            assert_same(&got, &want);
        }
    }
}

/// The same query on an in-process Ballista cluster (scheduler and executor in this process,
/// gRPC over loopback, a real shuffle between the partial and the final aggregation).
#[cfg(feature = "ballista")]
mod on_ballista {
    use super::sql::{QUERY, assert_same, explain, library, network_files, run_on};
    use beaconstat::sql::BeaconAggregate;
    use beaconstat::sql::ballista::standalone_context;
    use datafusion::prelude::{ParquetReadOptions, SessionConfig};

    #[test]
    fn standalone_cluster_equals_the_library() {
        let (dir, set) = network_files("ballista", 2);
        let want = library(&set, None);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = SessionConfig::new().with_target_partitions(2);
        let ctx = rt
            .block_on(standalone_context(config, &BeaconAggregate::new()))
            .unwrap();
        rt.block_on(ctx.register_parquet("conn", dir.to_str().unwrap(), ParquetReadOptions::default()))
            .unwrap();
        // Planned for the cluster, not run locally.
        let text = explain(&rt, &ctx, QUERY);
        assert!(
            text.contains("distributed_plan") && text.contains("ShuffleWriterExec"),
            "{text}"
        );
        let got = run_on(&rt, &ctx, QUERY);
        assert_same(&got, &want);
    }
}

/// What the bounded state (`BeaconAggregate::max_events`, the latest N events per group)
/// costs in quality, on the bundled network (200 hosts, 3 days): the bounded aggregate's
/// report is the library's report of each series' latest N events (tested above, on every
/// partitioning), so it is measured here with the library. Prints the table BENCHMARKS.md
/// quotes (`cargo test --profile ci --features arrow --test scale_out -- --nocapture bounded`).
#[test]
fn bounded_state_quality_on_the_bundled_network() {
    use beaconstat::synth::{Scenario, TruthKind};
    let scenario = Scenario::builder().build();
    let batch = scenario.to_record_batch().unwrap();
    let (set, _) = series_from_batches([&batch], &ArrowColumns::new(), GroupBy::PairPort).unwrap();
    let beacon = |k: &SeriesKey<'_>| {
        scenario.truth().iter().find(|t| {
            matches!(t.kind, TruthKind::Beacon(_))
                && Some(t.src.as_str()) == k.src
                && Some(t.dst.as_str()) == k.dst
                && Some(t.dst_port) == k.dst_port
        })
    };
    let mut analyzer = Analyzer::default();
    let mut rows = Vec::new();
    for cap in [16, 32, 64, 256, 1024, usize::MAX] {
        let (mut found, mut beacons, mut false_pos, mut others) = (0, 0, 0, 0);
        let mut period_err: Vec<f64> = Vec::new();
        let mut score_drop: Vec<f64> = Vec::new();
        for s in set.iter().filter(|s| s.len() >= 6) {
            let from = s.len().saturating_sub(cap);
            let r = analyzer.score(&s.timestamps()[from..], s.sizes().map(|z| &z[from..]));
            let full = analyzer.score_series(&s);
            score_drop.push(full.score - r.score);
            match beacon(&s.key()) {
                Some(t) => {
                    beacons += 1;
                    if r.score >= 0.5 {
                        found += 1;
                        if let Some(p) = r.period.map(|p| p.as_secs_f64()) {
                            period_err.push((p - t.period_s).abs() / t.period_s);
                        }
                    }
                }
                None => {
                    others += 1;
                    false_pos += usize::from(r.score >= 0.5 && full.score < 0.5);
                }
            }
        }
        period_err.sort_by(f64::total_cmp);
        score_drop.sort_by(f64::total_cmp);
        let median = |v: &[f64]| if v.is_empty() { f64::NAN } else { v[v.len() / 2] };
        let label = if cap == usize::MAX {
            "all".to_string()
        } else {
            cap.to_string()
        };
        println!(
            "max_events {label:>5}: beacons found {found}/{beacons}, median period error {:.2}%, \
             new false positives {false_pos}/{others}, median score change {:+.3}, worst {:+.3}",
            100.0 * median(&period_err),
            -median(&score_drop),
            -score_drop.last().copied().unwrap_or(0.0),
        );
        rows.push((cap, found, beacons));
    }
    // Unbounded finds them all, and 256 events (a few hours of a 60 s beacon) keep every one.
    let all = rows.last().unwrap();
    assert_eq!(all.1, all.2);
    let at_256 = rows.iter().find(|r| r.0 == 256).unwrap();
    assert_eq!(at_256.1, all.1, "a 256-event window loses beacons");
}

/// Scheduler and executor as separate processes (the `beacon_scheduler` and `beacon_executor`
/// examples, each registering the aggregate itself), talking gRPC over loopback; the client
/// connects with `remote_context`. The deployment of a real cluster, on one machine.
#[cfg(feature = "ballista")]
mod ballista_processes {
    use super::common;
    use super::sql::{QUERY, assert_same, library, network_files, run_on};
    use beaconstat::sql::BeaconAggregate;
    use beaconstat::sql::ballista::remote_context;
    use datafusion::prelude::ParquetReadOptions;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// Kills the child processes this test started when it ends, passed or not.
    struct Children(Vec<Child>);

    impl Drop for Children {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn separate_scheduler_and_executor_processes_equal_the_library() {
        let (Some(scheduler), Some(executor)) =
            (common::example("beacon_scheduler"), common::example("beacon_executor"))
        else {
            return;
        };
        let (dir, set) = network_files("ballista-processes", 2);
        let want = library(&set, None);
        let (sp, ep, gp) = (free_port(), free_port(), free_port());
        let spawn = |exe: &std::path::Path, args: &[String]| {
            Command::new(exe)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut children = Children(Vec::new());
        children.0.push(spawn(&scheduler, &["--port".into(), sp.to_string()]));
        children.0.push(spawn(
            &executor,
            &[
                "--scheduler-host".into(),
                "127.0.0.1".into(),
                "--scheduler-port".into(),
                sp.to_string(),
                "--port".into(),
                ep.to_string(),
                "--grpc-port".into(),
                gp.to_string(),
            ],
        ));
        let rt = tokio::runtime::Runtime::new().unwrap();
        // The scheduler takes a moment to listen and the executor to register: retry, bounded.
        let started = Instant::now();
        // Each attempt is bounded too: a query on a cluster without a live executor waits
        // forever, and a process that died is a failure, not a reason to wait.
        let got = loop {
            for c in &mut children.0 {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("a cluster process exited early ({status})");
                }
            }
            let attempt = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(20), async {
                    let ctx = remote_context(&format!("df://127.0.0.1:{sp}"), &BeaconAggregate::new()).await?;
                    ctx.register_parquet("conn", dir.to_str().unwrap(), ParquetReadOptions::default())
                        .await?;
                    ctx.sql("SELECT 1").await?.collect().await?;
                    Ok::<_, datafusion::error::DataFusionError>(ctx)
                })
                .await
                .unwrap_or_else(|_| {
                    Err(datafusion::error::DataFusionError::Execution(
                        "attempt timed out".into(),
                    ))
                })
            });
            match attempt {
                Ok(ctx) => break run_on(&rt, &ctx, QUERY),
                Err(e) if started.elapsed() < Duration::from_secs(90) => {
                    eprintln!("cluster not ready yet: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("cluster not ready after 90 s: {e}"),
            }
        };
        assert_same(&got, &want);
    }
}

/// Parquet through the one reader layer: `open` on a file, on a Hive-style directory mixed with
/// a Zeek log, `Inputs` naming the format, `next_event` and `for_each` mixed, null rows counted
/// with their file, and a Parquet stream refused with the reason.
#[test]
fn open_reads_parquet_files_and_directories_through_the_reader_layer() {
    let dir = scratch("open");
    for (day, base) in [("date=2024-01-02", 200.0), ("date=2024-01-01", 100.0)] {
        std::fs::create_dir_all(dir.join(day)).unwrap();
        let b = batch(vec![
            (
                "ts",
                Arc::new(Float64Array::from(vec![Some(base), None, Some(base + 1.0)])) as ArrayRef,
            ),
            ("id.orig_h", Arc::new(StringArray::from(vec!["10.0.0.1"; 3]))),
            ("id.resp_h", dictionary(&["203.0.113.7", "203.0.113.7", "203.0.113.8"])),
            ("id.resp_p", Arc::new(Int64Array::from(vec![443, 443, 80]))),
        ]);
        write_parquet(dir.join(day).join("part-0.parquet"), &[b]).unwrap();
    }
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    std::fs::write(
        dir.join("conn.log"),
        "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n300.0\t10.0.0.2\t198.51.100.1\t22\n",
    )
    .unwrap();

    let inputs = beaconstat::read::Inputs::scan(&[&dir]).unwrap();
    let formats: Vec<Option<beaconstat::Format>> = inputs.logs().iter().map(|l| l.format).collect();
    assert_eq!(
        formats,
        [
            Some(beaconstat::Format::ZeekTsv),
            Some(beaconstat::Format::Parquet),
            Some(beaconstat::Format::Parquet),
        ],
        "{:?}",
        inputs.logs()
    );
    assert!(
        inputs.passed_over()[0].path.ends_with("_SUCCESS"),
        "{:?}",
        inputs.passed_over()
    );

    let mut r = beaconstat::open(&dir).unwrap();
    let first = r
        .next_event()
        .unwrap()
        .map(|e| (e.ts.as_micros(), e.dst.to_owned(), e.dst_port));
    assert_eq!(first, Some((300_000_000, "198.51.100.1".to_owned(), Some(22))));
    let second = r
        .next_event()
        .unwrap()
        .map(|e| (e.ts.as_micros(), e.dst.to_owned(), e.dst_port));
    assert_eq!(second, Some((100_000_000, "203.0.113.7".to_owned(), Some(443))));
    let mut rest = Vec::new();
    r.for_each(|e| rest.push((e.ts.as_micros(), e.src.to_owned(), e.dst.to_owned(), e.dst_port)))
        .unwrap();
    assert_eq!(
        rest,
        [
            (101_000_000, "10.0.0.1".to_owned(), "203.0.113.8".to_owned(), Some(80)),
            (200_000_000, "10.0.0.1".to_owned(), "203.0.113.7".to_owned(), Some(443)),
            (201_000_000, "10.0.0.1".to_owned(), "203.0.113.8".to_owned(), Some(80)),
        ]
    );
    let total = r.stats();
    assert_eq!((total.events, total.skipped), (5, 2));
    let files = r.files();
    assert_eq!(files.len(), 3);
    assert_eq!(files[1].format, Some(beaconstat::Format::Parquet));
    assert_eq!((files[1].events, files[1].skipped), (2, 1));
    assert!(
        files[1]
            .path
            .as_ref()
            .unwrap()
            .ends_with("date=2024-01-01/part-0.parquet")
    );
    let null = &files[2].skipped_samples[0];
    assert_eq!(
        (null.position.line, null.field.as_deref(), null.reason),
        (2, Some("ts"), SkipReason::MissingField)
    );

    // One file through `open`: its format known before the first event.
    let one = dir.join("date=2024-01-01/part-0.parquet");
    let r = beaconstat::open(&one).unwrap();
    assert_eq!(r.format(), Some(beaconstat::Format::Parquet));
    // A Parquet stream needs a file to seek in.
    let bytes = std::fs::read(&one).unwrap();
    let err = beaconstat::ReadOptions::new()
        .from_reader(std::io::Cursor::new(bytes))
        .unwrap_err();
    assert!(err.to_string().contains("Parquet is read from a file path"), "{err}");
}
