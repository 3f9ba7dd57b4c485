//! Helpers shared by the real-data tests: locate `../shared/data`, unzip OTRF zips, find a
//! built example.
//!
//! A test whose input is missing prints a notice and returns, so the suite runs on a checkout
//! without the data; with `BEACONSTAT_REQUIRE_DATA=1` (CI sets it) the same test fails instead,
//! so a green run cannot hide tests that never ran.
#![allow(dead_code)]

pub mod counting;
pub mod exercised;
pub mod hostile;
pub mod lineage;
pub mod lines;
pub mod temp_dir;
pub mod windows_log;
pub mod zip;

use std::path::{Path, PathBuf};

/// The environment variable that turns a missing input into a failure.
pub const REQUIRE_DATA: &str = "BEACONSTAT_REQUIRE_DATA";

/// Whether missing inputs fail the test (`BEACONSTAT_REQUIRE_DATA=1`).
pub fn data_required() -> bool {
    std::env::var(REQUIRE_DATA).is_ok_and(|v| v == "1")
}

/// A test input is missing: `None` with a notice, or a panic saying what is missing when
/// [`data_required`].
pub fn missing<T>(what: &str) -> Option<T> {
    if data_required() {
        panic!("{what}, and {REQUIRE_DATA}=1 requires every real-data test to run");
    }
    eprintln!("SKIP: {what} (set {REQUIRE_DATA}=1 to make this a failure)");
    None
}

/// `../shared/data/<sub>` relative to the crate (`sub` may be `""` for the folder itself), or
/// `None` with a notice when absent; a panic when absent and [`data_required`].
pub fn data(sub: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(sub);
    if p.exists() {
        Some(p)
    } else {
        missing(&format!("{} not present", p.display()))
    }
}

/// Unzips an OTRF zip (one JSON file inside) into a temp dir and returns the JSON path, or
/// `None` with a notice when `unzip` is not available (a panic when [`data_required`]).
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
        _ => return missing(&format!("could not unzip {} (is `unzip` installed?)", zip.display())),
    }
    let json = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "json"));
    match json {
        Some(j) => Some(j),
        None => missing(&format!("no .json inside {}", zip.display())),
    }
}

/// Calls `f` on every Windows event of `path`: `.evtx` through the `evtx` crate (a
/// dev-dependency, so this works without the library's `evtx` feature), anything else through
/// the library's JSON-lines reader. Returns (records, skipped).
pub fn read_events(path: &Path, mut f: impl FnMut(&beaconstat::winevent::WinRecord)) -> (u64, u64) {
    if path.extension().is_some_and(|e| e == "evtx") {
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        let mut parser = evtx::EvtxParser::from_path(path)
            .expect("open evtx")
            .with_configuration(settings);
        let mut rec = beaconstat::winevent::WinRecord::new();
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
        let s = beaconstat::read::read_windows_events(path, f).expect("read");
        (s.events, s.skipped)
    }
}

/// A built example (`cargo test` builds examples next to the test binaries), or `None` with a
/// notice (e.g. under `cargo test --test NAME`, which builds no examples); a panic when
/// [`data_required`].
pub fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else {
        missing(&format!("example {name} not built at {}", path.display()))
    }
}
