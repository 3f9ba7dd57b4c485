//! The parts of a flattened Windows event: which part of the event a field came from and where
//! its name and value text live. Shared by the JSON walker, the field table and the record.

/// Which part of the event a field came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// `Event.System.*` (evtx) or `winlog.*` (Winlogbeat).
    System,
    /// `Event.EventData.*`, `Event.UserData.*.*`, `winlog.event_data.*`.
    Data,
    /// A top-level key (the flat NXLog / OTRF shape, or Winlogbeat's `@timestamp`).
    Top,
}

/// Where a piece of text lives: the raw line (no escapes) or the scratch buffer (unescaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    Line(u32, u32),
    Scratch(u32, u32),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) ns: Ns,
    pub(crate) name: Span,
    pub(crate) value: Span,
}
