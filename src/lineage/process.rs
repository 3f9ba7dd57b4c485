//! Processes of one host as a tree: [`ProcessNode`]s in start order, reached by [`ProcessId`]
//! through a [`ProcessTree`] (parent, children, ancestors, descendants), with the network
//! connections each one made.

use super::naming::file_name;
use crate::event::Proto;
use crate::time::Timestamp;
use crate::winevent::{ImageSignature, ProcessSource};
use std::sync::Arc;

/// A process of one host's [`ProcessTree`]: its position in start order. Only meaningful with
/// the tree (the host) it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct ProcessId(usize);

impl ProcessId {
    /// The process at `index` of its tree's start order.
    pub const fn new(index: usize) -> Self {
        ProcessId(index)
    }

    /// The position in start order.
    pub const fn index(self) -> usize {
        self.0
    }
}

/// A network connection attached to a process (from Sysmon 3).
///
/// Its texts are shared (`Arc<str>`): a host's connections repeat a few addresses and names
/// thousands of times, and each distinct text is stored once however many connections name
/// it. They read as `&str` (`&*c.dst`, `c.name.as_deref()`) and serialise as strings.
///
/// # Example
/// ```
/// use beaconstat::lineage::ProcessConnection;
/// use beaconstat::{Proto, Timestamp};
/// use std::sync::Arc;
/// let c2: Arc<str> = Arc::from("203.0.113.9");
/// let beat = |t| ProcessConnection {
///     ts: Timestamp::from_secs(t),
///     src: Arc::from("10.0.0.5"),
///     dst: Arc::clone(&c2),
///     dst_port: Some(443),
///     proto: Proto::Tcp,
///     name: None,
/// };
/// let (a, b) = (beat(0), beat(60));
/// assert_eq!(&*a.dst, "203.0.113.9");
/// assert!(Arc::ptr_eq(&a.dst, &b.dst)); // one text for both
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessConnection {
    /// When (Sysmon `UtcTime`).
    pub ts: Timestamp,
    /// Source address.
    pub src: Arc<str>,
    /// Destination address.
    pub dst: Arc<str>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Protocol.
    pub proto: Proto,
    /// `DestinationHostname`.
    pub name: Option<Arc<str>>,
}

/// A process seen on a host (Sysmon 1 or 4688; a 4688 duplicating a Sysmon 1 is merged).
/// Its parent and children are reached through its host's [`ProcessTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ProcessNode {
    /// Start time (clock-corrected).
    pub ts: Timestamp,
    /// Which event.
    pub source: ProcessSource,
    /// PID.
    pub pid: Option<u32>,
    /// Sysmon GUID.
    pub guid: Option<String>,
    /// Image path.
    pub image: Option<String>,
    /// Command line.
    pub command_line: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Parent PID.
    pub parent_pid: Option<u32>,
    /// Parent GUID.
    pub parent_guid: Option<String>,
    /// Parent image.
    pub parent_image: Option<String>,
    /// Parent command line.
    pub parent_command_line: Option<String>,
    // The parent, when it is in the data (by GUID, else PID + time); never this process.
    pub(crate) parent: Option<ProcessId>,
    // The processes whose parent this is, in the order they were tied.
    pub(crate) children: Vec<ProcessId>,
    /// Network connections it made.
    pub connections: Vec<ProcessConnection>,
    /// Logon session (`LogonId` / `SubjectLogonId` or `TargetLogonId`).
    pub logon_id: Option<u64>,
    /// `IntegrityLevel` (Sysmon) or `MandatoryLabel` (4688).
    pub integrity_level: Option<String>,
    /// `Hashes` (Sysmon).
    pub hashes: Option<String>,
    /// The signature of its image: from its Sysmon 1 where the export logs one, else from the
    /// Sysmon 7 of its own executable; `None` when neither says (signer unknown).
    pub signer: Option<ImageSigner>,
}

/// The signature of a process's image, owned (see
/// [`ImageSignature`](crate::winevent::ImageSignature), which it is read from).
///
/// # Example
/// ```
/// use beaconstat::lineage::ImageSigner;
/// let s = ImageSigner { signed: Some(false), signature: Some("-".into()), status: Some("Unavailable".into()) };
/// assert!(!s.is_valid());
/// assert_eq!(s.to_string(), "not signed (Signed false, SignatureStatus Unavailable)");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImageSigner {
    /// `Signed`.
    pub signed: Option<bool>,
    /// `Signature`: the signer's name (`-` when none).
    pub signature: Option<String>,
    /// `SignatureStatus` (`Valid`, `Unavailable`, …).
    pub status: Option<String>,
}

