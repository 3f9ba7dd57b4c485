//! SQL on DataFusion (feature `datafusion`): the aggregate `beacon(ts [, bytes])`, which scores
//! each group's connections as [`Analyzer::score`] does and returns the report as a struct.
//!
//! ```sql
//! SELECT src, dst, beacon(ts, orig_bytes) AS b
//! FROM conn GROUP BY src, dst ORDER BY b.score DESC
//! ```
//!
//! # How it splits across partitions
//! The state of a group is its timestamps (µs) and sizes, as two lists. DataFusion's partial
//! aggregation builds a state per group on each partition; the final stage merges the states
//! (concatenation) and scores each group once. Events are sorted by (time, size) before
//! scoring, exactly as [`Grouper`](crate::Grouper) sorts a series, so the report does not
//! depend on how the rows were partitioned: it equals the library's report for the same
//! series, field for field.
//!
//! Grouped queries run on a [`GroupsAccumulator`]: every group's events in one accumulator,
//! one pooled analyzer for all of them, and the reports of a whole batch of groups written as
//! one struct column (a one-row struct per group, converted by DataFusion, cost 40 times the
//! scoring itself).
//!
//! # Arguments
//! - `ts`: `Timestamp` of any unit, `Int64` (unit by magnitude, as
//!   [`IntTimeUnit::Auto`]) or `Float64` seconds. Null
//!   timestamps are ignored, like nulls in any SQL aggregate.
//! - `bytes` (optional): any integer or float column, the size of each event. A series has
//!   sizes only if every one of its events has one (null, negative or fractional sizes mean
//!   "unknown"), as in the library.
//!
//! # Result
//! A struct with the fields of [`report_schema`](crate::arrow::report_schema) after the key:
//! `verdict`, `period_source`, `first`, `last`, every [`FEATURES`](crate::features::FEATURES)
//! column (`score`, `period_s`, `jitter`, `missed`, `p_value`, `events`, …) and
//! `explanation`.
//!
//! # Bounded state
//! [`BeaconAggregate::max_events`] caps the events kept per group: the `N` latest by (time,
//! size). The rule is deterministic and mergeable (the latest `N` of a union are the latest
//! `N` of the parts' latest `N`), so a bounded aggregate still gives the same answer on any
//! partitioning: the report of the group's most recent `N` events. Memory per group is then
//! at most `2N` events (24 bytes each) between trims.
//!
//! # Example
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! beaconstat::sql::register(&ctx);
//! let rt = tokio::runtime::Runtime::new()?;
//! let batches = rt.block_on(async {
//!     ctx.sql(
//!         "SELECT src, beacon(ts) AS b FROM (VALUES ('a', 0.0), ('a', 60.0), ('a', 120.0)) AS t(src, ts) GROUP BY src",
//!     )
//!     .await?
//!     .collect()
//!     .await
//! })?;
//! assert_eq!(batches[0].num_rows(), 1);
//! # Ok(()) }
//! ```

use crate::arrow::{IntTimeUnit, Numbers, Time, report_struct_fields, report_structs};
use crate::beacon::{Analyzer, AnalyzerConfig, BeaconReport};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array, ListArray, StructArray, UInt64Array};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

#[cfg(feature = "ballista")]
pub mod ballista;

/// The name the aggregate is registered under.
pub const NAME: &str = "beacon";

/// The `beacon` aggregate: an analyzer configuration and an optional cap on events per group.
///
/// Analyzers (with their FFT plans) are pooled per aggregate and reused across groups.
///
/// # Example
/// ```
/// use beaconstat::sql::BeaconAggregate;
/// let udaf = BeaconAggregate::new().max_events(4096).into_udf();
/// assert_eq!(udaf.name(), "beacon");
/// ```
#[derive(Debug, Clone)]
pub struct BeaconAggregate {
    signature: Signature,
    config: AnalyzerConfig,
    max_events: Option<usize>,
    pool: Arc<Mutex<Vec<Analyzer>>>,
}

impl Default for BeaconAggregate {
    fn default() -> Self {
        BeaconAggregate::new()
    }
}

impl PartialEq for BeaconAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.max_events == other.max_events
    }
}

impl Eq for BeaconAggregate {}

impl Hash for BeaconAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        NAME.hash(state);
        self.max_events.hash(state);
    }
}

impl BeaconAggregate {
    /// The default analyzer configuration, no cap.
    pub fn new() -> Self {
        BeaconAggregate {
            signature: Signature::user_defined(Volatility::Immutable),
            config: AnalyzerConfig::default(),
            max_events: None,
            pool: Arc::default(),
        }
    }

    /// Scores with `config`.
    pub fn config(mut self, config: AnalyzerConfig) -> Self {
        self.config = config;
        self
    }

