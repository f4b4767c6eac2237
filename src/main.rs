fn main() -> std::process::ExitCode {
    kartka::cli::main()
}