impl ImageSigner {
    /// The owned copy of a logged signature.
    pub fn from_signature(s: &ImageSignature<'_>) -> Self {
        ImageSigner {
            signed: s.signed,
            signature: s.signature.map(str::to_owned),
            status: s.status.map(str::to_owned),
        }
    }

    fn as_signature(&self) -> ImageSignature<'_> {
        ImageSignature {
            signed: self.signed,
            signature: self.signature.as_deref(),
            status: self.status.as_deref(),
        }
    }

    /// Signed, with a valid signature ([`ImageSignature::is_valid`]).
    pub fn is_valid(&self) -> bool {
        self.as_signature().is_valid()
    }

    /// Validly signed by Microsoft ([`ImageSignature::is_microsoft`]).
    pub fn is_microsoft(&self) -> bool {
        self.as_signature().is_microsoft()
    }
}

impl core::fmt::Display for ImageSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.as_signature().fmt(f)
    }
}

impl ProcessNode {
    /// The image's file name.
    pub fn image_name(&self) -> Option<&str> {
        self.image.as_deref().map(file_name)
    }

    /// The parent, when it is in the data.
    pub fn parent(&self) -> Option<ProcessId> {
        self.parent
    }

    /// The children found in the data.
    pub fn children(&self) -> &[ProcessId] {
        &self.children
    }
}

/// A reference to a process of some host's tree ([`HostLineage::processes`](super::HostLineage)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessLink {
    /// The host.
    pub host: String,
    /// The process in that host's tree.
    #[cfg_attr(feature = "serde", serde(rename = "index"))]
    pub id: ProcessId,
}

/// How far an ancestor walk goes at most (the data can hold PID-reuse loops).
const MAX_DEPTH: usize = 64;

/// One host's processes in start order, with the parent/child links found in the data.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::lineage::LineageBuilder;
/// let mut b = LineageBuilder::new();
/// let mut rec = WinRecord::new();
/// for (pid, ppid, img, t) in [(4, 0, "services.exe", "00"), (16, 4, "svchost.exe", "01"), (32, 16, "cmd.exe", "02")] {
///     rec.parse_str(&format!(r#"{{"EventID":4688,"Channel":"Security","Hostname":"H",
///       "TimeCreated":"2021-01-01T00:00:{t}Z","NewProcessId":"{pid}","NewProcessName":"C:\\{img}","ProcessId":"{ppid}"}}"#))?;
///     b.push_record(&rec);
/// }
/// let lin = b.build();
/// let tree = &lin.host("H").unwrap().processes;
/// let cmd = tree.iter().find(|(_, p)| p.pid == Some(32)).unwrap().0;
/// let up: Vec<_> = tree.ancestors(cmd).map(|(_, p)| p.image_name().unwrap()).collect();
/// assert_eq!(up, ["svchost.exe", "services.exe"]);
/// assert_eq!(tree.children(tree.parent(cmd).unwrap()), [cmd]);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct ProcessTree {
    nodes: Vec<ProcessNode>,
}

impl ProcessTree {
    pub(crate) fn from_nodes(nodes: Vec<ProcessNode>) -> Self {
        ProcessTree { nodes }
    }

    pub(crate) fn into_nodes(self) -> Vec<ProcessNode> {
        self.nodes
    }

    /// The processes in start order.
    pub fn as_slice(&self) -> &[ProcessNode] {
        &self.nodes
    }

    /// How many processes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the host logged no process.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A process, when `id` is of this tree.
    pub fn get(&self, id: ProcessId) -> Option<&ProcessNode> {
        self.nodes.get(id.0)
    }

