//! Outlier scoring of tasks and the processes tied to them, each finding with its reason.

use super::model::{Lineage, Process, Task, file_name};
use crate::error::{Error, Position, Result};
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// Why a task or process stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Reason {
    /// The launched process is not the task's declared action.
    DiffersFromAction,
    /// (task, image, command-line shape) is rare across the hosts and runs seen / the baseline.
    Rare,
    /// A LOLBin (mshta, rundll32, regsvr32, certutil, bitsadmin, curl, …).
    Lolbin,
    /// PowerShell with an encoded command.
    EncodedPowerShell,
    /// A script host (powershell, wscript, cscript, cmd /c with redirection to Temp).
    ScriptHost,
    /// Runs from or refers to a user-writable path (Temp, AppData, Users\Public, ProgramData).
    UserWritablePath,
    /// The task is hidden.
    Hidden,
    /// The task name looks random or is a GUID.
    RandomName,
    /// The repetition interval is very short.
    ShortRepetition,
    /// Created by a script host or LOLBin process (or one whose parent is).
    ScriptHostCreator,
    /// Created remotely.
    RemoteCreation,
    /// Created and deleted within minutes.
    ShortLived,
    /// Only TaskCache registry writes: no task registration event.
    RegistryOnly,
    /// A built-in `\Microsoft\Windows\` task created or changed by an account.
    BuiltinModified,
}

impl Reason {
    /// The weight used by [`Task::score`].
    pub fn weight(self) -> u32 {
        match self {
            Reason::DiffersFromAction | Reason::BuiltinModified | Reason::RegistryOnly => 3,
            Reason::EncodedPowerShell | Reason::Lolbin | Reason::Hidden | Reason::RemoteCreation => 2,
            Reason::ShortLived | Reason::ScriptHostCreator | Reason::UserWritablePath => 2,
            Reason::Rare | Reason::ScriptHost | Reason::RandomName | Reason::ShortRepetition => 1,
        }
    }
}

/// One finding: the reason, a sentence explaining it, and the process it concerns (index into
/// the host's processes) when it is about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Finding {
    /// The reason.
    pub reason: Reason,
    /// The explanation.
    pub detail: String,
    /// The process concerned, if any.
    pub process: Option<usize>,
}

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
/// use beaconstat::command_line_shape;
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
pub(crate) fn process_findings(task: &Task, idx: usize, p: &Process, launched: bool, out: &mut Vec<Finding>) {
    let image = p.image.as_deref().unwrap_or("");
    let name = lower(file_name(image));
    let cmd = p.command_line.as_deref().unwrap_or("");
    let lcmd = lower(cmd);
    let mut push = |reason, detail: String| {
        out.push(Finding {
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
                Reason::DiffersFromAction,
                format!("launched {name} but the task declares {command}"),
            );
        }
    }
    if is_lolbin(image) {
        push(Reason::Lolbin, format!("{name} is a LOLBin"));
    }
    if name == "powershell.exe" || name == "pwsh.exe" {
        let enc = split_flags(&lcmd).any(|f| f == "ec" || (!f.is_empty() && "encodedcommand".starts_with(f)));
        if enc {
            push(Reason::EncodedPowerShell, "PowerShell with an encoded command".into());
        } else {
            push(Reason::ScriptHost, format!("{name} is a script host"));
        }
    } else if is_script_host(image) && !is_lolbin(image) {
        push(Reason::ScriptHost, format!("{name} is a script host"));
    } else if name == "cmd.exe" && lcmd.contains("/c") && lcmd.contains('>') && user_writable(cmd).is_some() {
        push(
            Reason::ScriptHost,
            "cmd /c redirecting output to a user-writable path".into(),
        );
    }
    if let Some(w) = user_writable(image).or_else(|| user_writable(cmd)) {
        push(Reason::UserWritablePath, format!("{name} uses a path under {w}"));
    }
}

/// `-Flag` / `/flag` tokens of a lower-cased command line, without the dash.
fn split_flags(l: &str) -> impl Iterator<Item = &str> {
    l.split_whitespace()
        .filter_map(|t| t.strip_prefix('-').or_else(|| t.strip_prefix('/')))
}

/// A saved count of (task, image, command-line shape) observations, for rarity across runs and
/// hosts. Text format: one `count<TAB>task<TAB>image<TAB>shape` line per key.
///
/// # Example
/// ```
/// use beaconstat::Baseline;
/// let mut b = Baseline::new();
/// b.add(r"\T", "cmd.exe", "cmd.exe /c x", 3);
/// let mut text = Vec::new();
/// b.save(&mut text)?;
/// let c = Baseline::load(text.as_slice())?;
/// assert_eq!(c.count(r"\T", "cmd.exe", "cmd.exe /c x"), 3);
/// assert_eq!(c.total(), 3);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Baseline {
    counts: HashMap<(String, String, String), u64>,
    // Sum of all counts.
    total: u64,
}

impl Baseline {
    /// An empty baseline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n` observations of a key (task name and image are compared case-insensitively).
    pub fn add(&mut self, task: &str, image: &str, shape: &str, n: u64) {
        *self
            .counts
            .entry((lower(task), lower(file_name(image)), shape.to_owned()))
            .or_default() += n;
        self.total += n;
    }

    /// Observations of a key.
    pub fn count(&self, task: &str, image: &str, shape: &str) -> u64 {
        self.counts
            .get(&(lower(task), lower(file_name(image)), shape.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// All observations.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Adds every launched process of every run in `lineage`.
    pub fn observe(&mut self, lineage: &Lineage) {
        for h in &lineage.hosts {
            for t in &h.tasks {
                for r in &t.runs {
                    if let Some(p) = r.launched.and_then(|i| h.processes.get(i)) {
                        let shape = command_line_shape(p.command_line.as_deref().unwrap_or(""));
                        self.add(&t.name, p.image.as_deref().unwrap_or(""), &shape, 1);
                    }
                }
            }
        }
    }

    /// Writes the baseline as text.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save(&self, mut w: impl Write) -> Result<()> {
        let mut keys: Vec<_> = self.counts.iter().collect();
        keys.sort();
        for ((t, i, s), n) in keys {
            writeln!(w, "{n}\t{t}\t{i}\t{s}").map_err(|e| Error::io(None, e))?;
        }
        Ok(())
    }

    /// Reads a baseline written by [`Baseline::save`].
    ///
    /// # Errors
    /// I/O errors, and [`ErrorKind::Parse`](crate::ErrorKind::Parse) with the line number for a
    /// malformed line.
    pub fn load(r: impl BufRead) -> Result<Baseline> {
        let mut b = Baseline::new();
        let mut byte = 0u64;
        for (i, line) in r.lines().enumerate() {
            let line = line.map_err(|e| Error::io(None, e))?;
            let pos = Position {
                line: i as u64 + 1,
                byte,
            };
            byte += line.len() as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(4, '\t');
            let (Some(n), Some(t), Some(img), Some(s)) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::parse(
                    pos,
                    None,
                    Some(line.as_bytes()),
                    "expected 4 tab-separated fields",
                ));
            };
            let n: u64 = n
                .parse()
                .map_err(|_| Error::parse(pos, Some("count"), Some(n.as_bytes()), "not a count"))?;
            b.add(t, img, s, n);
        }
        Ok(b)
    }
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

    #[test]
    fn baseline_rejects_bad_lines() {
        let e = Baseline::load("1\ta\tb\tc\nx\ty\n".as_bytes()).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(2));
        let e = Baseline::load("z\ta\tb\tc\n".as_bytes()).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(1));
    }
}
