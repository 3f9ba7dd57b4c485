//! Scheduled-task definitions: the task XML of Security 4698/4702 (and TaskScheduler exports).

use crate::error::{Error, ErrorKind, Position};
use crate::time::{Interval, MICROS_PER_SEC, Timestamp};
use core::fmt;
use quick_xml::events::Event;

/// Why task XML was refused, and where.
///
/// # Example
/// ```
/// use beaconstat::lineage::{TaskDefinition, TaskXmlErrorKind};
/// let err = TaskDefinition::parse("<Task><Actions></Oops>").unwrap_err();
/// assert!(matches!(err.kind(), TaskXmlErrorKind::Malformed { .. }));
/// assert!(err.to_string().starts_with("task XML at byte"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskXmlError {
    /// Byte offset of the problem in the text given to [`TaskDefinition::parse`].
    offset: u64,
    kind: TaskXmlErrorKind,
}

/// The kinds of [`TaskXmlError`]. New variants may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TaskXmlErrorKind {
    /// Not well-formed XML (mismatched or unclosed tag, bad syntax).
    Malformed {
        /// The XML parser's description.
        message: String,
    },
    /// Elements nest deeper than the cap.
    TooDeep {
        /// The cap ([`TaskXmlError::MAX_DEPTH`]).
        limit: usize,
    },
    /// Well-formed XML without a `<Task>` element.
    NoTaskElement,
    /// Escaped more than once over (`&amp;lt;Task`): an export escaped the XML twice, so what
    /// it means cannot be told from the text.
    EscapedTwice,
    /// UTF-16 code units read as bytes (a NUL after every ASCII character): the export copied
    /// the task file's UTF-16 bytes instead of decoding them.
    Utf16Bytes,
}

impl TaskXmlError {
    /// The deepest element nesting [`TaskDefinition::parse`] accepts. Windows writes task XML
    /// six levels deep; the cap bounds the work per element whatever the input.
    pub const MAX_DEPTH: usize = 64;

    /// Byte offset of the problem in the text given to [`TaskDefinition::parse`] (in the
    /// unescaped text when the XML was escaped once more).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// What was wrong.
    pub fn kind(&self) -> &TaskXmlErrorKind {
        &self.kind
    }
}

impl fmt::Display for TaskXmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task XML at byte {}: ", self.offset)?;
        match &self.kind {
            TaskXmlErrorKind::Malformed { message } => write!(f, "{message}"),
            TaskXmlErrorKind::TooDeep { limit } => write!(f, "elements nest deeper than {limit}"),
            TaskXmlErrorKind::NoTaskElement => write!(f, "no <Task> element"),
            TaskXmlErrorKind::EscapedTwice => write!(f, "escaped twice over (&amp;lt;Task…)"),
            TaskXmlErrorKind::Utf16Bytes => write!(f, "UTF-16 bytes (NUL after each character), not text"),
        }
    }
}

impl std::error::Error for TaskXmlError {}

/// A task XML error becomes a [`ErrorKind::Parse`] at its byte offset.
impl From<TaskXmlError> for Error {
    fn from(e: TaskXmlError) -> Self {
        let reason = e.to_string();
        Error::from(ErrorKind::Parse {
            position: Position {
                line: 0,
                byte: e.offset,
            },
            field: Some("task XML".to_owned()),
            value: None,
            reason,
        })
    }
}

/// Where `inner` starts within `outer`, when it is a subslice of it.
fn subslice_offset(outer: &str, inner: &str) -> Option<u64> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start as u64)
}

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TaskAction {
    /// `<Exec>`: a command line.
    Exec {
        /// `<Command>` as written (may be a bare name like `cmd.exe` or contain `%windir%`).
        command: String,
        /// `<Arguments>`, unescaped.
        arguments: Option<String>,
        /// `<WorkingDirectory>`.
        working_directory: Option<String>,
    },
    /// `<ComHandler>`: a COM class run inside `taskhostw.exe`.
    ComHandler {
        /// `<ClassId>`.
        class_id: String,
        /// `<Data>`.
        data: Option<String>,
    },
    /// Any other action element (`SendEmail`, `ShowMessage`), by element name.
    Other(String),
}

impl TaskAction {
    /// `command arguments` for an Exec action, the class id for a COM handler.
    pub fn command_line(&self) -> String {
        match self {
            TaskAction::Exec {
                command,
                arguments: Some(a),
                ..
            } => format!("{command} {a}"),
            TaskAction::Exec { command, .. } => command.clone(),
            TaskAction::ComHandler { class_id, .. } => format!("COM {class_id}"),
            TaskAction::Other(n) => n.clone(),
        }
    }
}

