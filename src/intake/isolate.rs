//! Reading an untrusted workbook in a child process with memory and time
//! limits. calamine builds `.xls` and `.ods` sheets as dense grids sized
//! from the file's own records, and holds an `.xlsx`'s shared strings whole;
//! a damaged or hostile file can ask for terabytes, and the failed
//! allocation aborts the process, which no panic guard catches. In a child
//! (the same `kartka` binary, `kartka __read-workbook`), an abort or an
//! exhausted limit ends only the child: the import says the file is damaged
//! and goes on with nothing half-read.
//!
//! An `.xls` or `.ods` comes back whole, as JSON on the child's standard
//! output (`xls`, `ods`). An `.xlsx` is streamed: one child sends every
//! sheet's first rows (`xlsx-head`), and one child per sheet sends its rows
//! as JSON lines as they are read (`xlsx-rows SHEET FROM`), so the parent
//! holds only the rows in flight. Every cell is cut at `cells::CELL_CHARS`
//! characters and every row at `read::MAX_COLUMNS` columns in the child, so
//! one line, and one row, costs a bounded amount of the parent's memory.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};

/// The argument that makes `kartka` a workbook reader.
pub const CHILD_ARG: &str = "__read-workbook";

/// How much processor time a child may take before it is stopped
/// (`RLIMIT_CPU`), and how long a child that answers whole may run
/// (a streaming child waits for the parent between rows, so only its
/// processor time is limited).
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The most bytes of cells an `.xls` or `.ods` child may send back.
const MAX_REPLY: u64 = 512 << 20;

/// The longest line an `.xlsx` child may send: one row of `MAX_COLUMNS`
/// cells of `CELL_CHARS` characters, each escaped at worst to 6 bytes.
const MAX_LINE: u64 = 32 << 20;

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

/// One line of an `xlsx-rows` child.
#[derive(serde::Serialize, serde::Deserialize)]
enum Frame {
    Row(usize, Vec<Cell>),
    End,
    Unreadable(String),
}

/// The message for a child that died, overran or sent what it must not.
fn damaged(limit: u64) -> String {
    format!(
        "the file is damaged: reading it failed (it needed more than {} GiB of memory, \
         more than {} s, or its structure is broken); open it in Excel or LibreOffice and save it again",
        limit >> 30,
        TIME_LIMIT.as_secs()
    )
}

/// A running reader child: its input fed by a thread, its memory and
/// processor time limited, stopped by a watchdog after `wall` when given,
/// killed and reaped when dropped unfinished.
struct Child {
    child: std::process::Child,
    stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
    writer: Option<std::thread::JoinHandle<()>>,
    done: Option<std::sync::mpsc::Sender<()>>,
    watchdog: Option<std::thread::JoinHandle<()>>,
    limit: u64,
}

impl Child {
    /// Starts `exe __read-workbook ARGS...` under the memory limit for
    /// `bytes`, and feeds it `bytes`.
    fn spawn(
        exe: &Path,
        args: &[&str],
        bytes: Arc<Vec<u8>>,
        wall: Option<std::time::Duration>,
    ) -> Result<Child, String> {
        let limit = memory_limit(bytes.len());
        let cpu = TIME_LIMIT.as_secs();
        let mut cmd = Command::new(exe);
        cmd.arg(CHILD_ARG)
            .args(args)
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
                // SIGXCPU at the limit, SIGKILL a second later.
                let rl = libc::rlimit {
                    rlim_cur: cpu,
                    rlim_max: cpu + 1,
                };
                if libc::setrlimit(libc::RLIMIT_CPU, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the workbook reader {}: {e}", exe.display()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let writer = std::thread::spawn(move || {
            // The child may stop reading (it failed, or was stopped): a
            // broken pipe is fine.
            let _ = stdin.write_all(&bytes);
        });
        let pid = child.id();
        let (done, watch) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let timed_out = match wall {
                Some(wall) => watch
                    .recv_timeout(wall)
                    .is_err_and(|e| matches!(e, std::sync::mpsc::RecvTimeoutError::Timeout)),
                None => {
                    let _ = watch.recv();
                    false
                }
            };
            if timed_out {
                // SAFETY: kill on our own child's pid, not yet reaped (the
                // parent joins this thread before it waits).
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGKILL);
                }
            }
        });
        Ok(Child {
            child,
            stdout: Some(std::io::BufReader::with_capacity(1 << 16, stdout)),
            writer: Some(writer),
            done: Some(done),
            watchdog: Some(watchdog),
            limit,
        })
    }

    fn stdout(&mut self) -> &mut std::io::BufReader<std::process::ChildStdout> {
        self.stdout.as_mut().expect("taken only on drop")
    }

    /// Stops the watchdog and reaps the child; whether it exited 0.
    fn finish(&mut self, kill: bool) -> bool {
        if kill {
            let _ = self.child.kill();
        }
        self.stdout = None;
        let status = self.child.wait();
        self.done = None;
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        status.is_ok_and(|s| s.success())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.finish(true);
        }
    }
}

