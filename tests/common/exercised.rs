//! Property tests whose property applies only to some inputs (a fast path taken, a period
//! found) count the inputs that exercised it and fail when too few did: a generator that drifts
//! away from the interesting inputs cannot leave such a test passing vacuously.
//!
//! Shared by the integration tests (`mod common`) and the library's unit tests (included by
//! path from `src/tests/mod.rs`), so both count the same way.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;

/// Runs `test` on `cases` inputs from `strategy` (shrinking on failure, as `proptest!` does).
/// `test` returns whether the input exercised the property. Panics when a case fails, or when
/// fewer than `min` of the cases exercised the property.
pub fn check_exercised<S: Strategy>(
    name: &str,
    cases: u32,
    min: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) {
    let exercised = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        if test(v)? {
            exercised.set(exercised.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let n = exercised.get();
    assert!(
        n >= min,
        "{name}: only {n} of {cases} cases exercised the property (need {min})"
    );
}
