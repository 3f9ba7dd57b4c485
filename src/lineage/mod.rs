//! AN0258: scheduled-task lineage.
//!
//! Windows records ([`WinRecord`](crate::winevent::WinRecord)) are decoded into borrowed task, process and
//! evidence events next to the reader ([`winevent`](crate::winevent)); task XML becomes a
//! [`TaskDefinition`]; [`LineageBuilder`] collects them and reconstructs per host each
//! [`ScheduledTask`]'s creation (method, creator, evidence), life, [`TaskRun`]s and the
//! processes they launched (a [`ProcessTree`] per host), scores outliers with their
//! [`TaskReason`]s, and reports [`TelemetryCoverage`]. [`Lineage::task_for_process`] answers
//! the beacon join: which task launched a beaconing process, who created it, how, and with
//! what repetition interval.
//!
//! # Layers
//! - The output model (`model`, `process`, `coverage`, `reason`): what a user reads.
//! - Queries over it (`query`).
//! - The builder (`builder`) copying events into the collected input (`collected`), and the
//!   build stages (`stages/`), one file each, over one typed context.
//! - Heuristics (`heuristics`, `baseline`) and parsers (`taskxml`, `cmdline`).
//!
//! Data flows one way: winevent → builder → build → model; nothing in the model imports the
//! builder or the stages.

mod action;
mod baseline;
mod builder;
mod cmdline;
mod collected;
mod config;
mod coverage;
mod heuristics;
mod hosts;
mod model;
mod naming;
mod process;
mod query;
mod reason;
mod stages;
mod taskxml;

pub use action::decode_encoded_command;
pub use baseline::TaskBaseline;
pub use builder::LineageBuilder;
// For the AN1113 join, which names hosts as lineage does.
pub use cmdline::{SchtasksCommand, SchtasksVerb, split_command_line};
pub(crate) use collected::lowered;
pub use config::LineageConfig;
pub use coverage::{ClockReport, CoverageGap, SkippedDefinition, TelemetryCoverage};
pub use heuristics::command_line_shape;
pub(crate) use hosts::{HostIdentity, find_host};
pub use model::{
    CreationMethod, DefinitionSource, HostLineage, LifeEvent, LifeKind, Lineage, RunCandidate, ScheduledTask,
    TaskCreation, TaskRun,
};
pub use process::{Ancestors, ImageSigner, ProcessConnection, ProcessId, ProcessLink, ProcessNode, ProcessTree};
pub(crate) use query::TaskLinks;
pub use query::{ProcessKey, TaskLink, TaskRole};
pub use reason::{TaskFinding, TaskReason};
pub use taskxml::{
    Principal, TaskAction, TaskDefinition, TaskXmlError, TaskXmlErrorKind, Trigger, TriggerKind, parse_iso_duration,
};
