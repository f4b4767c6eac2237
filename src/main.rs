// mimalloc: the import's three threads hand rows to each other, and glibc's
// allocator is slow when one thread frees what another allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kartka::cli::main()
}
