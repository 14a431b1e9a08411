//! The process's memory behaviour, tuned for a command that runs once and exits.
//!
//! Two allocators: the C library's until the command holds a large input, mimalloc from then
//! on ([`Heap`]). mimalloc is markedly faster at the many small strings a large file's parse
//! allocates (with glibc malloc alone an 8 MB file decrypts about 60 % slower), but its
//! start-up (its page map and first pages) costs about 0.2 ms, a tenth of a small file's whole
//! run, which the C library's allocator does not. mimalloc is built without transparent huge
//! pages: with them, its first allocation faults in a 2 MiB page that the kernel zeroes. Large
//! inputs do gain from huge pages (without them an 8 MB file decrypts about a third slower, in
//! page faults), so [`input_size`] asks for them as soon as a large input's size is known,
//! before its buffer is touched. [`exit`] ends the process without the allocator's exit-time
//! collection, which hands each freed page back to the kernel one `madvise` at a time just
//! before the kernel reclaims them all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// From this input size on, the heap is given transparent huge pages.
const HUGE_PAGES_FROM: usize = 512 * 1024;

/// From an allocation (or an announced input) of this size on, new memory comes from mimalloc.
const MIMALLOC_FROM: usize = 512 * 1024;

/// Set once, never cleared: allocations come from mimalloc. Every block mimalloc gave is
/// allocated after it was set, by a thread that saw it set; a thread that frees such a block
/// got it through something that orders the two (a channel, a join, a lock), so it sees it set.
static LARGE: AtomicBool = AtomicBool::new(false);

// SAFETY (declaration): mimalloc's C library, linked in by the `mimalloc` crate, exports this
// function (`mimalloc.h`); it only reads mimalloc's page map, and any address may be asked
// about, including before mimalloc's first allocation.
extern "C" {
    fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
}

/// The global allocator: the C library's, then mimalloc once the command holds a large input
/// (see the module's documentation). A block is always freed or resized by the allocator that
/// gave it: mimalloc's own page map says which blocks are its.
pub struct Heap;

impl Heap {
    /// Whether `ptr`, a block of this heap, came from mimalloc.
    fn from_mimalloc(ptr: *mut u8) -> bool {
        // SAFETY: the function only looks the address up in mimalloc's page map.
        LARGE.load(Ordering::Relaxed) && unsafe { mi_is_in_heap_region(ptr.cast()) }
    }

    /// Whether a new block of `size` bytes comes from mimalloc (a large one switches over).
    fn use_mimalloc(size: usize) -> bool {
        if size >= MIMALLOC_FROM {
            LARGE.store(true, Ordering::Relaxed);
            return true;
        }
        LARGE.load(Ordering::Relaxed)
    }
}

