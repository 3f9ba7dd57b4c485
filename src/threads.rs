//! Work split over scoped threads: the one pattern the parallel read and the grouper's
//! finishing share.

/// `f` of every job, the first on this thread and each other on a scoped thread of its own,
/// the results in job order. A panic in `f` is the caller's: it is passed on.
pub(crate) fn each_on_own_thread<J: Send, R: Send>(jobs: Vec<J>, f: impl Fn(J) -> R + Sync) -> Vec<R> {
    let mut jobs = jobs.into_iter();
    let Some(first) = jobs.next() else {
        return Vec::new();
    };
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs.map(|j| scope.spawn(move || f(j))).collect();
        let mut all = Vec::with_capacity(handles.len() + 1);
        all.push(f(first));
        for h in handles {
            all.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_job_order() {
        assert_eq!(
            each_on_own_thread((0..5).collect(), |i: u32| i * 10),
            [0, 10, 20, 30, 40]
        );
        assert!(each_on_own_thread(Vec::<u32>::new(), |i| i).is_empty());
    }
}
