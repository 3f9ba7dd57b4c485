//! The periodicity engine (ATT&CK analytic AN1113): is this series of connections a beacon?
mod analyzer;
mod config;
mod fft;
mod intervals;
mod parallel;
mod persistence;
mod report;
mod schedule;
mod segments;
mod spectrum;
mod stats;

pub use analyzer::{Analyzer, Evidence};
pub use config::{AnalyzerConfig, AnalyzerConfigBuilder};
pub(crate) use parallel::map_scored;
pub use parallel::score_set;
pub use persistence::{PERSISTENT_SHARE, persistence, persistence_over};
pub use report::{
    BeaconReport, BurstStats, Explanation, IntervalStats, MAX_SEGMENTS, PValue, PeriodSource, Segment, Segments,
    SizeStats, SpectralStats, SubScores, Verdict, human_secs,
};
pub use schedule::{ScheduleEvidence, ScheduleKind};
