//! What was seen before ([`TaskBaseline`]): launched (task, image, command-line shape) counts
//! and (task, action) definitions per host, so rarity and cross-host outliers can be judged
//! against earlier data and not only the data at hand.

use super::heuristics::command_line_shape;
use super::hosts::HostIdentity;
use super::model::Lineage;
use super::naming::file_name;
use crate::error::{Error, Position, Result};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Write};

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// What was seen before, so that rarity and outliers can be judged against earlier data and
/// not only the data at hand:
/// - (task, image, command-line shape) of launched processes, counted (rarity across runs);
/// - (task, action shape) definitions and the hosts they were on (a task name with the same
///   action on most hosts is expected automation; the same name with another action on one
///   host is an outlier).
///
/// Saved as text (one `count<TAB>task<TAB>image<TAB>shape` line per launched key, one
/// `def<TAB>task<TAB>action<TAB>host` line per definition and host) or, with the `serde`
/// feature, as any serde format.
///
/// # Example
/// ```
/// use beaconstat::lineage::TaskBaseline;
/// let mut b = TaskBaseline::new();
/// b.add(r"\T", "cmd.exe", "cmd.exe /c x", 3);
/// for h in ["ws1", "ws2", "ws3"] {
///     b.add_definition(r"\Backup", r"C:\Tools\backup.exe /quiet", h);
/// }
/// let mut text = Vec::new();
/// b.save(&mut text)?;
/// let c = TaskBaseline::load(text.as_slice())?;
/// assert_eq!(c.count(r"\T", "cmd.exe", "cmd.exe /c x"), 3);
/// assert_eq!(c.total(), 3);
/// assert_eq!(c.hosts_with_task(r"\backup"), 3);
/// assert_eq!(c.hosts_with_definition(r"\Backup", r"c:\tools\backup.exe /quiet"), 3);
/// assert_eq!(c, b);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(into = "BaselineRecords", from = "BaselineRecords")
)]
pub struct TaskBaseline {
    counts: HashMap<(String, String, String), u64>,
    // Sum of all counts.
    total: u64,
    // (task, action shape), lower-cased → the hosts (lower-cased) with that definition.
    definitions: HashMap<(String, String), BTreeSet<String>>,
}

/// The serde form of a [`TaskBaseline`]: lists (map keys of tuples are not JSON).
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct BaselineRecords {
    runs: Vec<(String, String, String, u64)>,
    definitions: Vec<(String, String, Vec<String>)>,
}

#[cfg(feature = "serde")]
impl From<TaskBaseline> for BaselineRecords {
    fn from(b: TaskBaseline) -> Self {
        let mut runs: Vec<_> = b.counts.into_iter().map(|((t, i, s), n)| (t, i, s, n)).collect();
        runs.sort();
        let mut definitions: Vec<_> = b
            .definitions
            .into_iter()
            .map(|((t, a), hosts)| (t, a, hosts.into_iter().collect()))
            .collect();
        definitions.sort();
        BaselineRecords { runs, definitions }
    }
}

#[cfg(feature = "serde")]
impl From<BaselineRecords> for TaskBaseline {
    fn from(r: BaselineRecords) -> Self {
        let mut b = TaskBaseline::new();
        for (t, i, s, n) in r.runs {
            b.add(&t, &i, &s, n);
        }
        for (t, a, hosts) in r.definitions {
            for h in hosts {
                b.add_definition(&t, &a, &h);
            }
        }
        b
    }
}

impl TaskBaseline {
    /// An empty baseline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n` observations of a key (task name and image are compared case-insensitively).
    pub fn add(&mut self, task: &str, image: &str, shape: &str, n: u64) {
        *self
            .counts
            .entry((lower(task), lower(file_name(image)), shape.to_owned()))
            .or_default() += n;
        self.total += n;
    }