    /// Keeps at most `n` events per group (the latest `n` by time; at least 1): see the module
    /// docs for the rule and what it does to the reports.
    pub fn max_events(mut self, n: usize) -> Self {
        self.max_events = Some(n.max(1));
        self
    }

    /// As a DataFusion function, for `SessionContext::register_udaf`.
    pub fn into_udf(self) -> AggregateUDF {
        AggregateUDF::from(self)
    }
}

/// Registers `beacon` (default configuration, no cap) on `ctx`: the one call SQL needs.
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(BeaconAggregate::new().into_udf());
}

fn plan_err(msg: String) -> DataFusionError {
    DataFusionError::Plan(msg)
}

impl AggregateUDFImpl for BeaconAggregate {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> DfResult<Vec<DataType>> {
        let (ts, rest) = match args {
            [ts] => (ts, None),
            [ts, bytes] => (ts, Some(bytes)),
            _ => {
                return Err(plan_err(format!(
                    "{NAME}(ts [, bytes]) takes 1 or 2 arguments, got {}",
                    args.len()
                )));
            }
        };
        // Timestamps, Int64 and Float64 are read as they are; narrower numbers widen.
        let ts = match ts {
            DataType::Timestamp(..) | DataType::Int64 | DataType::Float64 => ts.clone(),
            t if t.is_integer() => DataType::Int64,
            DataType::Float32 | DataType::Float16 | DataType::Decimal128(..) => DataType::Float64,
            t => return Err(plan_err(format!("{NAME}: ts must be a timestamp or a number, not {t}"))),
        };
        let mut out = vec![ts];
        if let Some(b) = rest {
            out.push(match b {
                b if b.is_integer() || matches!(b, DataType::Float32 | DataType::Float64) => b.clone(),
                DataType::Null => DataType::UInt64,
                t => return Err(plan_err(format!("{NAME}: bytes must be a number, not {t}"))),
            });
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(report_struct_fields()))
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> DfResult<Vec<FieldRef>> {
        let list = |name: &str, item: DataType| {
            let item = Arc::new(Field::new("item", item, true));
            Arc::new(Field::new(format!("{}[{name}]", args.name), DataType::List(item), true))
        };
        Ok(vec![list("ts_us", DataType::Int64), list("sizes", DataType::UInt64)])
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(BeaconAccumulator {
            events: GroupEvents::default(),
            scorer: self.scorer(),
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs<'_>) -> DfResult<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(BeaconGroupsAccumulator {
            groups: Vec::new(),
            held: 0,
            scorer: self.scorer(),
        }))
    }
}

impl BeaconAggregate {
    fn scorer(&self) -> Scorer {
        Scorer {
            max_events: self.max_events,
            config: self.config.clone(),
            pool: Arc::clone(&self.pool),
            fields: report_struct_fields(),
        }
    }
}

/// What every accumulator of one aggregate shares: the cap, the configuration, the analyzer
/// pool and the result's struct fields (built once, not per group).
#[derive(Debug)]
struct Scorer {
    max_events: Option<usize>,
    config: AnalyzerConfig,
    pool: Arc<Mutex<Vec<Analyzer>>>,
    fields: Fields,
}

impl Scorer {
    fn analyzer(&self) -> Analyzer {
        let pooled = match self.pool.lock() {
            Ok(mut p) => p.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        pooled.unwrap_or_else(|| Analyzer::new(self.config.clone()))
    }

    fn give_back(&self, a: Analyzer) {
        match self.pool.lock() {
            Ok(mut p) => p.push(a),
            Err(poisoned) => poisoned.into_inner().push(a),
        }
    }

    /// The reports of `groups` as one struct column, scored by one pooled analyzer (and one
    /// pair of timestamp and size buffers, reused group after group).
    fn evaluate<'g>(&self, groups: impl IntoIterator<Item = &'g mut GroupEvents>) -> DfResult<StructArray> {
        let mut analyzer = self.analyzer();
        let mut scratch = (Vec::new(), Vec::new());
        let reports: Vec<BeaconReport> = groups
            .into_iter()
            .map(|g| g.report(self.max_events, &mut analyzer, &mut scratch))
            .collect();
        self.give_back(analyzer);
        report_structs(&self.fields, &reports).map_err(|e| exec_err(e.to_string()))
    }
}

/// One group's events: (µs, size, size known), unsorted until scored.
#[derive(Debug, Default)]
struct GroupEvents {
    events: Vec<(i64, u64, bool)>,
}

impl GroupEvents {
    /// Keeps the latest `max` (by time, size) once the buffer holds `slack` times that.
    fn trim(&mut self, max: Option<usize>, slack: usize) {
        let Some(n) = max else { return };
        if self.events.len() > n.saturating_mul(slack) {
            let drop = self.events.len() - n;
            self.events.select_nth_unstable_by_key(drop, |e| (e.0, e.1));
            self.events.drain(..drop);
        }
    }

