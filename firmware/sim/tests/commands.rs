//! `commands/*.md` are executable examples, run in a fresh folder each.

#[test]
fn command_pages_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
    let page = dir.path().join("kartka-sim.md");
    std::fs::copy(here.join("kartka-sim.md"), &page).unwrap();
    let work = dir.path().join("kartka-sim.in");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(here.join("bad-taps.csv"), work.join("bad-taps.csv")).unwrap();
    trycmd::TestCases::new()
        .register_bin(
            "kartka-sim",
            std::path::Path::new(env!("CARGO_BIN_EXE_kartka-sim")),
        )
        .case(&page);
}
