//! Test-only helpers for the library's unit tests: naive oracles for the fast paths and the
//! counting property runner the integration tests use too.

pub(crate) mod naive;

#[path = "../../tests/common/exercised.rs"]
pub(crate) mod exercised;
