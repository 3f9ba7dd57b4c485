//! AN0258: scheduled-task lineage.
//!
//! Windows records ([`WinRecord`](crate::WinRecord)) become borrowed [`TaskEvent`]s,
//! [`ProcessEvent`]s and [`EvidenceEvent`]s; task XML becomes a [`TaskDefinition`].

mod events;
mod taskxml;

pub use events::{EvidenceEvent, EvidenceKind, ProcessEvent, ProcessSource, TaskEvent, TaskEventKind, parse_logon_id};
pub use taskxml::{Principal, TaskAction, TaskDefinition, Trigger, TriggerKind, parse_iso_duration};
