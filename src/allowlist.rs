//! Allowlist (placeholder).
