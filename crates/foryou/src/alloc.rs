//! The process's allocator: the system's, with every large block offered to the kernel for
//! transparent huge pages, and the system allocator's own heaps too where it is glibc's.
//!
//! The engine's hot arrays (the catalog's statistics and embeddings, the ANN graph and its
//! vectors) are hundreds of megabytes read at random: with 4 KiB pages nearly every read also
//! misses the processor's address cache (TLB), and under a hypervisor each such miss walks two
//! sets of page tables. Kernels commonly hand out 2 MiB pages only to memory that asks for them
//! (`transparent_hugepage=madvise`), so blocks of at least [`LARGE`] bytes ask
//! (`madvise(MADV_HUGEPAGE)`). Where the kernel gives huge pages to everything, or to nothing,
//! this changes nothing.
//!
//! The small blocks (a co-engagement row per item, each person's history and affinities) add up
//! to as much memory, read as much at random, but they come from the system allocator's heaps,
//! and advice given after a small block is handed out comes too late: the allocator has
//! already written the block's header, so its page is mapped small (measured: BENCHMARKS.md,
//! the tenth stop). glibc asks for huge pages on its heaps, and on the blocks it maps on their
//! own, as it makes them when its tunable `glibc.malloc.hugetlb=1` is set, and it reads
//! tunables only as a process starts: so [`heap_huge_pages`] starts the process again, once,
//! with the tunable added. The bench's peak memory did not grow with it (2.17 → 2.18 GB).

use std::alloc::{GlobalAlloc, Layout, System};

/// The size of a huge page on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;
/// Blocks from this size on are offered huge pages.
const LARGE: usize = 4 * HUGE_PAGE;

/// The system allocator, asking for huge pages on large blocks (see the module documentation).
pub struct HugePages;

/// The tunable that has glibc's allocator ask for huge pages on its heaps.
pub const HEAP_TUNABLE: &str = "glibc.malloc.hugetlb";

/// The value that `tunables` (`GLIBC_TUNABLES`: `name=value` pairs joined by `:`) give
/// [`HEAP_TUNABLE`], if they name it.
fn heap_setting(tunables: &str) -> Option<&str> {
    tunables
        .split(':')
        .find_map(|kv| kv.strip_prefix(HEAP_TUNABLE)?.strip_prefix('='))
}

/// Whether the environment `tunables` (`GLIBC_TUNABLES`) already says how glibc's heaps are
/// paged, and if not, the value that adds it.
pub fn with_heap_tunable(tunables: Option<&str>) -> Option<String> {
    match tunables {
        Some(t) if heap_setting(t).is_some() => None,
        Some(t) if !t.is_empty() => Some(format!("{t}:{HEAP_TUNABLE}=1")),
        _ => Some(format!("{HEAP_TUNABLE}=1")),
    }
}

/// Starts this program again, with the same arguments, with glibc's heaps on huge pages,
/// unless `GLIBC_TUNABLES` already says how they are paged (so `glibc.malloc.hugetlb=0` turns
/// it off). Returns only where that is not done: the environment said, another C library, or
/// the program could not be started again (it then runs as it is).
pub fn heap_huge_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let current = match std::env::var("GLIBC_TUNABLES") {
            Ok(t) => Some(t),
            Err(std::env::VarError::NotPresent) => None,
            // Not text: left as the operator wrote it.
            Err(std::env::VarError::NotUnicode(_)) => return,
        };
        let Some(value) = with_heap_tunable(current.as_deref()) else {
            return;
        };
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut cmd = std::process::Command::new(exe);
        if let Some(name) = args.next() {
            cmd.arg0(name);
        }
        // `exec` returns only on failure, and then the process carries on as it is.
        let _ = cmd.args(args).env("GLIBC_TUNABLES", value).exec();
    }
}

/// Whether glibc's heaps were asked onto huge pages (for the benchmarks' report): the tunable
/// is set and not `0`.
pub fn heap_on_huge_pages() -> bool {
    cfg!(all(target_os = "linux", target_env = "gnu"))
        && std::env::var("GLIBC_TUNABLES").is_ok_and(|t| heap_setting(&t).is_some_and(|v| v != "0"))
}

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
    fn the_heap_tunable_is_added_once_and_an_operators_choice_kept() {
        let on = format!("{HEAP_TUNABLE}=1");
        assert_eq!(with_heap_tunable(None), Some(on.clone()));
        assert_eq!(with_heap_tunable(Some("")), Some(on.clone()));
        assert_eq!(
            with_heap_tunable(Some("glibc.malloc.arena_max=2")),
            Some(format!("glibc.malloc.arena_max=2:{on}"))
        );
        // Once added, the program started again does not start itself a third time.
        assert_eq!(with_heap_tunable(Some(&on)), None);
        // An operator who turned it off keeps it off.
        assert_eq!(
            with_heap_tunable(Some(&format!("glibc.malloc.arena_max=2:{HEAP_TUNABLE}=0"))),
            None
        );
        // A longer name that merely starts the same is another tunable.
        assert_eq!(
            with_heap_tunable(Some(&format!("{HEAP_TUNABLE}x=1"))),
            Some(format!("{HEAP_TUNABLE}x=1:{on}"))
        );
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
