//! A saved count of (task, image, command-line shape) observations, so rarity can be judged
//! against earlier data and not only the data at hand.

use super::heuristics::command_line_shape;
use super::model::Lineage;
use super::naming::file_name;
use crate::error::{Error, Position, Result};
use std::collections::HashMap;
use std::io::{BufRead, Write};

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A saved count of (task, image, command-line shape) observations, for rarity across runs and
/// hosts. Text format: one `count<TAB>task<TAB>image<TAB>shape` line per key.
///
/// # Example
/// ```
/// use beaconstat::lineage::TaskBaseline;
/// let mut b = TaskBaseline::new();
/// b.add(r"\T", "cmd.exe", "cmd.exe /c x", 3);
/// let mut text = Vec::new();
/// b.save(&mut text)?;
/// let c = TaskBaseline::load(text.as_slice())?;
/// assert_eq!(c.count(r"\T", "cmd.exe", "cmd.exe /c x"), 3);
/// assert_eq!(c.total(), 3);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskBaseline {
    counts: HashMap<(String, String, String), u64>,
    // Sum of all counts.
    total: u64,
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

    /// Adds every launched process of every run in `lineage`.
    pub fn observe(&mut self, lineage: &Lineage) {
        for h in &lineage.hosts {
            for t in &h.tasks {
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
