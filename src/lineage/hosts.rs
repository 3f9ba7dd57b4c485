//! Host identity: which logged computer names are one machine. Channels disagree on how they
//! name a host (Security often logs `ws01.corp.example`, Sysmon `WS01`, exports change the
//! case), so every consumer (lineage, the baseline, AN1113's coverage) asks this one place.
//!
//! The rule: names equal ignoring ASCII case are one host; a bare name (no dot) and an FQDN
//! whose first label it is are one host when that FQDN is the only one with that first label
//! (`WS01` with `ws01.corp.example` and `ws01.lab.example` stays apart from both, and those
//! two stay apart from each other). IP addresses are never shortened. A merged host is named
//! by its FQDN as first logged, any other by its first spelling.

use std::collections::HashMap;

/// The host numbering of a list of logged names (see the module docs for the rule).
#[derive(Debug, Clone, Default)]
pub(crate) struct HostIdentity {
    /// Per name given, in the order given: its host number.
    of: Vec<usize>,
    /// Per host, numbered by first appearance of any of its names: the name it is known by.
    names: Vec<String>,
}

/// The first label of a name that can be shortened: an FQDN that is no IP address.
fn first_label(lower: &str) -> Option<&str> {
    let (first, rest) = lower.split_once('.')?;
    let ip = lower.parse::<std::net::IpAddr>().is_ok();
    (!ip && !first.is_empty() && !rest.is_empty()).then_some(first)
}

impl HostIdentity {
    /// Numbers `names` (as logged, in order of first appearance; repeats allowed).
    pub(crate) fn resolve<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        // Case variants first: one group per lower-cased name.
        let mut group_ix: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<(String, &'a str)> = Vec::new();
        let mut name_group = Vec::new();
        for n in names {
            let key = n.to_ascii_lowercase();
            let g = *group_ix.entry(key.clone()).or_insert_with(|| {
                groups.push((key, n));
                groups.len() - 1
            });
            name_group.push(g);
        }
        // Bare names to their FQDN, where exactly one FQDN starts with them.
        let mut fqdns_of: HashMap<&str, Vec<usize>> = HashMap::new();
        for (g, (key, _)) in groups.iter().enumerate() {
            if let Some(first) = first_label(key) {
                fqdns_of.entry(first).or_default().push(g);
            }
        }
        let root: Vec<usize> = groups
            .iter()
            .enumerate()
            .map(|(g, (key, _))| match fqdns_of.get(key.as_str()).map(Vec::as_slice) {
                Some(&[only]) if !key.contains('.') => only,
                _ => g,
            })
            .collect();
        // Hosts numbered by the first appearance of any of their names.
        let mut host_of_root: HashMap<usize, usize> = HashMap::new();
        let mut names = Vec::new();
        let of = name_group
            .iter()
            .map(|&g| {
                let r = root[g];
                *host_of_root.entry(r).or_insert_with(|| {
                    names.push(groups[r].1.to_owned());
                    names.len() - 1
                })
            })
            .collect();
        HostIdentity { of, names }
    }

    /// The host number of the `i`-th name given to [`HostIdentity::resolve`].
    pub(crate) fn of(&self, i: usize) -> usize {
        self.of[i]
    }

    /// Per host: the name it is known by.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Into the per-host names.
    pub(crate) fn into_names(self) -> Vec<String> {
        self.names
    }
}

/// Which of `hosts` (names of distinct hosts, as [`HostIdentity::names`] gives them) `name`
/// is: the one equal to it ignoring case, else the one it is the bare name or the FQDN of,
/// when only one is.
pub(crate) fn find_host<'a>(hosts: impl IntoIterator<Item = &'a str> + Clone, name: &str) -> Option<usize> {
    if let Some(i) = hosts.clone().into_iter().position(|h| h.eq_ignore_ascii_case(name)) {
        return Some(i);
    }
    let lname = name.to_ascii_lowercase();
    let mut hit = None;
    for (i, h) in hosts.into_iter().enumerate() {
        let lh = h.to_ascii_lowercase();
        let same = match (first_label(&lname), first_label(&lh)) {
            (Some(f), None) => f == lh,
            (None, Some(f)) => f == lname,
            _ => false,
        };
        if same {
            if hit.is_some() {
                return None;
            }
            hit = Some(i);
        }
    }
    hit
}

