//! How lineage compares accounts and process images: an account with or without its domain,
//! an image by its file name (host names: [`hosts`](super::hosts)).

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

/// SYSTEM, LOCAL SERVICE, NETWORK SERVICE, or a computer account (`DOMAIN\\HOST$`).
pub(crate) fn machine_account(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    l.ends_with('$')
        || l.starts_with("nt authority\\")
        || matches!(
            l.as_str(),
            "s-1-5-18" | "s-1-5-19" | "s-1-5-20" | "system" | "local system"
        )
}

/// True for a task author that is Microsoft's: `Microsoft Corporation`, or the resource
/// strings built-in tasks carry (`$(@%SystemRoot%\system32\…)`).
pub(crate) fn microsoft_author(a: &str) -> bool {
    let l = a.to_ascii_lowercase();
    l.contains("microsoft") || l.starts_with("$(@%systemroot%") || l.starts_with("$(@%windir%")
}

/// Whether two spellings name one account: `DOMAIN\user` against `user`, case-insensitive.
pub(crate) fn same_account(a: &str, b: &str) -> bool {
    let name = |s: &str| s.rsplit('\\').next().unwrap_or(s).trim().to_ascii_lowercase();
    a.eq_ignore_ascii_case(b) || name(a) == name(b)
}

/// True for an image under the system's own folders (`System32`, `SysWOW64`, the Windows
/// folder's environment spellings, `Program Files`): where a built-in task's action lives.
pub(crate) fn system_image(cmd: &str) -> bool {
    let l = cmd.trim().trim_matches('"').to_ascii_lowercase();
    [
        "%windir%\\system32\\",
        "%systemroot%\\system32\\",
        "%windir%\\syswow64\\",
        "%systemroot%\\syswow64\\",
        "c:\\windows\\system32\\",
        "c:\\windows\\syswow64\\",
        "%programfiles%\\",
        "%programfiles(x86)%\\",
        "c:\\program files\\",
        "c:\\program files (x86)\\",
        "c:\\programdata\\microsoft\\windows defender\\",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}
