//! Replays the fuzz corpus under `cargo test`, without the fuzz toolchain: every seed in
//! `fuzz/seeds/<target>/` and every input that once found a bug, kept in
//! `fuzz/regressions/<target>/`, goes through the same target function the fuzzer runs
//! (`fuzz/src/lib.rs`, included here), with its checks: no panic, every record counted,
//! reports in range.
#[cfg(feature = "evtx")]
mod common;
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

/// Runs `f` on every file of `fuzz/{seeds,regressions}/<name>/`; returns how many.
fn replay(name: &str, f: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for p in files {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let outcome = std::panic::catch_unwind(|| f(&data));
            assert!(outcome.is_ok(), "fuzz input {} fails again", p.display());
            n += 1;
        }
    }
    n
}

#[test]
fn zeek_tsv_corpus() {
    assert!(replay("zeek_tsv", targets::zeek_tsv) >= 2);
}

#[test]
fn zeek_json_corpus() {
    assert!(replay("zeek_json", targets::zeek_json) >= 1);
}

#[test]
fn csv_corpus() {
    assert!(replay("csv", targets::csv) >= 2);
}

#[test]
fn windows_json_corpus() {
    assert!(replay("windows_json", targets::windows_json) >= 1);
}

#[test]
fn task_xml_corpus() {
    assert!(replay("task_xml", targets::task_xml) >= 4);
}

#[test]
fn reader_corpus() {
    assert!(replay("reader", targets::reader) >= 13);
}

#[test]
fn inputs_corpus() {
    assert!(replay("inputs", targets::inputs) >= 3);
}

#[test]
fn analyzer_corpus() {
    assert!(replay("analyzer", targets::analyzer) >= 4);
}

/// The EVTX seeds are cut from a real sample at run time (the repository keeps no binary
/// logs): the file header alone, and the header with the first half chunk.
#[cfg(feature = "evtx")]
#[test]
fn evtx_corpus() {
    replay("evtx", targets::evtx);
    let Some(dir) = common::data("tasks_evtx_attack") else {
        return;
    };
    let path = dir.join("temp_scheduled_task_4698_4699.evtx");
    let whole = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for cut in [4096, 8192, whole.len()] {
        let part = &whole[..cut.min(whole.len())];
        let outcome = std::panic::catch_unwind(|| targets::evtx(part));
        assert!(outcome.is_ok(), "{} cut at {cut} bytes fails", path.display());
    }
}
