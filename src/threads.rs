//! Work split over threads: scoped threads for the parallel read and the grouper's finishing,
//! and (with the `parallel` feature) rayon's pool for the small steps around the scoring.

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

/// `a()` and `b()`, side by side on rayon's pool with the `parallel` feature, else in turn.
pub(crate) fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// `f` of every item, the results in item order: on rayon's pool, a few items a job, with the
/// `parallel` feature.
pub(crate) fn map_in_order<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.into_par_iter().with_min_len(16).map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().map(f).collect()
    }
}

/// `f` of every item, the results in item order: on rayon's pool, one item a job, with the
/// `parallel` feature. For a few large items of uneven size (the hosts of a lineage build),
/// where [`map_in_order`] would put them all in one job.
pub(crate) fn map_each<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.into_par_iter().with_max_len(1).map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().map(f).collect()
    }
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

    #[test]
    fn map_in_order_keeps_the_order_and_join_both_results() {
        let squares = map_in_order((0..1000u64).collect(), |i| i * i);
        assert!(squares.iter().enumerate().all(|(i, &s)| s == (i * i) as u64));
        assert_eq!(join(|| 1, || "two"), (1, "two"));
        assert_eq!(map_each(vec![3u64, 1, 2], |i| i * 2), [6, 2, 4]);
    }
}
