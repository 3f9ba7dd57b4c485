//! Property tests: the readers never panic on arbitrary bytes, and every data line is
//! either an event or a counted skip.

use beaconstat::{
    ErrorKind, SkipReason,
    read::{CsvReader, ZeekJsonReader, ZeekReader, ZeekRecord},
};
use proptest::prelude::*;

mod common;
use common::lines::fixture_or_noise;

/// Whether a line is one of Zeek's header directives (a `#` line that is not one is data).
fn naive_directive(l: &[u8]) -> bool {
    [
        "#separator",
        "#set_separator",
        "#empty_field",
        "#unset_field",
        "#path",
        "#open",
        "#close",
        "#fields",
        "#types",
    ]
    .iter()
    .any(|k| {
        l.strip_prefix(k.as_bytes())
            .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b',')))
    })
}

/// Naive oracle: the data lines of a Zeek TSV input (not blank, not a header directive).
fn naive_tsv_records(input: &[u8]) -> u64 {
    let mut n = 0;
    let mut lines: Vec<&[u8]> = input.split(|&c| c == b'\n').collect();
    if input.ends_with(b"\n") {
        lines.pop();
    }
    for l in lines {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if !l.is_empty() && !naive_directive(l) {
            n += 1;
        }
    }
    n
}

fn naive_json_records(input: &[u8]) -> u64 {
    let mut lines: Vec<&[u8]> = input.split(|&c| c == b'\n').collect();
    if input.ends_with(b"\n") {
        lines.pop();
    }
    lines.iter().filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count() as u64
}

const TSV_LINES: &[&[u8]] = &[
    b"#separator \\x09",
    b"#separator \\x2c",
    b"#unset_field\t-",
    b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes",
    b"#fields\tid.resp_h\tts\tid.orig_h\ttunnel_parents   label   detailed-label",
    b"#close\t2020",
    b"#fields\tts\tid.orig_h\tid.resp_h\tconn_state\tlabel\textra",
    b"1.5\t10.0.0.1\t10.0.0.2\tSF\tBenign\t-",
    b"1.5\t10.0.0.1\t10.0.0.2\tSF\t\t\t\t",
    b"1.5\t10.0.0.1\t10.0.0.2\tS\xff\tBenign\t-",
    b"1.5\tC1\t10.0.0.1\t80\t10.0.0.2\t443\ttcp\t100",
    b"10.0.0.2\t1.5\t10.0.0.1\t-   benign   -",
    b"1.5\tC1\t10.0.0.1\t-\t10.0.0.2\t-\t-\t-",
    b"1704067200.412668\tC\xc3\xa9\t10.0.0.1\t80\t10.0.0.2\t443\ttcp\t0",
    b"1704067200.412668\tC1\t10.0.0.\xff\t80\t10.0.0.2\t443\ttcp\t0",
    b"1704067200.412668\tC1\t10.0.0.1\t80\t10.0.0.2\t443\ttcp\t1\t\xff",
    b"#1704067200.412668\tC1\t10.0.0.1\t80\t10.0.0.2\t443\ttcp\t1",
    b"1704067200.41266\tC1\t10.0.0.1\t80\t10.0.0.2\t443\tudp\t9999999999999999999",
];

fn tsv_line() -> impl Strategy<Value = Vec<u8>> {
    fixture_or_noise(TSV_LINES, "[0-9.\\t a-z-]{0,40}")
}

