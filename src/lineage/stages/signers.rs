//! Stage 3b, signers: each process's image signature from the Sysmon 7 of its own executable,
//! where its Sysmon 1 did not carry one (how COM creators are judged).

use super::context::BuildContext;
use crate::winevent::EvidenceKind;

/// Gives processes without a signer the one their own image's Sysmon 7 logged (joined by
/// process GUID, else by PID at the load's time with the same image).
pub(super) fn attach(cx: &mut BuildContext<'_>) {
    for e in cx.evidence.iter().filter(|e| e.kind == EvidenceKind::ProcessImageLoad) {
        let Some(signer) = &e.signer else { continue };
        let hs = &mut cx.host[e.host];
        let by_pid = || {
            let j = hs.index.pid_at(&hs.procs, e.pid?, e.ts)?;
            let same = hs.procs[j.index()].image.as_deref().zip(e.image.as_deref());
            same.is_some_and(|(a, b)| a.eq_ignore_ascii_case(b)).then_some(j)
        };
        let Some(j) = e.guid.as_deref().and_then(|g| hs.index.guid(g)).or_else(by_pid) else {
            continue;
        };
        let p = &mut hs.procs[j.index()];
        if p.signer.is_none() {
            p.signer = Some(signer.clone());
        }
    }
}
