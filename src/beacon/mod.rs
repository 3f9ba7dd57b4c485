//! The periodicity engine (ATT&CK analytic AN1113): is this series of connections a beacon?
mod config;

pub use config::{AnalyzerConfig, AnalyzerConfigBuilder};