fn join(lines: Vec<Vec<u8>>, crlf: bool, trailing: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let n = lines.len();
    for (i, l) in lines.into_iter().enumerate() {
        out.extend_from_slice(&l);
        if i + 1 < n || trailing {
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
    }
    out
}

/// Whether the readers take `input` for gzip: the magic bytes, method 8 (deflate), no reserved
/// flag bit (RFC 1952's header, as the readers check it).
fn looks_gzip(input: &[u8]) -> bool {
    matches!(input, [0x1f, 0x8b, 8, flags, ..] if flags & 0xe0 == 0)
}

fn check_tsv(input: &[u8], strict: bool) -> Result<(), TestCaseError> {
    let mut r = ZeekReader::builder().strict(strict).from_reader(input).unwrap();
    let mut events = 0u64;
    let res = r.for_each(|_| events += 1);
    let st = r.stats();
    let gzip = looks_gzip(input);
    match res {
        Ok(()) => {
            if gzip {
                // A corrupt or truncated stream keeps what decoded and counts the rest once.
                prop_assert!(st.by_reason.get(&SkipReason::Truncated).copied().unwrap_or(0) <= 1);
            } else {
                prop_assert_eq!(st.records, naive_tsv_records(input));
            }
            prop_assert_eq!(st.records, st.events + st.skipped);
            prop_assert_eq!(st.events, events);
            prop_assert_eq!(st.by_reason.values().sum::<u64>(), st.skipped);
            prop_assert!(st.skipped_samples.len() as u64 == st.skipped.min(100));
            if strict {
                prop_assert_eq!(st.skipped, 0);
            }
        }
        Err(e) => {
            // Only a multi-byte #separator (non-strict) or a bad record (strict) may stop it.
            let ok = match e.kind() {
                ErrorKind::Parse { field: Some(f), .. } => f == "#separator" || strict,
                ErrorKind::Parse { .. } => strict,
                // A corrupt or truncated gzip stream is an I/O error in strict mode.
                ErrorKind::Io { .. } => gzip && strict,
                _ => false,
            };
            prop_assert!(ok, "unexpected error {e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tsv_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_tsv(&input, false)?;
        check_tsv(&input, true)?;
    }

    #[test]
    fn tsv_corrupt_gzip(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut input = vec![0x1f, 0x8b, 8, 0];
        input.extend_from_slice(&tail);
        check_tsv(&input, false)?;
        check_tsv(&input, true)?;
    }

    #[test]
    fn tsv_structured_lines(lines in proptest::collection::vec(tsv_line(), 0..30), crlf: bool, trailing: bool) {
        let input = join(lines, crlf, trailing);
        check_tsv(&input, false)?;
        check_tsv(&input, true)?;
    }

    /// `for_each` reads the buffered lines as blocks, `next_event` line by line: the same
    /// events, counts, skipped lines (positions and reasons) and errors, whatever the buffer
    /// size (blocks cut anywhere, refills mid-line), the line cap, strictness and line ends.
    #[test]
    fn tsv_in_place_path_matches_record_path(
        lines in proptest::collection::vec(tsv_line(), 0..30),
        crlf: bool,
        strict: bool,
        buffer in prop_oneof![Just(64usize), 65usize..300, Just(256 * 1024)],
        cap in prop_oneof![Just(16usize << 20), 8usize..40],
    ) {
        let input = join(lines, crlf, true);
        let fmt = |e: beaconstat::ConnEvent<'_>| format!("{e:?}");
        let open = || {
            ZeekReader::builder()
                .strict(strict)
                .buffer_capacity(buffer)
                .max_record_len(cap)
                .from_reader(&input[..])
                .unwrap()
        };
        let mut a = open();
        let mut in_place = Vec::new();
        let ra = a.for_each(|e| in_place.push(fmt(e)));
        let mut b = open();
        let mut by_record = Vec::new();
        let rb = loop {
            match b.next_event() {
                Ok(Some(e)) => by_record.push(fmt(e)),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        prop_assert_eq!(ra.map_err(|e| e.to_string()), rb.map_err(|e| e.to_string()));
        prop_assert_eq!(in_place, by_record);
        prop_assert_eq!(a.stats(), b.stats());
    }

    #[test]
    fn tsv_record_fields_match_naive_split(lines in proptest::collection::vec(tsv_line(), 0..30)) {
        let input = join(lines, false, true);
        let mut r = ZeekReader::from_reader(&input[..]).unwrap();
        let mut rec = ZeekRecord::new();
        while let Ok(true) = r.read_record(&mut rec) {
            let Some(h) = rec.header() else { continue };
            if h.has_space_quirk() {
                continue;
            }
            let sep = h.separator();
            let want: Vec<&[u8]> = rec.as_bytes().split(|&c| c == sep).collect();
            prop_assert_eq!(rec.len(), want.len());
            for (i, w) in want.iter().enumerate() {
                prop_assert_eq!(rec.get(i), Some(*w));
            }
            prop_assert_eq!(rec.get(want.len()), None);
        }
    }

    #[test]
    fn json_arbitrary(lines in proptest::collection::vec(prop_oneof![
        Just(br#"{"ts":1.5,"id.orig_h":"a","id.resp_h":"b","id.resp_p":443}"#.to_vec()),
        Just(br#"{"ts":"2023-01-04T14:37:37Z","id":{"orig_h":"a\u0041","resp_h":"b"}}"#.to_vec()),
        "[{}\\[\\]\":,0-9a-z.\\\\ ]{0,50}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..60),
    ], 0..30)) {
        let input = join(lines, false, true);
        let mut r = ZeekJsonReader::from_reader(&input[..]).unwrap();
        let mut in_place = Vec::new();
        r.for_each(|e| in_place.push(format!("{e:?}"))).unwrap();
        let st = r.stats();
        if looks_gzip(&input) {
            // A corrupt stream keeps what decoded and counts the rest once.
            prop_assert!(st.by_reason.get(&SkipReason::Truncated).copied().unwrap_or(0) <= 1);
        } else {
            prop_assert_eq!(st.records, naive_json_records(&input));
        }
        prop_assert_eq!(st.records, st.events + st.skipped);
        prop_assert_eq!(st.events, in_place.len() as u64);
        // The record path gives the same events and counts.
        let mut r2 = ZeekJsonReader::from_reader(&input[..]).unwrap();
        let mut by_record = Vec::new();
        while let Some(e) = r2.next_event().unwrap() {
            by_record.push(format!("{e:?}"));
        }
        prop_assert_eq!(in_place, by_record);
        prop_assert_eq!(r.stats(), r2.stats());
    }

    #[test]
    fn csv_arbitrary(body in proptest::collection::vec(any::<u8>(), 0..300), quoted in "[\",a-z0-9\\n]{0,80}") {
        for tail in [body, quoted.into_bytes()] {
            let mut input = b"ts,src,dst,dst_port\n".to_vec();
            input.extend_from_slice(&tail);
            let mut r = CsvReader::from_reader(&input[..]).unwrap();
            let mut events = 0u64;
            r.for_each(|_| events += 1).unwrap();
            let st = r.stats();
            prop_assert_eq!(st.records, st.events + st.skipped);
            prop_assert_eq!(st.events, events);
        }
    }
}