    /// Observations of a key.
    pub fn count(&self, task: &str, image: &str, shape: &str) -> u64 {
        self.counts
            .get(&(lower(task), lower(file_name(image)), shape.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// All observations.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Records that `host` has a task `task` whose action is `action` (a command line, compared
    /// by its shape, [`command_line_shape`]).
    pub fn add_definition(&mut self, task: &str, action: &str, host: &str) {
        self.definitions
            .entry((lower(task), command_line_shape(action)))
            .or_default()
            .insert(lower(host));
    }

    /// How many hosts had a task of this name (any action); a bare name and its FQDN (`ws01`,
    /// `ws01.corp.example`, from two saves) are one host.
    pub fn hosts_with_task(&self, task: &str) -> usize {
        let t = lower(task);
        let hosts = self
            .definitions
            .iter()
            .filter(|((n, _), _)| *n == t)
            .flat_map(|(_, hs)| hs.iter().map(String::as_str));
        HostIdentity::resolve(hosts).names().len()
    }

    /// How many hosts had a task of this name with this action (by shape), counted as
    /// [`TaskBaseline::hosts_with_task`] does.
    pub fn hosts_with_definition(&self, task: &str, action: &str) -> usize {
        self.definitions
            .get(&(lower(task), command_line_shape(action)))
            .map_or(0, |hs| {
                HostIdentity::resolve(hs.iter().map(String::as_str)).names().len()
            })
    }

    /// Every (task, action shape) seen, with its hosts.
    pub(crate) fn definitions(&self) -> impl Iterator<Item = (&str, &str, &BTreeSet<String>)> + '_ {
        self.definitions.iter().map(|((t, a), h)| (t.as_str(), a.as_str(), h))
    }

    /// Adds every launched process of every run in `lineage`, and every task definition with
    /// its host.
    pub fn observe(&mut self, lineage: &Lineage) {
        for h in &lineage.hosts {
            for t in &h.tasks {
                if let Some(a) = t.definition.as_ref().and_then(|d| d.actions.first()) {
                    self.add_definition(&t.name, &a.command_line(), &h.host);
                }
                for r in &t.runs {
                    if let Some(p) = r.launched.and_then(|i| h.processes.get(i)) {
                        let shape = command_line_shape(p.command_line.as_deref().unwrap_or(""));
                        self.add(&t.name, p.image.as_deref().unwrap_or(""), &shape, 1);
                    }
                }
            }
        }
    }

    /// Writes the baseline as text.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save(&self, mut w: impl Write) -> Result<()> {
        let mut keys: Vec<_> = self.counts.iter().collect();
        keys.sort();
        for ((t, i, s), n) in keys {
            writeln!(w, "{n}\t{t}\t{i}\t{s}").map_err(|e| Error::io(None, e))?;
        }
        let mut defs: Vec<_> = self.definitions.iter().collect();
        defs.sort();
        for ((t, a), hosts) in defs {
            for h in hosts {
                writeln!(w, "def\t{t}\t{a}\t{h}").map_err(|e| Error::io(None, e))?;
            }
        }
        Ok(())
    }

    /// Reads a baseline written by [`TaskBaseline::save`].
    ///
    /// # Errors
    /// I/O errors, and [`ErrorKind::Parse`](crate::ErrorKind::Parse) with the line number for a
    /// malformed line.
    pub fn load(r: impl BufRead) -> Result<TaskBaseline> {
        let mut b = TaskBaseline::new();
        let mut byte = 0u64;
        for (i, line) in r.lines().enumerate() {
            let line = line.map_err(|e| Error::io(None, e))?;
            let pos = Position {
                line: i as u64 + 1,
                byte,
            };
            byte += line.len() as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(4, '\t');
            let (Some(n), Some(t), Some(img), Some(s)) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::parse(
                    pos,
                    None,
                    Some(line.as_bytes()),
                    "expected 4 tab-separated fields",
                ));
            };
            if n == "def" {
                // A definition line: task, action shape, host.
                b.definitions
                    .entry((lower(t), img.to_owned()))
                    .or_default()
                    .insert(lower(s));
                continue;
            }
            let n: u64 = n
                .parse()
                .map_err(|_| Error::parse(pos, Some("count"), Some(n.as_bytes()), "not a count"))?;
            b.add(t, img, s, n);
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_rejects_bad_lines() {
        let e = TaskBaseline::load("1\ta\tb\tc\nx\ty\n".as_bytes()).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(2));
        let e = TaskBaseline::load("z\ta\tb\tc\n".as_bytes()).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(1));
    }
}
