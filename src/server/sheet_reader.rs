//! Spreadsheets are read in a child process: this binary's hidden `read-sheet` command,
//! with its address space and CPU time limited. calamine trusts sizes a file declares in
//! more places than a pre-check can follow (its reserves abort the process when an
//! allocation fails), so whatever a workbook makes it do, the worst is that the child
//! stops and the upload is refused with a message; the server stays up.
//!
//! The parent writes the file to the child's standard input; the child answers on its
//! standard output with JSON lines ([`Message`]): the sample of a sheet (for the upload's
//! check), or every row of a sheet (for the importer), then the end or the problem.

use crate::import::pipeline::SheetSource;
use crate::import::sheet::{self, MAX_WORKBOOK_BYTES, SheetProblem, SheetRow, SheetSample};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};

/// The address space a reader may use: a workbook within the limits needs a few hundred
/// MB at most; a hostile one is stopped here.
pub const MEMORY_LIMIT: u64 = 1 << 30;

/// The CPU time a reader may use for a whole sheet (the 1M-row benchmark workbook takes
/// a few seconds).
pub const ROWS_CPU_SECONDS: u64 = 600;

/// The CPU time a reader may use for an upload's check (the first rows of one sheet).
pub const SAMPLE_CPU_SECONDS: u64 = 60;

/// Upload checks that run at once; more wait their turn (each reader may use
/// [`MEMORY_LIMIT`]). Imports read one sheet at a time per server already.
const CHECKS_AT_ONCE: usize = 2;

static CHECKS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// A turn to run an upload check, given back when dropped.
struct Turn;

impl Turn {
    fn take() -> Turn {
        let (running, freed) = &CHECKS;
        let mut running = running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= CHECKS_AT_ONCE {
            running = freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (running, freed) = &CHECKS;
        *running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        freed.notify_one();
    }
}

/// The longest line a reader may answer with (a row is at most 1 MiB of text, escaped).
const MAX_LINE_BYTES: u64 = 8 << 20;

/// What a reader says, one JSON line each.
#[derive(Debug, Serialize, Deserialize)]
enum Message {
    Row(SheetRow),
    Sample(SheetSample),
    End,
    Problem(String),
}

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Runs readers from `program` instead of this binary (the API tests run in a test
/// binary, and name the app's).
pub fn use_program(program: PathBuf) {
    let _ = PROGRAM.set(program);
}

fn command(sheet: Option<&str>, sample: bool) -> io::Result<Child> {
    let program = match PROGRAM.get() {
        Some(program) => program.clone(),
        None => std::env::current_exe()?,
    };
    let mut command = Command::new(program);
    command.arg("read-sheet");
    if let Some(sheet) = sheet {
        command.arg(format!("--sheet={sheet}"));
    }
    if sample {
        command.arg("--sample");
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
}

/// Starts a reader and writes `file` to it on a thread of its own.
fn start(file: impl Read + Send + 'static, sheet: Option<&str>, sample: bool) -> io::Result<Child> {
    let mut child = command(sheet, sample)?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin"))?;
    std::thread::Builder::new()
        .name("sheet feeder".into())
        .spawn(move || {
            // The reader may stop early (a problem found): then the pipe closes.
            let _ = io::copy(&mut file.take(MAX_WORKBOOK_BYTES + 1), &mut stdin);
        })?;
    Ok(child)
}

/// The problem of a reader that stopped without saying why: it ran out of its memory or
/// time (or crashed on the file).
fn stopped(child: &mut Child) -> SheetProblem {
    let status = child.wait().ok();
    tracing::warn!(?status, "a spreadsheet reader stopped");
    SheetProblem(format!(
        "The spreadsheet could not be read within the memory ({} MB) and time this server \
         gives one file. Save it as CSV (or split it) and upload that.",
        MEMORY_LIMIT >> 20
    ))
}

fn next_message(lines: &mut BufReader<ChildStdout>) -> io::Result<Option<Message>> {
    let mut line = Vec::new();
    (&mut *lines)
        .take(MAX_LINE_BYTES)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    Ok(serde_json::from_slice(&line).ok())
}

/// The sample of a sheet (see [`sheet::sample`]), read by a child process.
pub fn sample(
    file: impl Read + Send + 'static,
    sheet: Option<&str>,
) -> io::Result<Result<SheetSample, SheetProblem>> {
    let _turn = Turn::take();
    let mut child = start(file, sheet, true)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let answer = next_message(&mut BufReader::new(stdout))?;
    let _ = child.kill();
    Ok(match answer {
        Some(Message::Sample(sample)) => {
            let _ = child.wait();
            Ok(sample)
        }
        Some(Message::Problem(problem)) => {
            let _ = child.wait();
            Err(SheetProblem(problem))
        }
        _ => Err(stopped(&mut child)),
    })
}

/// Every row of a sheet, read by a child process as the importer asks for them.
pub struct ChildRows {
    child: Child,
    lines: BufReader<ChildStdout>,
    progress: f64,
    ended: bool,
}

/// Starts reading every row of `sheet` of `file`.
pub fn rows(file: impl Read + Send + 'static, sheet: &str) -> io::Result<ChildRows> {
    let mut child = start(file, Some(sheet), false)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    Ok(ChildRows {
        child,
        lines: BufReader::with_capacity(1 << 20, stdout),
        progress: 0.0,
        ended: false,
    })
}

impl SheetSource for ChildRows {
    fn next_row(&mut self) -> io::Result<Option<SheetRow>> {
        if self.ended {
            return Ok(None);
        }
        let problem = match next_message(&mut self.lines)? {
            Some(Message::Row(row)) => {
                self.progress = row.progress;
                return Ok(Some(row));
            }
            Some(Message::End) => {
                self.ended = true;
                let _ = self.child.wait();
                return Ok(None);
            }
            Some(Message::Problem(problem)) => SheetProblem(problem),
            _ => stopped(&mut self.child),
        };
        Err(io::Error::new(io::ErrorKind::InvalidData, problem))
    }

    fn progress(&self) -> f64 {
        if self.ended { 1.0 } else { self.progress }
    }
}

impl Drop for ChildRows {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `read-sheet` command: reads a workbook from standard input within the limits above
/// and answers on standard output.
pub fn run_child(sheet: Option<String>, sample: bool) -> ExitCode {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let cpu = if sample {
        SAMPLE_CPU_SECONDS
    } else {
        ROWS_CPU_SECONDS
    };
    let limits = [(Resource::As, MEMORY_LIMIT), (Resource::Cpu, cpu)];
    for (resource, limit) in limits {
        let limit = Rlimit {
            current: Some(limit),
            maximum: Some(limit),
        };
        if setrlimit(resource, limit).is_err() {
            return ExitCode::FAILURE;
        }
    }
    let mut bytes = Vec::new();
    if io::stdin()
        .take(MAX_WORKBOOK_BYTES + 1)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut say = |message: &Message| -> io::Result<()> {
        serde_json::to_writer(&mut out, message)?;
        out.write_all(b"\n")
    };
    let read = if sample {
        sheet::sample(bytes, sheet).map(|s| say(&Message::Sample(s)))
    } else {
        let sheet = sheet.unwrap_or_default();
        sheet::open(bytes).and_then(|mut book| {
            let mut written = Ok(());
            book.rows(&sheet, |row| {
                written = say(&Message::Row(row));
                match written.is_ok() {
                    true => ControlFlow::Continue(()),
                    false => ControlFlow::Break(()),
                }
            })?;
            Ok(written.and_then(|()| say(&Message::End)))
        })
    };
    let written = match read {
        Ok(written) => written,
        Err(problem) => say(&Message::Problem(problem.0)),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
