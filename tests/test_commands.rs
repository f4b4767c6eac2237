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
    // The pages run as the person "docs" (through sudo as the home's owner,
    // kartka takes the person from SUDO_USER); a step may run as someone
    // else with `$ SUDO_USER=olena kartka ...`. trycmd's global env would
    // override a step's, so the default is set by a wrapper instead.
    let wrapper = dir.path().join("kartka-as-docs");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nSUDO_USER=\"${{SUDO_USER:-docs}}\"\nexport SUDO_USER\nexec '{BIN}' \"$@\"\n"
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    {
        let cases = trycmd::TestCases::new();
        cases
            .register_bin("kartka", &wrapper)
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