/// The kind of a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TriggerKind {
    /// `<TimeTrigger>`: once at a time (possibly repeating).
    Time,
    /// `<CalendarTrigger>` with `<ScheduleByDay>`.
    Daily,
    /// `<CalendarTrigger>` with `<ScheduleByWeek>`.
    Weekly,
    /// `<CalendarTrigger>` with `<ScheduleByMonth>` or `<ScheduleByMonthDayOfWeek>` (or no
    /// schedule).
    Monthly,
    /// `<BootTrigger>`.
    Boot,
    /// `<LogonTrigger>`.
    Logon,
    /// `<EventTrigger>`.
    Event,
    /// `<IdleTrigger>`.
    Idle,
    /// `<RegistrationTrigger>`.
    Registration,
    /// `<SessionStateChangeTrigger>`.
    SessionStateChange,
    /// Anything else (`WnfStateChangeTrigger`: its element name in [`Trigger::element`]).
    Other,
}

impl TriggerKind {
    /// A short name (`boot`, `logon`, `daily`, `event`, …).
    ///
    /// # Example
    /// ```
    /// use beaconstat::lineage::TriggerKind;
    /// assert_eq!(TriggerKind::SessionStateChange.as_str(), "session state change");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Time => "time",
            TriggerKind::Daily => "daily",
            TriggerKind::Weekly => "weekly",
            TriggerKind::Monthly => "monthly",
            TriggerKind::Boot => "boot",
            TriggerKind::Logon => "logon",
            TriggerKind::Event => "event",
            TriggerKind::Idle => "idle",
            TriggerKind::Registration => "registration",
            TriggerKind::SessionStateChange => "session state change",
            TriggerKind::Other => "other",
        }
    }
}

/// One trigger of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Trigger {
    /// The kind.
    pub kind: TriggerKind,
    /// `<Enabled>` (default true).
    pub enabled: bool,
    /// `<StartBoundary>` as written (local time without zone, usually).
    pub start_boundary: Option<String>,
    /// `<EndBoundary>` as written: the trigger does not fire after it, and the task expires
    /// when its last trigger has (see [`TaskDefinition::delete_expired_after`]).
    pub end_boundary: Option<String>,
    /// `<Repetition><Interval>`: the trigger repeats this often (`PT1M` = 60 s).
    pub repetition: Option<Interval>,
    /// `<Repetition><Duration>`: for how long it repeats (`None` = indefinitely).
    pub repetition_duration: Option<Interval>,
    /// `<Repetition><StopAtDurationEnd>`: running instances are stopped when the repetition
    /// duration ends.
    pub stop_at_duration_end: bool,
    /// `<DaysInterval>` (daily) or `<WeeksInterval>` (weekly).
    pub every: Option<u32>,
    /// Calendar days: the `<DaysOfWeek>` of a weekly or monthly-by-weekday schedule
    /// (`Monday`, …), in order.
    pub days_of_week: Vec<String>,
    /// `<DaysOfMonth><Day>` of a monthly schedule (`1`…`31`, `Last`).
    pub days_of_month: Vec<String>,
    /// `<Weeks><Week>` of a monthly-by-weekday schedule (`1`…`4`, `Last`).
    pub weeks: Vec<String>,
    /// `<Months>` of a monthly schedule (`January`, …).
    pub months: Vec<String>,
    /// `<Delay>`.
    pub delay: Option<Interval>,
    /// `<Subscription>` of an event trigger (an XPath query).
    pub subscription: Option<String>,
    /// `<UserId>` of a logon or session-state trigger: whose logon fires it (`None`: any
    /// user's).
    pub user_id: Option<String>,
    /// `<StateChange>` of a session-state trigger (`ConsoleConnect`, `RemoteConnect`,
    /// `SessionLock`, `SessionUnlock`, …).
    pub state_change: Option<String>,
    /// The element name of a trigger of kind [`TriggerKind::Other`] (`WnfStateChangeTrigger`).
    pub element: Option<String>,
}

impl Trigger {
    /// A trigger of `kind` with every other field unset (enabled).
    pub fn new(kind: TriggerKind) -> Self {
        Trigger {
            kind,
            enabled: true,
            start_boundary: None,
            end_boundary: None,
            repetition: None,
            repetition_duration: None,
            stop_at_duration_end: false,
            every: None,
            days_of_week: Vec::new(),
            days_of_month: Vec::new(),
            weeks: Vec::new(),
            months: Vec::new(),
            delay: None,
            subscription: None,
            user_id: None,
            state_change: None,
            element: None,
        }
    }