/// Which of `hosts` `name` is when host `from` names it (`schtasks /S WS06` run on
/// `ws05.corp.example`): a bare name in `from`'s own domain first, as the DNS suffix search
/// would resolve it, else as [`find_host`].
pub(crate) fn find_host_from<'a>(
    hosts: impl IntoIterator<Item = &'a str> + Clone,
    from: &str,
    name: &str,
) -> Option<usize> {
    let from = from.to_ascii_lowercase();
    let domain = first_label(&from).and_then(|_| from.split_once('.')).map(|(_, d)| d);
    if let Some(d) = domain.filter(|_| !name.contains('.')) {
        let fqdn = format!("{name}.{d}");
        if let Some(i) = hosts.clone().into_iter().position(|h| h.eq_ignore_ascii_case(&fqdn)) {
            return Some(i);
        }
    }
    find_host(hosts, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(names: &[&str]) -> (Vec<usize>, Vec<String>) {
        let id = HostIdentity::resolve(names.iter().copied());
        ((0..names.len()).map(|i| id.of(i)).collect(), id.names().to_vec())
    }

    #[test]
    fn bare_name_case_and_fqdn_are_one_host_named_by_the_fqdn() {
        let (of, names) = resolve(&["WS01", "ws01.corp.example", "ws01", "WS01.CORP.EXAMPLE", "DC1"]);
        assert_eq!(of, [0, 0, 0, 0, 1]);
        assert_eq!(names, ["ws01.corp.example", "DC1"]);
    }

    #[test]
    fn two_domains_with_one_short_name_stay_apart() {
        let (of, names) = resolve(&[
            "WS01",
            "ws01.corp.example",
            "ws01.lab.example",
            "ws02",
            "WS02.lab.example",
        ]);
        assert_eq!(of, [0, 1, 2, 3, 3]);
        assert_eq!(
            names,
            ["WS01", "ws01.corp.example", "ws01.lab.example", "WS02.lab.example"]
        );
    }

    #[test]
    fn addresses_are_not_shortened() {
        let (of, _) = resolve(&["10", "10.0.0.5", "10.0.0.6"]);
        assert_eq!(of, [0, 1, 2]);
    }

    #[test]
    fn lookups_prefer_the_exact_name_and_refuse_ambiguity() {
        let hosts = ["WS01", "ws01.corp.example", "ws01.lab.example", "ws02.lab.example"];
        let find = |n| find_host(hosts.iter().copied(), n);
        assert_eq!(find("ws01"), Some(0));
        assert_eq!(find("WS01.LAB.example"), Some(2));
        assert_eq!(find("WS02"), Some(3));
        assert_eq!(find("ws03"), None);
        // Without the bare host, `ws01` could be either FQDN: none.
        assert_eq!(find_host(hosts[1..].iter().copied(), "ws01"), None);
        // An FQDN finds its bare host when that is the only one.
        assert_eq!(find_host(["DC1", "WS9"], "dc1.corp.example"), Some(0));
        // From a host in lab.example, `ws01` is the lab's; from a bare host, the bare one.
        assert_eq!(
            find_host_from(hosts.iter().copied(), "ws05.lab.example", "ws01"),
            Some(2)
        );
        assert_eq!(find_host_from(hosts.iter().copied(), "WS05", "ws01"), Some(0));
        assert_eq!(find_host_from(hosts.iter().copied(), "10.0.0.5", "ws01"), Some(0));
    }
}
