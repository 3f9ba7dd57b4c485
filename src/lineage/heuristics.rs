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

/// True when `image` is a script host.
pub(crate) fn is_script_host(image: &str) -> bool {
    let n = lower(file_name(image));
    SCRIPT_HOSTS.contains(&n.as_str())
}

/// A user-writable location mentioned in `s`, if any.
pub(crate) fn user_writable(s: &str) -> Option<&'static str> {
    let l = lower(s);
    [
        ("\\temp\\", "Temp"),
        ("%temp%", "Temp"),
        ("\\appdata\\", "AppData"),
        ("\\users\\public\\", "Users\\Public"),
        ("\\programdata\\", "ProgramData"),
    ]
    .into_iter()
    .find(|(k, _)| l.contains(k))
    .map(|(_, v)| v)
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
    if let Some(w) = user_writable(image).or_else(|| user_writable(cmd)) {
        push(TaskReason::UserWritablePath, format!("{name} uses a path under {w}"));
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
