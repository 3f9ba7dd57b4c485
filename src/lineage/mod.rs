//! AN0258: scheduled-task lineage.
//!
//! Windows records ([`WinRecord`](crate::WinRecord)) become borrowed [`TaskEvent`]s,
//! [`ProcessEvent`]s and [`EvidenceEvent`]s; task XML becomes a [`TaskDefinition`];
//! [`LineageBuilder`] reconstructs per host each task's creation (method, creator, evidence),
//! life, runs and the processes they launched, scores outliers with reasons, and reports
//! telemetry [`Coverage`]. [`Lineage::task_for_process`] answers the beacon join: which task
//! launched a beaconing process, who created it, how, and with what repetition interval.

mod build;
mod cmdline;
mod events;
mod model;
mod score;
mod taskxml;

pub use cmdline::{SchtasksCommand, SchtasksVerb, split_command_line};
pub use events::{EvidenceEvent, EvidenceKind, ProcessEvent, ProcessSource, TaskEvent, TaskEventKind, parse_logon_id};
pub use model::{
    ClockReport, Connection, Coverage, CoverageGap, Creation, CreationMethod, DefinitionSource, HostLineage, LifeEvent,
    LifeKind, Lineage, LineageBuilder, LineageConfig, Process, ProcessKey, ProcessLink, Run, Task, TaskLink, TaskRole,
};
pub use score::{Baseline, Finding, Reason, command_line_shape};
pub use taskxml::{
    Principal, TaskAction, TaskDefinition, TaskXmlError, TaskXmlErrorKind, Trigger, TriggerKind, parse_iso_duration,
};
