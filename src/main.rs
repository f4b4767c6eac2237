// mimalloc: the import's three threads hand rows to each other, and glibc's
// allocator is slow when one thread frees what another allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Keep freed memory for reuse instead of handing it back to the kernel
    // after 10 ms: the month's passes free and take gigabytes in turn, and
    // each page handed back is zeroed again when taken. kartka runs a
    // command and exits; `taps flag` turns it back on when it slices.
    kartka::memory::hand_back_freed(false);
    kartka::memory::no_huge_pages();
    kartka::cli::main()
}