    /// [`Trigger::start_boundary`] as a time (read as UTC: Task Scheduler writes local time
    /// without a zone unless the task was registered to synchronise across time zones).
    pub fn start(&self) -> Option<Timestamp> {
        self.start_boundary.as_deref().and_then(Timestamp::parse_rfc3339)
    }

    /// [`Trigger::end_boundary`] as a time, read as [`Trigger::start`] is.
    pub fn end(&self) -> Option<Timestamp> {
        self.end_boundary.as_deref().and_then(Timestamp::parse_rfc3339)
    }

    /// The trigger in words, with its values as written: `boot`, `logon of CORP\bob`,
    /// `daily every 2 days from 2024-01-01T10:00:00`, `event (Security 4625 query …)`,
    /// `time from … until …, repeating every 60s for 86400s`.
    ///
    /// # Example
    /// ```
    /// use beaconstat::Interval;
    /// use beaconstat::lineage::{Trigger, TriggerKind};
    /// let mut t = Trigger::new(TriggerKind::Weekly);
    /// t.every = Some(2);
    /// t.days_of_week = vec!["Monday".into(), "Friday".into()];
    /// t.start_boundary = Some("2024-01-01T09:00:00".into());
    /// t.end_boundary = Some("2024-01-02T09:00:00".into());
    /// t.repetition = Some(Interval::from_secs(300));
    /// assert_eq!(
    ///     t.describe(),
    ///     "weekly every 2 weeks on Monday, Friday from 2024-01-01T09:00:00 until 2024-01-02T09:00:00, repeating every 300s"
    /// );
    /// ```
    pub fn describe(&self) -> String {
        let mut s = match (self.kind, &self.element) {
            (TriggerKind::Other, Some(e)) => e.clone(),
            (k, _) => k.as_str().to_owned(),
        };
        let mut add = |part: String| {
            s.push(' ');
            s.push_str(&part);
        };
        if !self.enabled {
            add("(disabled)".into());
        }
        if let Some(u) = &self.user_id {
            add(format!("of {u}"));
        }
        if let Some(c) = &self.state_change {
            add(format!("on {c}"));
        }
        if let Some(n) = self.every {
            let unit = if self.kind == TriggerKind::Weekly {
                "weeks"
            } else {
                "days"
            };
            add(format!("every {n} {unit}"));
        }
        let list = |label: &str, v: &[String]| format!("{label} {}", v.join(", "));
        if !self.weeks.is_empty() {
            add(list("in weeks", &self.weeks));
        }
        if !self.days_of_week.is_empty() {
            add(list("on", &self.days_of_week));
        }
        if !self.days_of_month.is_empty() {
            add(list("on days", &self.days_of_month));
        }
        if !self.months.is_empty() {
            add(list("in", &self.months));
        }
        if let Some(q) = &self.subscription {
            add(format!("subscription {q}"));
        }
        if let Some(d) = self.delay {
            add(format!("delayed {d}"));
        }
        if let Some(b) = &self.start_boundary {
            add(format!("from {b}"));
        }
        if let Some(b) = &self.end_boundary {
            add(format!("until {b}"));
        }
        if let Some(r) = self.repetition {
            s.push_str(&format!(", repeating every {r}"));
            if let Some(d) = self.repetition_duration {
                s.push_str(&format!(" for {d}"));
            }
            if self.stop_at_duration_end {
                s.push_str(", stopped at the end");
            }
        }
        s
    }

    /// How often this trigger fires when it repeats by itself: the repetition interval, else
    /// `DaysInterval` days or `WeeksInterval` weeks; `None` for one-shot and event triggers.
    pub fn period(&self) -> Option<Interval> {
        if let Some(r) = self.repetition {
            return Some(r);
        }
        let day = 86_400 * MICROS_PER_SEC;
        match (self.kind, self.every) {
            (TriggerKind::Daily, n) => Some(Interval(day.saturating_mul(i64::from(n.unwrap_or(1).max(1))))),
            (TriggerKind::Weekly, n) => Some(Interval((7 * day).saturating_mul(i64::from(n.unwrap_or(1).max(1))))),
            _ => None,
        }
    }
}

/// The task's principal: who it runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Principal {
    /// `<UserId>` (a SID such as `S-1-5-18`, or a name).
    pub user_id: Option<String>,
    /// `<GroupId>`.
    pub group_id: Option<String>,
    /// `<RunLevel>` (`LeastPrivilege`, `HighestAvailable`).
    pub run_level: Option<String>,
    /// `<LogonType>` (`InteractiveToken`, `S4U`, `Password`, `ServiceAccount`,
    /// `InteractiveTokenOrPassword`).
    pub logon_type: Option<String>,
    /// `<RequiredPrivileges><Privilege>`, in order.
    pub required_privileges: Vec<String>,
}

