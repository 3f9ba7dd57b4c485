//! How lineage compares host names and process images: case-insensitively, a bare host name
//! matching its FQDN, an image by its file name.

/// True when two logged host names are the same computer: equal ignoring case, or one is a
/// bare name and the other an FQDN starting with it.
pub(crate) fn host_eq(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    (!a.contains('.') || !b.contains('.')) && short(a) == short(b)
}

/// The file name of a Windows or Unix path.
pub(crate) fn file_name(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

/// An image's file name, lower-cased, without quotes and without `.exe` (`"C:\X\Mshta.exe"` →
/// `mshta`): how a task's declared action is compared with a launched process.
pub(crate) fn image_stem(s: &str) -> String {
    let n = file_name(s.trim_matches('"')).to_ascii_lowercase();
    n.strip_suffix(".exe").map(str::to_owned).unwrap_or(n)
}
