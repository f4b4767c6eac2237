//! Reading an untrusted `.xls` or `.ods` in a child process with a memory
//! limit. calamine builds these sheets as dense grids sized from the file's
//! own records; a damaged record can ask for terabytes, and the failed
//! allocation aborts the process, which no panic guard catches. In a child
//! (the same `kartka` binary, `kartka __read-workbook`), an abort or an
//! exhausted limit ends only the child: the import says the file is damaged
//! and goes on with nothing half-read. The child sends the cells back as
//! JSON on its standard output.
//!
//! `.xlsx` is not sent here: it is streamed cell by cell by kartka's own
//! code (`read::stream_xlsx`), which allocates per cell.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};

/// The argument that makes `kartka` a workbook reader.
pub const CHILD_ARG: &str = "__read-workbook";

/// How long a child may take before it is stopped.
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

static READER: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Sets the executable that reads workbooks (the `kartka` binary); for
/// programs and tests that link the library. `kartka` itself finds itself.
pub fn set_reader(exe: impl Into<PathBuf>) {
    let _ = READER.set(Some(exe.into()));
}

/// The reader executable: the one set, else this process when it is
/// `kartka`; `None` in other programs (they parse in-process, guarded
/// against panics only).
pub fn reader() -> Option<&'static Path> {
    READER
        .get_or_init(|| {
            let exe = std::env::current_exe().ok()?;
            (exe.file_stem()? == "kartka").then_some(exe)
        })
        .as_deref()
}

/// The memory a child may use for a file of `len` bytes: generous for any
/// real sheet (an .xls holds at most 65,536 × 256 cells), far below what a
/// damaged size field asks for.
fn memory_limit(len: usize) -> u64 {
    (2u64 << 30).max(len as u64 * 64).min(8u64 << 30)
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct WireSheet {
    pub name: String,
    pub origin: (usize, usize),
    pub rows: Vec<Vec<Cell>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) enum Cell {
    E,
    S(String),
    F(f64),
    I(i64),
    B(bool),
    /// Serial value, duration, 1904 epoch.
    D(f64, bool, bool),
    Di(String),
    Du(String),
    X(u8),
}

impl Cell {
    pub fn of(d: &Data) -> Cell {
        match d {
            Data::Empty => Cell::E,
            Data::String(s) => Cell::S(s.clone()),
            Data::Float(f) => Cell::F(*f),
            Data::Int(i) => Cell::I(*i),
            Data::Bool(b) => Cell::B(*b),
            Data::DateTime(dt) => {
                let kind = if dt.is_duration() {
                    ExcelDateTimeType::TimeDelta
                } else {
                    ExcelDateTimeType::DateTime
                };
                let as_1900 = ExcelDateTime::new(dt.as_f64(), kind, false);
                Cell::D(dt.as_f64(), dt.is_duration(), as_1900 != *dt)
            }
            Data::DateTimeIso(s) => Cell::Di(s.clone()),
            Data::DurationIso(s) => Cell::Du(s.clone()),
            Data::Error(e) => Cell::X(match e {
                CellErrorType::Div0 => 0,
                CellErrorType::NA => 1,
                CellErrorType::Name => 2,
                CellErrorType::Null => 3,
                CellErrorType::Num => 4,
                CellErrorType::Ref => 5,
                CellErrorType::Value => 6,
                _ => 7,
            }),
        }
    }

    pub fn data(self) -> Data {
        match self {
            Cell::E => Data::Empty,
            Cell::S(s) => Data::String(s),
            Cell::F(f) => Data::Float(f),
            Cell::I(i) => Data::Int(i),
            Cell::B(b) => Data::Bool(b),
            Cell::D(v, duration, is_1904) => Data::DateTime(ExcelDateTime::new(
                v,
                if duration {
                    ExcelDateTimeType::TimeDelta
                } else {
                    ExcelDateTimeType::DateTime
                },
                is_1904,
            )),
            Cell::Di(s) => Data::DateTimeIso(s),
            Cell::Du(s) => Data::DurationIso(s),
            Cell::X(e) => Data::Error(match e {
                0 => CellErrorType::Div0,
                1 => CellErrorType::NA,
                2 => CellErrorType::Name,
                3 => CellErrorType::Null,
                4 => CellErrorType::Num,
                5 => CellErrorType::Ref,
                6 => CellErrorType::Value,
                _ => CellErrorType::GettingData,
            }),
        }
    }
}

/// The child's result: the sheets, or the reason the file cannot be read.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) enum Reply {
    Sheets(Vec<WireSheet>),
    Unreadable(String),
}

/// Runs `exe __read-workbook EXT` on `bytes` under the memory limit.
pub(super) fn read_in_child(exe: &Path, ext: &str, bytes: &[u8]) -> Result<Reply, String> {
    let limit = memory_limit(bytes.len());
    let mut cmd = Command::new(exe);
    cmd.arg(CHILD_ARG)
        .arg(ext)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the workbook reader {}: {e}", exe.display()))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        // The child may stop reading (it failed): a broken pipe is fine.
        let _ = stdin.write_all(&input);
    });
    let pid = child.id();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watch.recv_timeout(TIME_LIMIT).is_err() {
            // SAFETY: kill on our own child's pid.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    });
    let mut out = Vec::new();
    let read = stdout.read_to_end(&mut out);
    let status = child.wait();
    let _ = done.send(());
    let _ = watchdog.join();
    let _ = writer.join();
    let status = status.map_err(|e| format!("the workbook reader failed: {e}"))?;
    if read.is_err() || !status.success() {
        return Err(format!(
            "the file is damaged: reading it failed (it needed more than {} GiB of memory, \
             more than {} s, or its structure is broken); open it in Excel or LibreOffice and save it again",
            limit >> 30,
            TIME_LIMIT.as_secs()
        ));
    }
    serde_json::from_slice(&out).map_err(|_| {
        "the file is damaged: its cells could not be read back; open it in Excel or LibreOffice and save it again"
            .to_string()
    })
}

/// The child's side: reads the workbook on standard input, writes the
/// reply on standard output, exits 0 (a damaged file that calamine refuses
/// cleanly is a reply too).
pub fn child_main(ext: &str) -> std::process::ExitCode {
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        return std::process::ExitCode::from(74);
    }
    let reply = super::read::parse_dense(ext, bytes);
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let written = serde_json::to_writer(&mut lock, &reply).is_ok() && lock.flush().is_ok();
    if written {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(74)
    }
}