impl Principal {
    /// True when it runs with the account's highest privileges (`RunLevel`
    /// `HighestAvailable`: elevated, past UAC).
    pub fn elevated(&self) -> bool {
        self.run_level
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("HighestAvailable"))
    }

    /// True when the account's password is stored with the task (`LogonType` `Password`, or
    /// `InteractiveTokenOrPassword`): it runs whether the user is logged on or not, with the
    /// user's network credentials.
    pub fn stores_password(&self) -> bool {
        self.logon_type
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("Password") || l.eq_ignore_ascii_case("InteractiveTokenOrPassword"))
    }

    /// The principal in words, with its values as written (`S-1-5-18 (SYSTEM), RunLevel
    /// HighestAvailable, LogonType InteractiveToken`); `?` when nothing is known.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = self.user_id.as_deref().or(self.group_id.as_deref()) {
            parts.push(if self.is_system() && u != "SYSTEM" {
                format!("{u} (SYSTEM)")
            } else {
                u.to_owned()
            });
        }
        if let Some(r) = &self.run_level {
            parts.push(format!("RunLevel {r}"));
        }
        if let Some(l) = &self.logon_type {
            parts.push(format!("LogonType {l}"));
        }
        if parts.is_empty() { "?".into() } else { parts.join(", ") }
    }

    /// True when the task runs as LocalSystem (`S-1-5-18`, `System`, `NT AUTHORITY\SYSTEM`).
    pub fn is_system(&self) -> bool {
        self.user_id.as_deref().is_some_and(|u| {
            u == "S-1-5-18" || u.eq_ignore_ascii_case("system") || u.eq_ignore_ascii_case(r"NT AUTHORITY\SYSTEM")
        })
    }
}

/// A parsed task definition (the XML Windows stores under `System32\Tasks` and logs in 4698).
///
/// # Example
/// ```
/// use beaconstat::Interval;
/// use beaconstat::lineage::{TaskAction, TaskDefinition, TriggerKind};
/// let xml = r#"<?xml version="1.0" encoding="UTF-16"?>
/// <Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
///   <RegistrationInfo><Author>CORP\admin</Author><URI>\eviltask</URI></RegistrationInfo>
///   <Triggers><TimeTrigger><Repetition><Interval>PT1M</Interval></Repetition>
///     <StartBoundary>2021-04-21T13:30:00</StartBoundary></TimeTrigger></Triggers>
///   <Settings><Hidden>true</Hidden></Settings>
///   <Actions><Exec><Command>cmd.exe</Command><Arguments>/C a &gt; b</Arguments></Exec></Actions>
/// </Task>"#;
/// let t = TaskDefinition::parse(xml)?;
/// assert_eq!(t.uri.as_deref(), Some(r"\eviltask"));
/// assert!(t.hidden);
/// assert_eq!(t.triggers[0].kind, TriggerKind::Time);
/// assert_eq!(t.period(), Some(Interval::from_secs(60)));
/// assert_eq!(t.actions[0].command_line(), "cmd.exe /C a > b");
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct TaskDefinition {
    /// `<RegistrationInfo><Author>`.
    pub author: Option<String>,
    /// `<RegistrationInfo><URI>`.
    pub uri: Option<String>,
    /// `<RegistrationInfo><Date>` as written.
    pub date: Option<String>,
    /// `<RegistrationInfo><Description>`.
    pub description: Option<String>,
    /// The (first) principal.
    pub principal: Principal,
    /// `<Settings><Hidden>`.
    pub hidden: bool,
    /// `<Settings><Enabled>` (default true).
    pub enabled: bool,
    /// `<Settings><DeleteExpiredTaskAfter>`: the task deletes itself this long after it
    /// expired (its last [`Trigger::end_boundary`]); `PT0S` is at once (`schtasks /Z`).
    pub delete_expired_after: Option<Interval>,
    /// The actions, in order.
    pub actions: Vec<TaskAction>,
    /// The triggers, in order.
    pub triggers: Vec<Trigger>,
    /// The XML ended before `</Task>` (Windows truncates long event fields, e.g. a 4702 with
    /// a long encoded PowerShell command); the fields read so far are kept.
    pub truncated: bool,
}