    /// Every process with its id, in start order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ProcessId, &ProcessNode)> + '_ {
        self.nodes.iter().enumerate().map(|(i, p)| (ProcessId(i), p))
    }

    /// The parent of `id`, when it is in the data.
    pub fn parent(&self, id: ProcessId) -> Option<ProcessId> {
        self.get(id)?.parent
    }

    /// The children of `id`.
    pub fn children(&self, id: ProcessId) -> &[ProcessId] {
        self.get(id).map_or(&[], |p| &p.children)
    }

    /// The parent of `id`, its parent, and so on as far as the data goes: at most 64, and
    /// never one twice (PID reuse can tie processes in a loop).
    pub fn ancestors(&self, id: ProcessId) -> Ancestors<'_> {
        Ancestors {
            tree: self,
            next: self.parent(id),
            seen: vec![id],
        }
    }

    /// `id` and all its descendants, parents before children (breadth first).
    pub fn descendants(&self, id: ProcessId) -> Vec<ProcessId> {
        let mut out = vec![id];
        let mut k = 0;
        while k < out.len() && out.len() <= self.nodes.len() {
            for &c in self.children(out[k]) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            k += 1;
        }
        out
    }
}

impl core::ops::Index<ProcessId> for ProcessTree {
    type Output = ProcessNode;

    /// # Panics
    /// When `id` is not of this tree (ids come from the tree itself).
    fn index(&self, id: ProcessId) -> &ProcessNode {
        &self.nodes[id.0]
    }
}

impl<'t> IntoIterator for &'t ProcessTree {
    type Item = &'t ProcessNode;
    type IntoIter = core::slice::Iter<'t, ProcessNode>;

    fn into_iter(self) -> Self::IntoIter {
        self.nodes.iter()
    }
}

/// The ancestors of a process, nearest first ([`ProcessTree::ancestors`]).
#[derive(Debug, Clone)]
pub struct Ancestors<'t> {
    tree: &'t ProcessTree,
    next: Option<ProcessId>,
    // The start and every ancestor given so far (at most `MAX_DEPTH + 1`).
    seen: Vec<ProcessId>,
}

impl<'t> Iterator for Ancestors<'t> {
    type Item = (ProcessId, &'t ProcessNode);

    fn next(&mut self) -> Option<Self::Item> {
        let id = self.next.take()?;
        if self.seen.contains(&id) || self.seen.len() > MAX_DEPTH {
            return None;
        }
        let p = self.tree.get(id)?;
        self.seen.push(id);
        self.next = p.parent;
        Some((id, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(parent: Option<usize>) -> ProcessNode {
        ProcessNode {
            ts: Timestamp::from_secs(0),
            source: ProcessSource::Security4688,
            pid: None,
            guid: None,
            image: None,
            command_line: None,
            user: None,
            parent_pid: None,
            parent_guid: None,
            parent_image: None,
            parent_command_line: None,
            parent: parent.map(ProcessId),
            children: Vec::new(),
            connections: Vec::new(),
            logon_id: None,
            integrity_level: None,
            hashes: None,
            signer: None,
        }
    }

    #[test]
    fn ancestors_stop_at_loops_and_depth() {
        // 0 → 1 → 2 → 1 (PID reuse can tie a loop that does not pass through the start).
        let t = ProcessTree::from_nodes(vec![node(Some(1)), node(Some(2)), node(Some(1))]);
        let up: Vec<_> = t.ancestors(ProcessId(0)).map(|(i, _)| i.index()).collect();
        assert_eq!(up, [1, 2]);
        // A chain of 100: at most 64 ancestors.
        let chain = ProcessTree::from_nodes((0..100).map(|i| node((i > 0).then(|| i - 1))).collect());
        assert_eq!(chain.ancestors(ProcessId(99)).count(), 64);
        assert_eq!(chain.ancestors(ProcessId(0)).count(), 0);
        // An id of another tree finds nothing.
        assert!(t.get(ProcessId(7)).is_none() && t.children(ProcessId(7)).is_empty());
    }

    #[test]
    fn descendants_parents_first() {
        let mut nodes = vec![node(None), node(Some(0)), node(Some(1)), node(Some(0))];
        nodes[0].children = vec![ProcessId(1), ProcessId(3)];
        nodes[1].children = vec![ProcessId(2)];
        let t = ProcessTree::from_nodes(nodes);
        let d: Vec<_> = t.descendants(ProcessId(0)).into_iter().map(ProcessId::index).collect();
        assert_eq!(d, [0, 1, 3, 2]);
    }
}
