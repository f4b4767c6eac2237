//! The process's memory policy, set through mimalloc (the binary's global
//! allocator; in the library's own tests it is not, and these calls only
//! set an option nothing reads).

/// mimalloc's `mi_option_purge_delay` (libmimalloc-sys names only the
/// options of mimalloc 2; in mimalloc 3's list it is the 16th).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Whether freed memory goes back to the kernel (after mimalloc's default
/// 10 ms) or is kept for reuse. Keeping it saves the zeroing of every page
/// taken again (a third of `taps flag`'s time on 10 M taps); handing it
/// back keeps the resident size to what is live, which a run sliced to
/// bound its memory wants.
pub fn hand_back_freed(yes: bool) {
    // SAFETY: sets a plain option value; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, if yes { 1000 } else { -1 }) };
}

/// No transparent huge pages for this process: where the kernel compacts
/// memory to find them (defrag "madvise", after another big process ran),
/// each fault stalls; `taps flag` on 10 M taps spent 9 s of system time in
/// that, against 2 s without.
pub fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The peak resident memory, in MiB, of this process (`VmHWM` in
/// /proc/self/status: since it started this program) and of the largest
/// child it waited for (`getrusage`), for measuring runs on hostile input.
pub fn peak_mib() -> (u64, u64) {
    let here = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let children = if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0 {
        usage.ru_maxrss as u64
    } else {
        0
    };
    (here / 1024, children / 1024)
}