impl TaskDefinition {
    /// Parses task XML. Accepts the XML once more escaped (`&lt;Task…`, as in some exports), and
    /// ignores the `encoding="UTF-16"` declaration of text that is already a Rust string.
    ///
    /// Time is linear in the input: elements may nest at most [`TaskXmlError::MAX_DEPTH`] deep
    /// (real task XML nests six), deeper input is refused at the element that crosses the cap.
    ///
    /// # Errors
    /// A [`TaskXmlError`] with the byte offset of the problem when the text is not well-formed
    /// XML, nests deeper than the cap, or has no `<Task>` element.
    ///
    /// # Example
    /// ```
    /// use beaconstat::lineage::{TaskDefinition, TaskXmlErrorKind};
    /// let deep = format!("<Task>{}", "<a>".repeat(10_000));
    /// let err = TaskDefinition::parse(&deep).unwrap_err();
    /// assert!(matches!(err.kind(), TaskXmlErrorKind::TooDeep { .. }));
    /// assert_eq!(err.offset(), 6 + 3 * 63);
    /// ```
    pub fn parse(xml: &str) -> Result<TaskDefinition, TaskXmlError> {
        // UTF-16 bytes copied into the string: NULs inside the text (a well-formed task has
        // none). Refused where the first one is.
        if let Some(i) = xml.find('\0') {
            return Err(TaskXmlError {
                offset: i as u64,
                kind: TaskXmlErrorKind::Utf16Bytes,
            });
        }
        let trimmed = xml.trim_start_matches('\u{feff}').trim();
        if trimmed.starts_with("&amp;lt;") {
            return Err(TaskXmlError {
                offset: subslice_offset(xml, trimmed).unwrap_or(0),
                kind: TaskXmlErrorKind::EscapedTwice,
            });
        }
        let unescaped;
        let text = if trimmed.starts_with("&lt;") {
            unescaped = unescape_xml(trimmed);
            unescaped.as_str()
        } else {
            trimmed
        };
        // Drop the declaration: its encoding names the original UTF-16 bytes, not this text.
        let text = match text.strip_prefix("<?xml") {
            Some(rest) => rest.find("?>").map_or(rest, |i| &rest[i + 2..]),
            None => text,
        };
        // Offsets are reported in the caller's text where `text` is a slice of it (always,
        // unless the XML was escaped once more: then they count in the unescaped text).
        let base = subslice_offset(xml, text).unwrap_or(0);
        let err = |offset: u64, kind| TaskXmlError {
            offset: base + offset,
            kind,
        };
        let mut rdr = quick_xml::Reader::from_str(text);
        let mut def = TaskDefinition {
            enabled: true,
            ..TaskDefinition::default()
        };
        // At most MAX_DEPTH names: `close` looks at ancestors, so the cap also keeps it O(1).
        let mut stack: Vec<String> = Vec::new();
        let mut buf = String::new();
        let mut saw_task = false;
        loop {
            let before = rdr.buffer_position();
            let ev = rdr.read_event().map_err(|e| {
                err(
                    rdr.error_position(),
                    TaskXmlErrorKind::Malformed { message: e.to_string() },
                )
            })?;
            match ev {
                Event::Start(e) => {
                    if stack.len() >= TaskXmlError::MAX_DEPTH {
                        return Err(err(
                            before,
                            TaskXmlErrorKind::TooDeep {
                                limit: TaskXmlError::MAX_DEPTH,
                            },
                        ));
                    }
                    let name: String = {
                        let n = e.local_name();
                        let s: &str = n.as_ref();
                        s.to_owned()
                    };
                    if name == "Task" {
                        saw_task = true;
                    }
                    open(&mut def, &stack, &name);
                    stack.push(name);
                    buf.clear();
                }
                Event::Empty(e) => {
                    let name: String = {
                        let n = e.local_name();
                        let s: &str = n.as_ref();
                        s.to_owned()
                    };
                    open(&mut def, &stack, &name);
                }
                Event::Text(t) => buf.push_str(&unescape_xml(&t.into_inner())),
                Event::CData(t) => buf.push_str(&t.into_inner()),
                Event::GeneralRef(r) => {
                    let name = r.into_inner();
                    buf.push_str(&unescape_xml(&format!("&{name};")));
                }
                Event::End(_) => {
                    close(&mut def, &stack, buf.trim());
                    stack.pop();
                    buf.clear();
                }
                Event::Eof => {
                    // Windows truncates long event fields: keep what was read of the element
                    // that was open, and say so.
                    if !stack.is_empty() {
                        close(&mut def, &stack, buf.trim());
                        def.truncated = true;
                    }
                    break;
                }
                _ => {}
            }
        }
        if !saw_task {
            return Err(err(0, TaskXmlErrorKind::NoTaskElement));
        }
        Ok(def)
    }

    /// The task's expected period: the shortest [`Trigger::period`] among enabled triggers.
    pub fn period(&self) -> Option<Interval> {
        self.triggers
            .iter()
            .filter(|t| t.enabled)
            .filter_map(Trigger::period)
            .min()
    }