/// Runs `exe __read-workbook EXT` on `bytes` under the memory limit.
pub(super) fn read_in_child(exe: &Path, ext: &str, bytes: Arc<Vec<u8>>) -> Result<Reply, String> {
    let mut child = Child::spawn(exe, &[ext], bytes, Some(TIME_LIMIT))?;
    let limit = child.limit;
    let mut out = Vec::new();
    let read = child.stdout().take(MAX_REPLY + 1).read_to_end(&mut out);
    if read.is_ok() && out.len() as u64 > MAX_REPLY {
        child.finish(true);
        return Err(format!(
            "the file holds more than {} MB of cells; an applicant sheet is far smaller: \
             check that this is the file meant, or split it",
            MAX_REPLY >> 20
        ));
    }
    if read.is_err() || !child.finish(false) {
        return Err(damaged(limit));
    }
    serde_json::from_slice(&out).map_err(|_| {
        "the file is damaged: its cells could not be read back; open it in Excel or LibreOffice and save it again"
            .to_string()
    })
}

/// Streams the rows of `sheet` of an `.xlsx` from row index `from` on,
/// read by a child, to `f` until it returns false.
pub(super) fn stream_in_child(
    exe: &Path,
    bytes: Arc<Vec<u8>>,
    sheet: &str,
    from: usize,
    f: &mut dyn FnMut(usize, Vec<Data>) -> bool,
) -> Result<(), String> {
    let from_arg = from.to_string();
    let mut child = Child::spawn(exe, &["xlsx-rows", sheet, &from_arg], bytes, None)?;
    let limit = child.limit;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = child
            .stdout()
            .by_ref()
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line);
        let frame = match read {
            Ok(n) if n > 0 && (n as u64) <= MAX_LINE => serde_json::from_slice::<Frame>(&line).ok(),
            _ => None,
        };
        match frame {
            Some(Frame::Row(i, cells)) => {
                if !f(i, cells.into_iter().map(Cell::data).collect()) {
                    child.finish(true);
                    return Ok(());
                }
            }
            Some(Frame::End) => {
                return if child.finish(false) {
                    Ok(())
                } else {
                    Err(damaged(limit))
                };
            }
            Some(Frame::Unreadable(detail)) => {
                child.finish(true);
                return Err(detail);
            }
            None => {
                child.finish(true);
                return Err(damaged(limit));
            }
        }
    }
}

/// The child's side: reads the workbook on standard input and answers on
/// standard output (`args`: `xls`, `ods`, `xlsx-head`, or `xlsx-rows SHEET
/// FROM`); exits 0 when it answered (a damaged file that calamine refuses
/// cleanly is an answer too).
pub fn child_main(args: &[String]) -> std::process::ExitCode {
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        return std::process::ExitCode::from(74);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args {
        [mode] if mode == "xlsx-head" => {
            serde_json::to_writer(&mut out, &super::read::xlsx_heads(bytes)).is_ok()
        }
        [mode, sheet, from] if mode == "xlsx-rows" => {
            let from = from.parse().unwrap_or(0);
            let mut ok = true;
            let read = super::read::xlsx_rows(bytes, sheet, from, &mut |i, row| {
                let frame = Frame::Row(i, row.iter().map(Cell::of).collect());
                ok =
                    serde_json::to_writer(&mut out, &frame).is_ok() && out.write_all(b"\n").is_ok();
                ok
            });
            let last = match read {
                Ok(()) => Frame::End,
                Err(detail) => Frame::Unreadable(detail),
            };
            ok && serde_json::to_writer(&mut out, &last).is_ok() && out.write_all(b"\n").is_ok()
        }
        [ext] => serde_json::to_writer(&mut out, &super::read::parse_dense(ext, bytes)).is_ok(),
        _ => false,
    };
    if written && out.flush().is_ok() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(74)
    }
}
