//! Severity: the periodicity, the lineage, the task evidence, the direction, the prevalence and
//! the allowlist combined into one score in `[0, 1]`, each step said in words, with the
//! weights of [`SeverityWeights`] (what each means and why: there).

use super::config::{An1113Config, SeverityWeights};
use super::finding::{An1113Finding, Launcher, LineageChain, NetworkSource, Severity, SeverityLevel, TaskEvidence};
use crate::allowlist::Action;
use crate::beacon::{BeaconReport, human_secs};
use crate::lineage::ScheduledTask;
use crate::rank::Direction;

/// What the severity is computed from.
pub(crate) struct SeverityInput<'a> {
    pub(crate) weights: &'a SeverityWeights,
    pub(crate) report: &'a BeaconReport,
    pub(crate) periodic: bool,
    pub(crate) chain: Option<&'a LineageChain>,
    /// The task the chain is tied to (its built-in flag and lineage suspicion count).
    pub(crate) task: Option<&'a ScheduledTask>,
    pub(crate) evidence: &'a TaskEvidence,
    pub(crate) direction: Direction,
    /// Hosts reaching the destination, of hosts with network data.
    pub(crate) prevalence: (usize, usize),
    /// The allowlist rule matching the destination, with its action.
    pub(crate) allowlisted: Option<&'a (String, Action)>,
    pub(crate) host_level: bool,
}

/// The severity of `f`, whose series, chain, evidence, direction, destination and source are
/// filled in: `task` is the task its chain is tied to, `prevalence` the hosts reaching its
/// destination of those with network data; the allowlist rule its host, image and destination
/// match counts too. Both joins (process and host level) rate their findings with this.
pub(crate) fn rate(
    f: &An1113Finding,
    cfg: &An1113Config,
    task: Option<&ScheduledTask>,
    prevalence: (usize, usize),
) -> Severity {
    let image = f.process.as_ref().and_then(|p| p.image.as_deref());
    let allowlisted = cfg.allowlisted(&f.host, image, &f.destination);
    severity(&SeverityInput {
        weights: &cfg.severity,
        report: &f.report,
        periodic: cfg.is_periodic(&f.report),
        chain: f.chain.as_ref(),
        task,
        evidence: &f.evidence,
        direction: f.direction,
        prevalence,
        allowlisted: allowlisted.as_ref(),
        host_level: f.source == NetworkSource::HostLevel,
    })
}

/// The severity of a finding not rated yet (see [`rate`]).
pub(crate) fn unrated() -> Severity {
    Severity {
        level: SeverityLevel::Info,
        score: 0.0,
        reasons: Vec::new(),
    }
}

/// `s` raised by `share` of what is left to 1.
fn raise(s: f64, share: f64) -> f64 {
    s + (1.0 - s) * share
}

pub(crate) fn severity(i: &SeverityInput<'_>) -> Severity {
    let w = i.weights;
    let mut reasons = Vec::new();
    let r = i.report;
    let mut s = if i.periodic {
        reasons.push(format!(
            "periodic (score {:.2}): {} check-ins every {}{}",
            r.score,
            r.beats,
            r.period.map_or("?".into(), |p| human_secs(p.as_secs_f64())),
            if r.jitter > 0.0 {
                format!(" ±{:.0}%", r.jitter * 100.0)
            } else {
                String::new()
            }
        ));
        r.score
    } else {
        reasons.push(format!("not periodic in the data ({} connections)", r.events));
        w.not_periodic
    };
    let builtin_task = i.task.is_some_and(|t| t.builtin);
    let task_suspicion = i.task.map_or(0, ScheduledTask::suspicion);
    if let Some(t) = i.chain.and_then(|c| c.task.as_ref()) {
        let who = t.creator_chain.first().map(|c| format!(" by {c}")).unwrap_or_default();
        if builtin_task {
            reasons.push(format!("tied to built-in task {} ({:?})", t.name, t.role));
            s = raise(s, w.builtin_task);
        } else {
            reasons.push(format!(
                "tied to task {} ({:?}), created{who} via {:?}",
                t.name, t.role, t.method
            ));
            s = raise(s, w.task);
        }
        if task_suspicion >= w.suspicious_task_at {
            reasons.push(format!(
                "the task itself stands out (suspicion {}): {}",
                task_suspicion,
                t.task_reasons.join("; ")
            ));
            s = raise(s, w.suspicious_task);
        }
    } else if let Some(c) = i.chain {
        match c.launcher {
            Launcher::Service => reasons.push("launched by a service".into()),
            Launcher::Wmi => {
                reasons.push("launched by WMI".into());
                s = raise(s, w.hidden_automation);
            }
            Launcher::TaskScheduler => {
                reasons.push("launched by the Schedule service, task not identified".into());
                s = raise(s, w.hidden_automation);
            }
            Launcher::BackgroundProcess => reasons.push("a background process started before the data".into()),
            Launcher::UserSession => reasons.push("started in a user session (by the user or a Run key)".into()),
            _ => {}
        }
    }
    if let Some(p) = &i.evidence.period {
        if p.matches {
            reasons.push(format!(
                "the trigger's interval {} matches the observed period {} ({:.0}% off)",
                human_secs(p.trigger.as_secs_f64()),
                human_secs(p.observed.as_secs_f64()),
                p.relative_error * 100.0
            ));
            s = raise(s, w.period_match);
        } else {
            reasons.push(format!(
                "the trigger's interval {} does not match the observed period {}",
                human_secs(p.trigger.as_secs_f64()),
                human_secs(p.observed.as_secs_f64())
            ));
        }
    }
    if let Some(a) = &i.evidence.runs
        && a.runs > 0
    {
        reasons.push(format!(
            "{} of {} task runs followed by a check-in; {} of {} check-ins after a run",
            a.runs_with_checkin, a.runs, a.checkins_after_run, a.checkins
        ));
        if a.runs_with_checkin * 2 >= a.runs {
            s = raise(s, w.runs_aligned);
        }
    }
    if i.evidence.starts_after_creation == Some(true) && i.chain.is_some_and(|c| c.launcher == Launcher::ScheduledTask)
    {
        reasons.push("the beacon starts after the task was created".into());
    }
    match i.direction {
        Direction::Outbound => reasons.push("local → external".into()),
        Direction::Unknown => {}
        d => {
            reasons.push(format!("{} (AN1113 asks about external destinations)", d.describe()));
            s *= if d == Direction::Internal {
                w.internal
            } else {
                w.other_direction
            };
        }
    }
    let (reach, of) = i.prevalence;
    if of >= 3 && reach * 2 > of {
        reasons.push(format!("reached by {reach} of {of} hosts: a shared service"));
        s *= w.shared_service;
    }
    if let Some((rule, action)) = i.allowlisted {
        match *action {
            Action::Suppress => {
                // Still reported (a rule can be wrong), at a tenth: below any other finding.
                reasons.push(format!("allowlisted by rule {rule}"));
                s *= 0.1;
            }
            Action::Downrank(f) => {
                reasons.push(format!("down-ranked ×{f} by rule {rule}"));
                s *= f;
            }
        }
    }
    if i.host_level {
        reasons.push("joined to the host by address and time only (no process identity)".into());
        s *= w.host_level;
    }
    let s = s.clamp(0.0, 1.0);
    let level = if s >= 0.75 {
        SeverityLevel::High
    } else if s >= 0.5 {
        SeverityLevel::Medium
    } else if s >= 0.25 {
        SeverityLevel::Low
    } else {
        SeverityLevel::Info
    };
    Severity {
        level,
        score: s,
        reasons,
    }
}
