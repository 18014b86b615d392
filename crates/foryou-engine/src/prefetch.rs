//! Software prefetching: starting a cache line's load before it is read.
//!
//! The engine's large arrays (a million items' statistics and vectors, the ANN graph) are read at
//! random, and each read waits for memory. Where a loop knows the next several addresses it
//! will read, asking for them all first lets the waits overlap instead of following one another.

/// Starts loading the memory of `v` into the processor's caches. A hint: it never faults and
/// changes nothing; on targets without the instruction it does nothing.
#[inline(always)]
pub fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in v.chunks((64 / std::mem::size_of::<T>().max(1)).max(1)) {
        // SAFETY: prefetching is a hint that never faults or changes memory; the pointer is
        // into a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}