// SAFETY: every method hands the request to one of two allocators that keep `GlobalAlloc`'s
// contract, and a block is given back (freed or resized) only to the allocator that gave it.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::use_mimalloc(layout.size()) {
            mimalloc::MiMalloc.alloc(layout)
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::use_mimalloc(layout.size()) {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::from_mimalloc(ptr) {
            mimalloc::MiMalloc.dealloc(ptr, layout)
        } else {
            System.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::from_mimalloc(ptr) {
            return mimalloc::MiMalloc.realloc(ptr, layout, new_size);
        }
        // A block of the C library's stays there as it grows; a large one switches the blocks
        // that follow over.
        if new_size >= MIMALLOC_FROM {
            LARGE.store(true, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// Tells the heap how large an input the command holds; a large one gets huge pages.
pub(crate) fn input_size(len: usize) {
    static ASKED: AtomicBool = AtomicBool::new(false);
    if len >= MIMALLOC_FROM {
        LARGE.store(true, Ordering::Relaxed);
    }
    if len >= HUGE_PAGES_FROM && !ASKED.swap(true, Ordering::Relaxed) {
        prefer_huge_pages();
    }
}

/// Marks the mapping that holds the allocator's heap for transparent huge pages (Linux; a hint
/// that the kernel may ignore, so every failure is silently nothing).
#[cfg(target_os = "linux")]
fn prefer_huge_pages() {
    // A fresh small allocation lies in the allocator's arena: the mapping around it is the heap.
    let probe = Box::new(0u64);
    let at = std::ptr::from_ref::<u64>(&probe) as usize;
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return };
    let Some((start, end)) = mapping_around(&maps, at) else { return };
    // SAFETY: the range is a whole mapping of this process, and MADV_HUGEPAGE changes only how
    // the kernel backs its pages, never their contents or who may read them.
    let _ =
        unsafe { rustix::mm::madvise(start as *mut std::ffi::c_void, end - start, rustix::mm::Advice::LinuxHugepage) };
}

#[cfg(not(target_os = "linux"))]
fn prefer_huge_pages() {}

/// The `start-end` range of the `/proc/self/maps` line that contains `at`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn mapping_around(maps: &str, at: usize) -> Option<(usize, usize)> {
    maps.lines().find_map(|line| {
        let range = line.split(' ').next()?;
        let (start, end) = range.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        (start <= at && at < end).then_some((start, end))
    })
}

/// What Rust's start-up does that the CLI needs (see `main.rs`): descriptors 0, 1 and 2 open
/// (on `/dev/null` when the caller closed them, so that no file the command opens takes their
/// place), and SIGPIPE ignored (a closed pipe is a write error, reported as such). Also, the
/// main thread may grow its stack to [`gitseal_formats::TREE_STACK`].
pub fn start() {
    deep_stack();
    for fd in 0..3 {
        // SAFETY: the descriptor is only looked at.
        let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        if rustix::io::fcntl_getfd(fd) == Err(rustix::io::Errno::BADF) {
            // The lowest free descriptor is the closed one; it stays open for the process.
            if let Ok(null) = rustix::fs::open("/dev/null", rustix::fs::OFlags::RDWR, rustix::fs::Mode::empty()) {
                std::mem::forget(null);
            }
        }
    }
    // SAFETY: sets a signal's disposition to "ignore", before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Lets the main thread's stack grow to [`gitseal_formats::TREE_STACK`], which the deepest
/// document accepted needs (a usual limit of 8 MiB takes the walk about 1,200 levels deep).
/// Linux checks the limit as the stack grows, and leaves at least 128 MiB below it free of
/// mappings. Where the hard limit is lower, the stack may grow to it. Programs the CLI runs
/// (an editor, `exec-env`'s command, gpg) inherit the raised soft limit.
fn deep_stack() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: reads the limit into a valid struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } != 0 {
        return;
    }
    let wanted = (gitseal_formats::TREE_STACK as libc::rlim_t).min(limit.rlim_max);
    if limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < wanted {
        limit.rlim_cur = wanted;
        // SAFETY: raises the soft limit within the hard one; a refusal leaves it as it was.
        unsafe { libc::setrlimit(libc::RLIMIT_STACK, &limit) };
    }
}

/// Ends the process with `code` once standard output and error are flushed, without exit
/// handlers: everything the command owns has been dropped (and its secrets zeroed) by then.
pub fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process; nothing of this process runs after it.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::{mapping_around, Heap, LARGE};
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::Ordering;

    /// Once mimalloc is in use, the heap still tells its blocks from the C library's, of every
    /// size (small ones from the C library's main heap, large ones from their own mappings),
    /// and a block of either kind allocated and freed through the heap goes back where it came
    /// from.
    #[test]
    fn each_block_goes_back_to_the_allocator_that_gave_it() {
        LARGE.store(true, Ordering::Relaxed);
        for size in [1, 24, 4096, 200 << 10, 4 << 20] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: non-zero sizes; each block is freed by the allocator that gave it.
            unsafe {
                let c = System.alloc(layout);
                let m = mimalloc::MiMalloc.alloc(layout);
                assert!(!c.is_null() && !m.is_null());
                assert!(!Heap::from_mimalloc(c), "a C library block of {size} bytes taken for mimalloc's");
                assert!(Heap::from_mimalloc(m), "a mimalloc block of {size} bytes taken for the C library's");
                System.dealloc(c, layout);
                mimalloc::MiMalloc.dealloc(m, layout);
                let h = Heap.alloc(layout);
                assert!(Heap::from_mimalloc(h), "the heap gave a block of {size} bytes from the C library");
                let h = Heap.realloc(h, layout, size * 2);
                assert!(Heap::from_mimalloc(h));
                Heap.dealloc(h, Layout::from_size_align(size * 2, 8).unwrap());
            }
        }
    }

    const MAPS: &str = "\
55d0c0a00000-55d0c0a21000 r--p 00000000 fe:00 1234   /usr/bin/gitseal
7f0000000000-7f0040000000 rw-p 00000000 00:00 0 
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]
";

    #[test]
    fn the_mapping_that_holds_an_address_is_found_by_its_bounds() {
        assert_eq!(mapping_around(MAPS, 0x7f0000000000), Some((0x7f0000000000, 0x7f0040000000)));
        assert_eq!(mapping_around(MAPS, 0x7f003fffffff), Some((0x7f0000000000, 0x7f0040000000)));
        assert_eq!(mapping_around(MAPS, 0x7f0040000000), None);
        assert_eq!(mapping_around(MAPS, 0x1000), None);
        assert_eq!(mapping_around("garbage\nzz-yy rw-p\n", 0x1000), None);
    }
}
