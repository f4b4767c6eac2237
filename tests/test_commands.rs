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
            // A page's own prepared files (e.g. a city's kartka.toml).
            let own = path.with_extension("in");
            if own.is_dir() {
                copy_dir(&own, &page.with_extension("in"));
            }
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
        // The few shell tools a page uses to show a file kartka wrote
        // (trycmd runs only the programs it is given).
        for tool in ["grep", "head", "sed", "ls"] {
            if let Some(path) = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| std::path::Path::new(d).join(tool))
                .find(|p| p.is_file())
            {
                cases.register_bin(tool, path);
            }
        }
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

/// The codes a page's `## Exit codes` table lists.
fn page_codes(page: &str) -> std::collections::BTreeSet<u8> {
    let text = std::fs::read_to_string(repo().join("commands").join(page)).unwrap();
    let section = text
        .split("## Exit codes")
        .nth(1)
        .unwrap_or_else(|| panic!("{page}: no ## Exit codes"));
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            l.trim_start_matches('|')
                .split('|')
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .collect()
}

/// The pages' exit-code tables and `--help` say what `kartka::exit::TABLE`
/// says: every code a page lists is one the table gives its commands (or
/// every command: the home, the lock, the configuration), and every code
/// the table gives a command is on its pages.
#[test]
fn the_pages_and_the_help_list_the_exit_codes_of_the_one_table() {
    use kartka::exit::codes;
    let global: std::collections::BTreeSet<u8> = codes("kartka").iter().map(|c| c.code()).collect();
    let pages: &[(&[&str], &[&str])] = &[
        (&["init.md"], &["init"]),
        (&["import.md"], &["import"]),
        (&["eligibility.md"], &["eligibility"]),
        (&["cards.md"], &["cards"]),
        (&["fleet.md"], &["fleet"]),
        (&["dock.md"], &["dock"]),
        (&["taps.md", "flags.md"], &["taps"]),
        (&["compensation.md"], &["compensation", "reconcile"]),
        (&["backup.md"], &["backup", "restore"]),
        (&["open-data.md"], &["open-data"]),
    ];
    for (files, commands) in pages {
        let listed: std::collections::BTreeSet<u8> =
            files.iter().flat_map(|f| page_codes(f)).collect();
        let table: std::collections::BTreeSet<u8> = commands
            .iter()
            .flat_map(|c| codes(c))
            .map(|c| c.code())
            .collect();
        for code in &listed {
            assert!(
                table.contains(code) || global.contains(code),
                "{files:?} lists {code}, which the table does not give {commands:?}"
            );
        }
        for code in &table {
            assert!(
                listed.contains(code),
                "{files:?} does not list {code}, which the table gives {commands:?}"
            );
        }
    }
    // `--help` is rendered from the table.
    for command in [
        "import",
        "cards",
        "dock",
        "taps",
        "compensation",
        "backup",
        "report",
        "open-data",
    ] {
        let args: Vec<&str> = match command {
            "import" => vec!["import", "applicants", "--help"],
            c => vec![c, "--help"],
        };
        let out = std::process::Command::new(BIN)
            .args(&args)
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let want = kartka::exit::help(command)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            help.contains(&want),
            "{command} --help:\n{help}\nwants:\n{want}"
        );
    }
}

/// Every benchmark script runs from a fresh clone: each target it builds
/// (`--bin`, `--example`, `-p`) is in the workspace, each script it calls
/// is in the repository (and `cargo clippy --all-targets` in `.ci/run`
/// compiles the examples).
#[test]
fn every_target_and_script_the_scripts_name_is_in_the_repository() {
    let root = repo();
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members: Vec<String> = text
        .lines()
        .find(|l| l.starts_with("members"))
        .unwrap()
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    // Package name → its folder.
    let mut packages = std::collections::BTreeMap::new();
    for m in &members {
        let manifest = std::fs::read_to_string(root.join(m).join("Cargo.toml")).unwrap();
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        packages.insert(name, root.join(m));
    }
    let bins = |dir: &std::path::Path| -> Vec<String> {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let mut out: Vec<String> = manifest
            .split("[[bin]]")
            .skip(1)
            .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("name = ")))
            .map(|n| n.trim_matches('"').to_string())
            .collect();
        if dir.join("src/main.rs").exists() {
            out.push(dir.file_name().unwrap().to_string_lossy().into_owned());
        }
        out
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let script = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let words: Vec<&str> = script.split_whitespace().collect();
        for w in words.windows(2) {
            match w[0] {
                "--example" => {
                    assert!(
                        root.join("examples").join(format!("{}.rs", w[1])).exists(),
                        "{name}: no example {}",
                        w[1]
                    );
                    checked += 1;
                }
                "-p" => {
                    assert!(packages.contains_key(w[1]), "{name}: no package {}", w[1]);
                    checked += 1;
                }
                "--bin" => {
                    let all: Vec<String> = packages
                        .iter()
                        .flat_map(|(p, dir)| {
                            let mut b = bins(dir);
                            if dir.join("src/main.rs").exists() {
                                b.push(p.clone());
                            }
                            b
                        })
                        .collect();
                    assert!(
                        all.iter().any(|b| b == w[1]),
                        "{name}: no bin {} in {all:?}",
                        w[1]
                    );
                    checked += 1;
                }
                _ => {}
            }
        }
        for called in script
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .filter_map(|w| {
                w.strip_prefix("scripts/")
                    .or_else(|| w.strip_prefix("$repo/scripts/"))
            })
        {
            assert!(
                root.join("scripts").join(called).exists(),
                "{name}: calls scripts/{called}, which is not in the repository"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} names checked");
}
