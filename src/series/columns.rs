//! The grouper's push-order columns (narrow while values fit) and the counting sort that turns
//! them into per-key series.

/// A push-order column kept in a narrow integer type while every value fits, widened once (a
/// copy, then appends) when one does not. Lossless; values go in and come out as `W`.
#[derive(Debug, Clone)]
pub(super) enum Widening<N, W> {
    Narrow(Vec<N>),
    Wide(Vec<W>),
}

/// Per-event key ids in push order: 16 bits each while there are at most 65 536 keys (a whole
/// conn.log usually has far fewer), 32 bits once a key beyond that appears.
pub(super) type IdColumn = Widening<u16, u32>;

/// Per-event sizes in push order: 32 bits each while every size fits (payload byte counts of a
/// single connection almost always do), 64 bits otherwise.
pub(super) type SizeColumn = Widening<u32, u64>;

/// Appends to a push-order column, growing it by half its length when full: doubling would
/// leave up to half of a long column unused (on a million events, megabytes of the peak).
#[inline(always)]
pub(super) fn push_grown<T>(v: &mut Vec<T>, value: T) {
    if v.len() == v.capacity() {
        grow(v);
    }
    v.push(value);
}

#[cold]
fn grow<T>(v: &mut Vec<T>) {
    v.reserve_exact((v.capacity() / 2).max(1024));
}

impl<N: Copy + TryFrom<W> + Into<W>, W: Copy> Widening<N, W> {
    #[inline]
    pub(super) fn push(&mut self, value: W) {
        match self {
            Widening::Narrow(v) => match N::try_from(value) {
                Ok(x) => push_grown(v, x),
                Err(_) => self.widen_and_push(value),
            },
            Widening::Wide(v) => push_grown(v, value),
        }
    }

    #[cold]
    fn widen_and_push(&mut self, value: W) {
        if let Widening::Narrow(v) = self {
            let mut wide = Vec::with_capacity(v.capacity().max(v.len() + 1));
            wide.extend(v.iter().map(|&x| x.into()));
            *self = Widening::Wide(wide);
        }
        if let Widening::Wide(v) = self {
            v.push(value);
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Widening::Narrow(v) => v.len(),
            Widening::Wide(v) => v.len(),
        }
    }

    pub(super) fn reserve(&mut self, n: usize) {
        match self {
            Widening::Narrow(v) => v.reserve(n),
            Widening::Wide(v) => v.reserve(n),
        }
    }

    pub(super) fn clear(&mut self) {
        match self {
            Widening::Narrow(v) => v.clear(),
            Widening::Wide(v) => v.clear(),
        }
    }
}

/// A key id as stored in an id column.
pub(super) trait KeyIndex: Copy {
    fn index(self) -> usize;
}

impl KeyIndex for u16 {
    #[inline]
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl KeyIndex for u32 {
    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

/// Frees the push-order columns, each shrunk in place to almost nothing first.
///
/// Shrinking returns the pages of a large column to the system (glibc: `mremap`) without a
/// `free` of the large block, which would raise glibc's dynamic mmap threshold to the block's
/// size: every later allocation up to that size (all of the scorer's buffers) would then come
/// from heaps that are rarely trimmed, and the process would keep megabytes it no longer uses.
pub(super) fn release(ids: IdColumn, sizes: SizeColumn) {
    fn shrink<T>(mut v: Vec<T>) {
        v.clear();
        v.shrink_to(1);
    }
    match ids {
        IdColumn::Narrow(v) => shrink(v),
        IdColumn::Wide(v) => shrink(v),
    }
    match sizes {
        SizeColumn::Narrow(v) => shrink(v),
        SizeColumn::Wide(v) => shrink(v),
    }
}

/// Events per key.
pub(super) fn count<I: KeyIndex>(ids: &[I], counts: &mut [usize]) {
    for &id in ids {
        if let Some(c) = counts.get_mut(id.index()) {
            *c += 1;
        }
    }
}

/// One column of a stable counting sort: each value goes to its key's next free slot.
/// `cursor[k]` starts at key `k`'s offset; out-of-range ids or slots are skipped (they cannot
/// occur: ids come from the grouper and the offsets from its own counts).
#[inline]
pub(super) fn scatter<I: KeyIndex, T: Copy, U>(
    ids: &[I],
    values: &[T],
    cursor: &mut [usize],
    out: &mut [U],
    f: impl Fn(T) -> U,
) {
    for (&id, &v) in ids.iter().zip(values) {
        if let Some(c) = cursor.get_mut(id.index()) {
            if let Some(slot) = out.get_mut(*c) {
                *slot = f(v);
            }
            *c += 1;
        }
    }
}