    fn push(&mut self, event: (i64, u64, bool), max: Option<usize>) {
        self.events.push(event);
        self.trim(max, 2);
    }

    /// Appends the events of row `row` of a state (the two lists [`GroupEvents::state`] writes).
    fn merge_row(&mut self, lists: &StateLists<'_>, row: usize, max: Option<usize>) -> DfResult<()> {
        if lists.ts.is_null(row) {
            return Ok(());
        }
        let (t, s) = (lists.ts.value(row), lists.sizes.value(row));
        let (Some(t), Some(s)) = (t.as_primitive_opt::<Int64Type>(), s.as_primitive_opt::<UInt64Type>()) else {
            return Err(exec_err(format!("{NAME}: state lists of unexpected types")));
        };
        self.events.extend(
            t.values()
                .iter()
                .enumerate()
                .map(|(i, &us)| match s.is_valid(i).then(|| s.value(i)) {
                    Some(size) => (us, size, true),
                    None => (us, 0, false),
                }),
        );
        self.trim(max, 2);
        Ok(())
    }

    /// Scores the events (sorted as the grouper sorts a series: by time, ties by size, unknown
    /// sizes counting as 0) and leaves the group empty.
    fn report(
        &mut self,
        max: Option<usize>,
        analyzer: &mut Analyzer,
        (ts, sizes): &mut (Vec<i64>, Vec<u64>),
    ) -> BeaconReport {
        self.trim(max, 1);
        self.events.sort_unstable_by_key(|e| (e.0, e.1));
        ts.clear();
        ts.extend(self.events.iter().map(|e| e.0));
        sizes.clear();
        let all_sized = !self.events.is_empty() && self.events.iter().all(|e| e.2);
        if all_sized {
            sizes.extend(self.events.iter().map(|e| e.1));
        }
        let report = analyzer.score(ts, all_sized.then_some(sizes.as_slice()));
        self.events = Vec::new();
        report
    }
}

/// The state of many groups as its two list columns (timestamps µs, sizes).
fn state_lists<'g>(groups: impl IntoIterator<Item = &'g mut GroupEvents>, max: Option<usize>) -> Vec<ArrayRef> {
    let (mut lengths, mut ts, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        g.trim(max, 1);
        lengths.push(g.events.len());
        ts.extend(g.events.iter().map(|e| e.0));
        sizes.extend(g.events.iter().map(|e| e.2.then_some(e.1)));
        g.events = Vec::new();
    }
    let list = |values: ArrayRef, item: DataType, lengths: &[usize]| -> ArrayRef {
        let field = Arc::new(Field::new("item", item, true));
        Arc::new(ListArray::new(
            field,
            OffsetBuffer::from_lengths(lengths.iter().copied()),
            values,
            None,
        ))
    };
    vec![
        list(Arc::new(Int64Array::from(ts)), DataType::Int64, &lengths),
        list(Arc::new(UInt64Array::from(sizes)), DataType::UInt64, &lengths),
    ]
}

/// The two state columns of a merge, checked.
struct StateLists<'a> {
    ts: &'a ListArray,
    sizes: &'a ListArray,
}

impl<'a> StateLists<'a> {
    fn new(states: &'a [ArrayRef]) -> DfResult<Self> {
        let [ts, sizes] = states else {
            return Err(exec_err(format!(
                "{NAME}: expected 2 state columns, got {}",
                states.len()
            )));
        };
        let (Some(ts), Some(sizes)) = (ts.as_list_opt::<i32>(), sizes.as_list_opt::<i32>()) else {
            return Err(exec_err(format!("{NAME}: state columns are not lists")));
        };
        Ok(StateLists { ts, sizes })
    }
}

fn exec_err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

/// Whether row `i` passes the aggregate's `FILTER (WHERE …)` (a null counts as false).
fn kept(opt_filter: Option<&BooleanArray>, i: usize) -> bool {
    opt_filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// The input columns of an update: timestamps and, when given, sizes.
struct Inputs<'a> {
    times: Time<'a>,
    sizes: Option<Numbers<'a>>,
    rows: usize,
}

impl<'a> Inputs<'a> {
    fn new(values: &'a [ArrayRef]) -> DfResult<Option<Self>> {
        let Some(ts) = values.first() else { return Ok(None) };
        let times = Time::new(ts.as_ref(), IntTimeUnit::Auto)
            .ok_or_else(|| exec_err(format!("{NAME}: ts is {}", ts.data_type())))?;
        let sizes = match values.get(1) {
            Some(b) => {
                Some(Numbers::new(b.as_ref()).ok_or_else(|| exec_err(format!("{NAME}: bytes is {}", b.data_type())))?)
            }
            None => None,
        };
        Ok(Some(Inputs {
            times,
            sizes,
            rows: ts.len(),
        }))
    }

