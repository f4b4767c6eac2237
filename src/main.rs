// mimalloc: the import's three threads hand rows to each other, and glibc's
// allocator is slow when one thread frees what another allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (libmimalloc-sys names only the
/// options of mimalloc 2; in mimalloc 3's list it is the 16th).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Keep freed memory for reuse instead of handing it back to the kernel
    // after 10 ms: the month's passes free and take gigabytes in turn, and
    // each page handed back is zeroed again when taken (a third of
    // `taps flag`'s time went to that). kartka runs a command and exits.
    // SAFETY: sets a plain option value; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // No transparent huge pages for this process: where the kernel
    // compacts memory to find them (defrag "madvise", after another big
    // process), each fault stalls; `taps flag` on 10 M taps spent 9 s of
    // system time in that, against 2 s without.
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    kartka::cli::main()
}
