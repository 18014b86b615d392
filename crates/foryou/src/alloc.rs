//! The process's allocator: the system's, with every large block offered to the kernel for
//! transparent huge pages.
//!
//! The engine's hot arrays (the catalog's statistics and embeddings, the ANN graph and its
//! vectors, the co-engagement rows) are hundreds of megabytes read at random: with 4 KiB pages
//! nearly every read also misses the processor's address cache (TLB), and under a hypervisor
//! each such miss walks two sets of page tables. Kernels commonly hand out 2 MiB pages only to
//! memory that asks for them (`transparent_hugepage=madvise`), so blocks of at least
//! [`LARGE`] bytes ask (`madvise(MADV_HUGEPAGE)`); smaller ones are left as they are, so that
//! small, sparse allocations do not grow to 2 MiB of resident memory each. Where the kernel
//! gives huge pages to everything, or to nothing, this changes nothing.

use std::alloc::{GlobalAlloc, Layout, System};

/// The size of a huge page on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;
/// Blocks from this size on are offered huge pages.
const LARGE: usize = 4 * HUGE_PAGE;

/// The system allocator, asking for huge pages on large blocks (see the module documentation).
pub struct HugePages;

/// The whole huge pages inside the block `[addr, addr + len)`, if any.
fn whole_pages(addr: usize, len: usize) -> Option<(usize, usize)> {
    let start = addr.checked_next_multiple_of(HUGE_PAGE)?;
    let end = addr.checked_add(len)? & !(HUGE_PAGE - 1);
    (end > start).then_some((start, end))
}

/// Asks for huge pages on the whole huge pages inside `[p, p + len)`.
#[cfg(target_os = "linux")]
fn advise(p: *mut u8, len: usize) {
    if let Some((start, end)) = whole_pages(p as usize, len) {
        // SAFETY: the range lies inside a block this allocator just handed out; the advice
        // changes how the kernel backs the pages, never their contents. A failure (e.g. a
        // kernel without huge pages) leaves the memory as it was.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: *mut u8, _: usize) {}

// SAFETY: every call is forwarded to `System` with the same arguments; `advise` only adds a
// hint on memory `System` returned.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.alloc(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.alloc_zeroed(layout) };
        if layout.size() >= LARGE && !p.is_null() {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size >= LARGE && !p.is_null() {
            advise(p, new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_huge_pages_inside_the_block_are_advised() {
        const H: usize = HUGE_PAGE;
        assert_eq!(whole_pages(H, 4 * H), Some((H, 5 * H)));
        // An unaligned block: the partial pages at both ends are left alone.
        assert_eq!(whole_pages(H + 4096, 4 * H), Some((2 * H, 5 * H)));
        // Nothing whole inside.
        assert_eq!(whole_pages(H + 4096, H), None);
        assert_eq!(whole_pages(usize::MAX - 10, 4 * H), None);
    }

    #[test]
    fn large_blocks_keep_their_contents_through_growth() {
        let a = HugePages;
        let layout = Layout::from_size_align(LARGE, 64).unwrap();
        // SAFETY: the layout is non-zero; every pointer is checked and freed with its layout.
        unsafe {
            let p = a.alloc_zeroed(layout);
            assert!(!p.is_null());
            assert!(std::slice::from_raw_parts(p, LARGE).iter().all(|&b| b == 0));
            for i in (0..LARGE).step_by(4096) {
                *p.add(i) = (i / 4096) as u8;
            }
            let q = a.realloc(p, layout, 3 * LARGE);
            assert!(!q.is_null());
            for i in (0..LARGE).step_by(4096) {
                assert_eq!(*q.add(i), (i / 4096) as u8);
            }
            a.dealloc(q, Layout::from_size_align(3 * LARGE, 64).unwrap());
        }
    }
}