    /// Row `i` as an event; null or out-of-range times are not events.
    fn event(&self, i: usize) -> Option<(i64, u64, bool)> {
        let Some(Some(t)) = self.times.get(i) else { return None };
        let size = self.sizes.as_ref().and_then(|s| s.count(i)).and_then(Result::ok);
        Some((t.as_micros(), size.unwrap_or(0), size.is_some()))
    }
}

/// The aggregate without grouping (or as a window function): one group.
#[derive(Debug)]
struct BeaconAccumulator {
    events: GroupEvents,
    scorer: Scorer,
}

impl Accumulator for BeaconAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let Some(inputs) = Inputs::new(values)? else {
            return Ok(());
        };
        self.events.events.reserve(inputs.rows);
        for i in 0..inputs.rows {
            if let Some(e) = inputs.event(i) {
                self.events.push(e, self.scorer.max_events);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let lists = state_lists([&mut self.events], self.scorer.max_events);
        lists.iter().map(|a| ScalarValue::try_from_array(a, 0)).collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let lists = StateLists::new(states)?;
        for row in 0..lists.ts.len() {
            self.events.merge_row(&lists, row, self.scorer.max_events)?;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let column = self.scorer.evaluate([&mut self.events])?;
        Ok(ScalarValue::Struct(Arc::new(column)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.events.events.capacity() * size_of::<(i64, u64, bool)>()
    }
}

/// The aggregate over many groups at once (how DataFusion runs `GROUP BY`).
struct BeaconGroupsAccumulator {
    groups: Vec<GroupEvents>,
    /// Events held over all groups (for `size`).
    held: usize,
    scorer: Scorer,
}

impl BeaconGroupsAccumulator {
    fn grow(&mut self, total_num_groups: usize) {
        if self.groups.len() < total_num_groups {
            self.groups.resize_with(total_num_groups, GroupEvents::default);
        }
    }

    /// Applies `change` to group `g` (if it exists), keeping `held` in step.
    fn with_group(&mut self, g: usize, change: impl FnOnce(&mut GroupEvents) -> DfResult<()>) -> DfResult<()> {
        let Some(group) = self.groups.get_mut(g) else {
            return Ok(());
        };
        let before = group.events.len();
        let result = change(group);
        self.held = self.held + group.events.len() - before;
        result
    }

    /// The groups `emit_to` names, taken out (the rest renumbered from 0, as DataFusion
    /// expects).
    fn take(&mut self, emit_to: EmitTo) -> Vec<GroupEvents> {
        let taken = emit_to.take_needed(&mut self.groups);
        let gone: usize = taken.iter().map(|g| g.events.len()).sum();
        self.held = self.held.saturating_sub(gone);
        taken
    }
}

impl GroupsAccumulator for BeaconGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.grow(total_num_groups);
        let Some(inputs) = Inputs::new(values)? else {
            return Ok(());
        };
        let max = self.scorer.max_events;
        for (i, &g) in group_indices.iter().enumerate() {
            if !kept(opt_filter, i) {
                continue;
            }
            if let Some(e) = inputs.event(i) {
                self.with_group(g, |group| {
                    group.push(e, max);
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> DfResult<ArrayRef> {
        let mut taken = self.take(emit_to);
        Ok(Arc::new(self.scorer.evaluate(taken.iter_mut())?))
    }

    fn state(&mut self, emit_to: EmitTo) -> DfResult<Vec<ArrayRef>> {
        let mut taken = self.take(emit_to);
        Ok(state_lists(taken.iter_mut(), self.scorer.max_events))
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> DfResult<()> {
        self.grow(total_num_groups);
        let lists = StateLists::new(values)?;
        let max = self.scorer.max_events;
        for (row, &g) in group_indices.iter().enumerate() {
            self.with_group(g, |group| group.merge_row(&lists, row, max))?;
        }
        Ok(())
    }

    /// Each input row as a state of its own (one event, or none for a null time or a row the
    /// filter drops): what DataFusion asks for when partial aggregation does not pay.
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> DfResult<Vec<ArrayRef>> {
        let Some(inputs) = Inputs::new(values)? else {
            return Ok(state_lists(std::iter::empty(), None));
        };
        let mut rows: Vec<GroupEvents> = (0..inputs.rows)
            .map(|i| GroupEvents {
                events: kept(opt_filter, i)
                    .then(|| inputs.event(i))
                    .flatten()
                    .into_iter()
                    .collect(),
            })
            .collect();
        Ok(state_lists(rows.iter_mut(), None))
    }

    fn size(&self) -> usize {
        // O(1), as DataFusion asks: the events held are counted as they come and go.
        size_of_val(self)
            + self.groups.capacity() * size_of::<GroupEvents>()
            + self.held * size_of::<(i64, u64, bool)>()
    }
}
