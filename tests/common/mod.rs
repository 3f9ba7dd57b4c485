//! Helpers shared by the real-data tests: locate `../shared/data`, unzip OTRF zips.
#![allow(dead_code)]

pub mod counting;
pub mod hostile;

use std::path::{Path, PathBuf};

/// `../shared/data/<sub>` relative to the crate, or `None` (with a notice) when absent.
pub fn data(sub: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(sub);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: {} not present", p.display());
        None
    }
}

/// Unzips an OTRF zip (one JSON file inside) into a temp dir and returns the JSON path, or
/// `None` with a notice when `unzip` is not available.
pub fn unzip_json(zip: &Path) -> Option<PathBuf> {
    let stem = zip.file_stem()?.to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("beaconstat-test-{}-{stem}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let status = std::process::Command::new("unzip")
        .arg("-o")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("SKIP: could not unzip {} (is `unzip` installed?)", zip.display());
            return None;
        }
    }
    let json = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "json"));
    if json.is_none() {
        eprintln!("SKIP: no .json inside {}", zip.display());
    }
    json
}

/// Calls `f` on every Windows event of `path`: `.evtx` through the `evtx` crate (a
/// dev-dependency, so this works without the library's `evtx` feature), anything else through
/// the library's JSON-lines reader. Returns (records, skipped).
pub fn read_events(path: &Path, mut f: impl FnMut(&beaconstat::WinRecord)) -> (u64, u64) {
    if path.extension().is_some_and(|e| e == "evtx") {
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        let mut parser = evtx::EvtxParser::from_path(path)
            .expect("open evtx")
            .with_configuration(settings);
        let mut rec = beaconstat::WinRecord::new();
        let (mut n, mut bad) = (0, 0);
        for r in parser.records_json() {
            match r.ok().map(|r| rec.parse_str(&r.data)) {
                Some(Ok(())) => {
                    n += 1;
                    f(&rec);
                }
                _ => bad += 1,
            }
        }
        (n, bad)
    } else {
        let s = beaconstat::read_windows_events(path, f).expect("read");
        (s.records, s.skipped)
    }
}

/// A built example (`cargo test` builds examples next to the test binaries), or `None` with a
/// notice (e.g. under `cargo test --lib`).
pub fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: example {name} not built at {}", path.display());
        None
    }
}
