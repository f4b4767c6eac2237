//! The command pages in commands/ are executable examples: each runs in a
//! fresh folder holding a copy of fixtures/, so docs and behaviour cannot drift.

use crate::common::{BIN, copy_dir, repo};

#[test]
fn command_pages_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(repo().join("commands")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let page = dir.path().join(path.file_name().unwrap());
            std::fs::copy(&path, &page).unwrap();
            // <page>.in/ is trycmd's working folder for the page.
            copy_dir(
                &repo().join("fixtures"),
                &page.with_extension("in").join("fixtures"),
            );
            pages.push(page);
        }
    }
    assert!(pages.len() >= 2);
    {
        let cases = trycmd::TestCases::new();
        cases
            .register_bin("kartka", std::path::Path::new(BIN))
            .env("KARTKA_OPERATOR", "docs")
            .env("KARTKA_LOCK_WAIT", "1")
            .env("KARTKA_HOME", "home");
        for page in &pages {
            cases.case(page);
        }
        // The cases run when dropped, here.
    }
    // `TRYCMD=overwrite` rewrites the copies; bring them back so the
    // change can be reviewed with `git diff`.
    if std::env::var("TRYCMD").is_ok_and(|v| v == "overwrite") {
        for page in &pages {
            std::fs::copy(
                page,
                repo().join("commands").join(page.file_name().unwrap()),
            )
            .unwrap();
        }
    }
}
