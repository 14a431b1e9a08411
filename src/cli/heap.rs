//! The process's memory behaviour, tuned for a command that runs once and exits.
//!
//! The allocator (mimalloc) is built without transparent huge pages: with them, the first
//! allocation of every run faults in a 2 MiB page that the kernel zeroes, close to a tenth of a
//! small file's run. Large inputs do gain from huge pages (without them an 8 MB file decrypts
//! about a third slower, in page faults), so [`input_size`] asks for them as soon as a large
//! input's size is known, before its buffer is touched. [`exit`] ends the
//! process without the allocator's exit-time collection, which hands each freed page back to the
//! kernel one `madvise` at a time just before the kernel reclaims them all.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// From this input size on, the heap is given transparent huge pages.
const HUGE_PAGES_FROM: usize = 512 * 1024;

/// Tells the heap how large an input the command holds; a large one gets huge pages.
pub(crate) fn input_size(len: usize) {
    static ASKED: AtomicBool = AtomicBool::new(false);
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
    use super::mapping_around;

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