    /// The first Exec action's command and arguments, where there is one.
    pub fn exec(&self) -> Option<(&str, Option<&str>)> {
        self.actions.iter().find_map(|a| match a {
            TaskAction::Exec { command, arguments, .. } => Some((command.as_str(), arguments.as_deref())),
            _ => None,
        })
    }
}

fn trigger_kind(name: &str) -> Option<TriggerKind> {
    Some(match name {
        "TimeTrigger" => TriggerKind::Time,
        "CalendarTrigger" => TriggerKind::Monthly,
        "BootTrigger" => TriggerKind::Boot,
        "LogonTrigger" => TriggerKind::Logon,
        "EventTrigger" => TriggerKind::Event,
        "IdleTrigger" => TriggerKind::Idle,
        "RegistrationTrigger" => TriggerKind::Registration,
        "SessionStateChangeTrigger" => TriggerKind::SessionStateChange,
        n if n.ends_with("Trigger") => TriggerKind::Other,
        _ => return None,
    })
}

/// An element opens: create triggers and actions.
fn open(def: &mut TaskDefinition, stack: &[String], name: &str) {
    let parent = stack.last().map(String::as_str);
    match (parent, name) {
        (Some("Triggers"), n) => {
            if let Some(k) = trigger_kind(n) {
                let mut t = Trigger::new(k);
                if k == TriggerKind::Other {
                    t.element = Some(n.to_owned());
                }
                def.triggers.push(t);
            }
        }
        (_, "ScheduleByDay") => set_kind(def, TriggerKind::Daily),
        (_, "ScheduleByWeek") => set_kind(def, TriggerKind::Weekly),
        (_, "ScheduleByMonth" | "ScheduleByMonthDayOfWeek") => set_kind(def, TriggerKind::Monthly),
        (Some("DaysOfWeek"), day) if stack.iter().any(|x| x == "Triggers") => {
            if let Some(t) = def.triggers.last_mut() {
                t.days_of_week.push(day.to_owned());
            }
        }
        (Some("Months"), month) if stack.iter().any(|x| x == "Triggers") => {
            if let Some(t) = def.triggers.last_mut() {
                t.months.push(month.to_owned());
            }
        }
        (Some("Actions"), "Exec") => def.actions.push(TaskAction::Exec {
            command: String::new(),
            arguments: None,
            working_directory: None,
        }),
        (Some("Actions"), "ComHandler") => def.actions.push(TaskAction::ComHandler {
            class_id: String::new(),
            data: None,
        }),
        (Some("Actions"), n) => def.actions.push(TaskAction::Other(n.to_owned())),
        _ => {}
    }
}

fn set_kind(def: &mut TaskDefinition, k: TriggerKind) {
    if let Some(t) = def.triggers.last_mut() {
        t.kind = k;
    }
}

/// An element with text closes: store its value according to where it is.
fn close(def: &mut TaskDefinition, stack: &[String], text: &str) {
    let Some(name) = stack.last().map(String::as_str) else {
        return;
    };
    let has = |s: &str| stack.iter().any(|x| x == s);
    let v = || Some(text.to_owned());
    if has("RegistrationInfo") {
        match name {
            "Author" => def.author = v(),
            "URI" => def.uri = v(),
            "Date" => def.date = v(),
            "Description" => def.description = v(),
            _ => {}
        }
    } else if has("Principal") {
        // The first principal wins (tasks have one in practice).
        let p = &mut def.principal;
        let slot = match name {
            "UserId" => &mut p.user_id,
            "GroupId" => &mut p.group_id,
            "RunLevel" => &mut p.run_level,
            "LogonType" => &mut p.logon_type,
            "Privilege" => {
                p.required_privileges.push(text.to_owned());
                return;
            }
            _ => return,
        };
        if slot.is_none() {
            *slot = v();
        }
    } else if has("Triggers") {
        let Some(t) = def.triggers.last_mut() else { return };
        match name {
            "Enabled" => t.enabled = !text.eq_ignore_ascii_case("false"),
            "StartBoundary" => t.start_boundary = v(),
            "EndBoundary" => t.end_boundary = v(),
            "Interval" if has("Repetition") => t.repetition = parse_iso_duration(text),
            "Duration" if has("Repetition") => t.repetition_duration = parse_iso_duration(text),
            "StopAtDurationEnd" if has("Repetition") => t.stop_at_duration_end = text.eq_ignore_ascii_case("true"),
            "DaysInterval" | "WeeksInterval" => t.every = text.parse().ok(),
            "Day" if has("DaysOfMonth") => t.days_of_month.push(text.to_owned()),
            "Week" if has("Weeks") => t.weeks.push(text.to_owned()),
            "Delay" => t.delay = parse_iso_duration(text),
            "Subscription" => t.subscription = v(),
            "UserId" => t.user_id = v(),
            "StateChange" => t.state_change = v(),
            _ => {}
        }
    } else if has("Actions") {
        let Some(a) = def.actions.last_mut() else { return };
        match (a, name) {
            (TaskAction::Exec { command, .. }, "Command") => *command = text.to_owned(),
            (TaskAction::Exec { arguments, .. }, "Arguments") => *arguments = v(),
            (TaskAction::Exec { working_directory, .. }, "WorkingDirectory") => *working_directory = v(),
            (TaskAction::ComHandler { class_id, .. }, "ClassId") => *class_id = text.to_owned(),
            (TaskAction::ComHandler { data, .. }, "Data") => *data = v(),
            _ => {}
        }
    } else if has("Settings") && stack.len() >= 2 && stack[stack.len() - 2] == "Settings" {
        match name {
            "Hidden" => def.hidden = text.eq_ignore_ascii_case("true"),
            "Enabled" => def.enabled = !text.eq_ignore_ascii_case("false"),
            "DeleteExpiredTaskAfter" => def.delete_expired_after = parse_iso_duration(text),
            _ => {}
        }
    }
}

