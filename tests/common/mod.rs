//! Helpers shared by the real-data tests: locate `../shared/data`, unzip OTRF zips.
#![allow(dead_code)]

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
