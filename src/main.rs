// mimalloc: the import's three threads hand rows to each other, and glibc's
// allocator is slow when one thread frees what another allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // `kartka __read-workbook ...`: parse an untrusted workbook for a
    // parent kartka, under its memory and time limits (intake::isolate).
    let mut args = std::env::args_os().skip(1);
    if args
        .next()
        .is_some_and(|a| a == kartka::intake::isolate::CHILD_ARG)
    {
        let rest: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
        return kartka::intake::isolate::child_main(&rest);
    }
    // Keep freed memory for reuse instead of handing it back to the kernel
    // after 10 ms: the month's passes free and take gigabytes in turn, and
    // each page handed back is zeroed again when taken. kartka runs a
    // command and exits; `taps flag` turns it back on when it slices.
    kartka::memory::hand_back_freed(false);
    kartka::memory::no_huge_pages();
    kartka::cli::main()
}