/// Replaces the five predefined XML entities and numeric character references.
pub(crate) fn unescape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|&e| e <= 12) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let ent = &tail[1..end];
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses an ISO 8601 duration as Task Scheduler writes them (`PT1M`, `PT60M`, `P1D`,
/// `P3DT12H`, `PT0.5S`). Years and months are not fixed lengths and are refused.
///
/// # Example
/// ```
/// use beaconstat::Interval;
/// use beaconstat::lineage::parse_iso_duration;
/// assert_eq!(parse_iso_duration("PT1M"), Some(Interval::from_secs(60)));
/// assert_eq!(parse_iso_duration("P1DT1H"), Some(Interval::from_secs(90_000)));
/// assert_eq!(parse_iso_duration("P1M"), None);
/// ```
pub fn parse_iso_duration(s: &str) -> Option<Interval> {
    let s = s.trim();
    let body = s.strip_prefix('P').or_else(|| s.strip_prefix('p'))?;
    if body.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut units = 0;
    let mut num = String::new();
    for c in body.chars() {
        match c {
            'T' | 't' => {
                if !num.is_empty() || in_time {
                    return None;
                }
                in_time = true;
            }
            '0'..='9' | '.' => num.push(c),
            unit => {
                let v: f64 = num.parse().ok()?;
                num.clear();
                units += 1;
                let secs = match (in_time, unit.to_ascii_uppercase()) {
                    (false, 'W') => 604_800.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return None,
                };
                total = total.checked_add((v * secs * 1e6).round() as i64)?;
            }
        }
    }
    if !num.is_empty() || units == 0 {
        return None;
    }
    Some(Interval(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_iso_duration("PT60M"), Some(Interval::from_secs(3600)));
        assert_eq!(parse_iso_duration("P3D"), Some(Interval::from_secs(259_200)));
        assert_eq!(parse_iso_duration("PT0.5S"), Some(Interval::from_micros(500_000)));
        for bad in ["", "P", "PT", "1M", "PT5", "P1H", "PTT1M"] {
            assert_eq!(parse_iso_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn doubly_escaped_and_com_handler() {
        let xml = "&lt;?xml version=&quot;1.0&quot; encoding=&quot;UTF-16&quot;?&gt;&lt;Task&gt;\
            &lt;Triggers&gt;&lt;LogonTrigger&gt;&lt;Enabled&gt;false&lt;/Enabled&gt;&lt;/LogonTrigger&gt;\
            &lt;CalendarTrigger&gt;&lt;ScheduleByWeek&gt;&lt;WeeksInterval&gt;2&lt;/WeeksInterval&gt;\
            &lt;/ScheduleByWeek&gt;&lt;/CalendarTrigger&gt;&lt;/Triggers&gt;\
            &lt;Actions&gt;&lt;ComHandler&gt;&lt;ClassId&gt;{AB}&lt;/ClassId&gt;&lt;/ComHandler&gt;&lt;/Actions&gt;\
            &lt;Settings&gt;&lt;Enabled&gt;false&lt;/Enabled&gt;&lt;IdleSettings&gt;&lt;Hidden&gt;true&lt;/Hidden&gt;\
            &lt;/IdleSettings&gt;&lt;/Settings&gt;&lt;/Task&gt;";
        let t = TaskDefinition::parse(xml).unwrap();
        assert_eq!(t.triggers.len(), 2);
        assert!(!t.triggers[0].enabled);
        assert_eq!(t.triggers[1].kind, TriggerKind::Weekly);
        assert_eq!(t.period(), Some(Interval::from_secs(14 * 86_400)));
        assert_eq!(
            t.actions,
            [TaskAction::ComHandler {
                class_id: "{AB}".into(),
                data: None
            }]
        );
        assert!(!t.enabled);
        assert!(!t.hidden, "Hidden below IdleSettings is not the task's hidden flag");
    }

    #[test]
    fn not_a_task() {
        let e = TaskDefinition::parse("<Foo/>").unwrap_err();
        assert_eq!((e.offset(), e.kind()), (0, &TaskXmlErrorKind::NoTaskElement));
        // The offset counts in the caller's text, past the BOM, blanks and the declaration.
        let e = TaskDefinition::parse("\u{feff}  <?xml version=\"1.0\"?><Task></Oops>").unwrap_err();
        assert!(matches!(e.kind(), TaskXmlErrorKind::Malformed { .. }), "{e}");
        assert_eq!(e.offset(), 3 + 2 + 21 + 6, "{e}");
        let as_crate_error = crate::Error::from(e);
        assert_eq!(as_crate_error.position().map(|p| p.byte), Some(32));
    }

    #[test]
    fn every_bad_form_is_refused_with_its_kind_and_offset() {
        let good = "<Task><Actions><Exec><Command>cmd.exe</Command></Exec></Actions></Task>";
        // Escaped twice over.
        let twice = good.replace('<', "&amp;lt;").replace('>', "&amp;gt;");
        let e = TaskDefinition::parse(&format!("  {twice}")).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (&TaskXmlErrorKind::EscapedTwice, 2));
        assert_eq!(e.to_string(), "task XML at byte 2: escaped twice over (&amp;lt;Task…)");
        // Escaped once more is read.
        let once = good.replace('<', "&lt;").replace('>', "&gt;");
        assert_eq!(TaskDefinition::parse(&once).unwrap().exec(), Some(("cmd.exe", None)));
        // Truncated inside a tag.
        let e = TaskDefinition::parse(&good[..27]).unwrap_err();
        assert!(matches!(e.kind(), TaskXmlErrorKind::Malformed { .. }), "{e}");
        assert_eq!(e.offset(), 21, "{e}");
        // Truncated between elements: kept, and said to be truncated.
        let t = TaskDefinition::parse(&good[..47]).unwrap();
        assert!(t.truncated);
        assert_eq!(t.exec(), Some(("cmd.exe", None)));
        // Mismatched tags.
        let bad = good.replace("</Exec>", "</Exe>");
        let e = TaskDefinition::parse(&bad).unwrap_err();
        let TaskXmlErrorKind::Malformed { message } = e.kind() else {
            panic!("{e}")
        };
        assert!(message.contains("Exec"), "{message}");
        assert_eq!(e.offset(), 47, "{e}");
        // UTF-16 bytes read as text.
        let utf16: String = good.chars().flat_map(|c| [c, '\0']).collect();
        let e = TaskDefinition::parse(&utf16).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (&TaskXmlErrorKind::Utf16Bytes, 1));
    }

    #[test]
    fn deep_nesting_is_refused_at_the_cap() {
        // The issue's case: 300 k nested elements, closed. Refused at element 64, not parsed
        // in O(depth²).
        let n = 300_000;
        let xml = format!("<Task>{}{}</Task>", "<a>".repeat(n), "</a>".repeat(n));
        let e = TaskDefinition::parse(&xml).unwrap_err();
        assert_eq!(
            e.kind(),
            &TaskXmlErrorKind::TooDeep {
                limit: TaskXmlError::MAX_DEPTH
            }
        );
        assert_eq!(e.offset(), 6 + 3 * (TaskXmlError::MAX_DEPTH as u64 - 1));
        assert!(e.to_string().contains("deeper than 64"), "{e}");
        // Exactly at the cap is still a task.
        let d = TaskXmlError::MAX_DEPTH - 1;
        let xml = format!("<Task>{}{}</Task>", "<a>".repeat(d), "</a>".repeat(d));
        assert!(!TaskDefinition::parse(&xml).unwrap().truncated);
    }

    #[test]
    fn wide_task_xml_parses_whole() {
        // 4 MB of siblings: linear, and every action kept.
        let n = 100_000;
        let actions = "<Exec><Command>c.exe</Command></Exec>".repeat(n);
        let xml = format!("<Task><Actions>{actions}</Actions></Task>");
        assert!(xml.len() > 3_700_000);
        let t = TaskDefinition::parse(&xml).unwrap();
        assert_eq!(t.actions.len(), n);
        assert_eq!(t.exec(), Some(("c.exe", None)));
    }
}
