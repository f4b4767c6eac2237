//! The `Home` helper: a fresh KARTKA_HOME in a temporary folder, with a copy
//! of the fixtures, and methods to run `kartka` and read the registry.

pub mod month;
pub mod sim;
pub mod store;

use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_kartka");

/// `KARTKA_PYTHON` (or python3) when it has the duckdb package; `None`
/// (the check is skipped, said on stderr) when it has not, unless
/// KARTKA_REQUIRE_DUCKDB is set (CI), which fails the test.
pub fn python_with_duckdb(what: &str) -> Option<String> {
    let python = std::env::var("KARTKA_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if has {
        return Some(python);
    }
    assert!(
        std::env::var_os("KARTKA_REQUIRE_DUCKDB").is_none(),
        "KARTKA_REQUIRE_DUCKDB is set but {python} has no duckdb"
    );
    eprintln!("skipping {what}: {python} has no duckdb (pip install duckdb)");
    None
}

/// A Python with pyspark and a Java to run it, when there is one
/// (`.ci/run` installs pyspark and sets KARTKA_REQUIRE_SPARK, so a test
/// cannot skip there).
pub fn python_with_spark(what: &str) -> Option<String> {
    let python = std::env::var("KARTKA_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python)
        .args(["-c", "import pyspark"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    if has {
        return Some(python);
    }
    assert!(
        std::env::var_os("KARTKA_REQUIRE_SPARK").is_none(),
        "KARTKA_REQUIRE_SPARK is set but {python} has no pyspark or there is no java"
    );
    eprintln!("skipping {what}: {python} has no pyspark (pip install pyspark) or no java");
    None
}

/// `soffice` when it is installed (`.ci/run` installs it and sets
/// KARTKA_REQUIRE_SOFFICE, so a test cannot skip there).
pub fn soffice() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("soffice"))
            .find(|p| p.is_file())
    });
    if found.is_none() && std::env::var_os("KARTKA_REQUIRE_SOFFICE").is_some() {
        panic!("KARTKA_REQUIRE_SOFFICE is set but soffice is not on PATH");
    }
    found
}

/// `book` printed to PDF through LibreOffice (a profile of its own under
/// `work`), as its text: pdftotext's words joined by single spaces.
pub fn pdf_text(soffice: &Path, book: &Path, work: &Path) -> String {
    let pdf_dir = work.join("pdf");
    let profile = work.join("lo-profile");
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&pdf_dir)
        .arg(book)
        .status()
        .unwrap();
    assert!(status.success());
    let pdf = pdf_dir.join(book.with_extension("pdf").file_name().unwrap());
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed beside soffice");
    String::from_utf8_lossy(&text.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to the end and keeps its exit code and output.
    pub fn of(cmd: &mut Command) -> Run {
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {:?}", self.stdout))
    }
}

/// The run, asserted to have exited 0 (its output in the failure message).
pub fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

pub struct Home {
    _dir: tempfile::TempDir,
    pub work: PathBuf,
    pub root: PathBuf,
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

impl Home {
    /// A work folder with `fixtures/` copied in (rejects files land there,
    /// never in the repository) and an initialised home.
    pub fn new() -> Home {
        let h = Home::uninitialised();
        let r = h.kartka(&["init"]);
        assert_eq!(r.code, 0, "init failed: {}", r.stderr);
        h
    }

    pub fn uninitialised() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().to_path_buf();
        copy_dir(&repo().join("fixtures"), &work.join("fixtures"));
        let root = work.join("home");
        Home {
            _dir: dir,
            work,
            root,
        }
    }

    pub fn fixture(&self, name: &str) -> PathBuf {
        self.work.join("fixtures/applicants").join(name)
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.work)
            .env("KARTKA_HOME", &self.root)
            // Through sudo as the home's owner, kartka takes the person
            // from SUDO_USER; the test user owns the home. init makes
            // test-clerk the admin.
            .env("SUDO_USER", "test-clerk")
            .env("KARTKA_PURPOSE", "integration test")
            .env("KARTKA_LOCK_WAIT", "1");
        cmd
    }

    pub fn kartka(&self, args: &[&str]) -> Run {
        Run::of(self.command().args(args))
    }

    /// Runs one argument line, as cargo-test-support's
    /// `p.cargo("build --bin foo")`: words split at spaces, a "double
    /// quoted" word kept whole.
    pub fn line(&self, line: &str) -> Run {
        let words = words(line);
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        self.kartka(&args)
    }

    /// Runs as another person: through sudo as the home's owner, kartka
    /// takes them from SUDO_USER. No purpose unless `args` give one.
    pub fn kartka_as(&self, user: &str, args: &[&str]) -> Run {
        Run::of(
            self.command()
                .env("SUDO_USER", user)
                .env_remove("KARTKA_PURPOSE")
                .args(args),
        )
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.root.join("registry.sqlite")).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// `a "b c" d` → [a, b c, d].
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut started) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

#[test]
fn an_argument_line_splits_like_a_shell_line() {
    assert_eq!(
        words(r#"taps clear F-7-123 --reason "a transfer, P14"  --json"#),
        [
            "taps",
            "clear",
            "F-7-123",
            "--reason",
            "a transfer, P14",
            "--json"
        ]
    );
    assert_eq!(words(r#"--purpose """#), ["--purpose", ""]);
    assert!(words("   ").is_empty());
}
