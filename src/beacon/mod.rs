//! The periodicity engine (ATT&CK analytic AN1113): is this series of connections a beacon?
mod analyzer;
mod config;
mod intervals;
mod report;
mod spectrum;
mod stats;

pub use analyzer::{Analyzer, Evidence};
pub use config::{AnalyzerConfig, AnalyzerConfigBuilder};
pub use report::{
    BeaconReport, Explanation, IntervalStats, PeriodSource, SizeStats, SpectralStats, SubScores, Verdict, human_secs,
};
