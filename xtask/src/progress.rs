//! Progress of a long step (a download, an unpack, a compile): how far, of how much, how fast.
//! On a terminal one line is redrawn; otherwise (logs, CI) a line is printed every few
//! seconds, so a log shows the step moving without thousands of lines.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a count is: bytes (shown in MB) or items (files, objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// A progress report on standard error.
pub struct Progress {
    what: String,
    total: Option<u64>,
    unit: Unit,
    done: u64,
    started: Instant,
    last: Instant,
    terminal: bool,
}

impl Progress {
    /// Starts reporting `what`, of `total` (when known) in `unit`.
    pub fn new(what: impl Into<String>, total: Option<u64>, unit: Unit) -> Self {
        Self {
            what: what.into(),
            total,
            unit,
            done: 0,
            started: Instant::now(),
            last: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Sets the amount done so far (shown when the last report is old enough).
    pub fn set(&mut self, done: u64) {
        self.done = done;
        let every = if self.terminal { Duration::from_millis(250) } else { Duration::from_secs(5) };
        if self.last.elapsed() >= every {
            self.last = Instant::now();
            self.show(false);
        }
    }

    /// Adds `n` to the amount done.
    pub fn add(&mut self, n: u64) {
        self.set(self.done + n);
    }

    /// The closing report, with the time the step took.
    pub fn finish(&mut self) {
        self.show(true);
    }

    /// The closing report at `done`.
    pub fn finish_at(&mut self, done: u64) {
        self.done = done;
        self.finish();
    }

    fn show(&self, last: bool) {
        let line = line(&self.what, self.done, self.total, self.unit, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        // Progress is advisory: a closed standard error must not fail the step.
        let _ = if self.terminal {
            write!(err, "\r\x1b[K{line}{}", if last { "\n" } else { "" })
        } else {
            writeln!(err, "{line}")
        };
    }
}

/// Runs `work` while a second thread reports `measure()` (how far it is, read from outside:
/// the size of a file being downloaded, the objects built so far) every quarter second.
pub fn watch<T>(
    what: &str,
    total: Option<u64>,
    unit: Unit,
    measure: impl Fn() -> u64 + Sync,
    work: impl FnOnce() -> T,
) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut progress = Progress::new(what, total, unit);
            while !done.load(Ordering::Relaxed) {
                progress.set(measure());
                std::thread::sleep(Duration::from_millis(250));
            }
            progress.finish_at(measure());
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}

/// One report: `what: 37% (252.6 of 682.7 MB, 25.3 MB/s, 10 s)`.
fn line(what: &str, done: u64, total: Option<u64>, unit: Unit, elapsed: Duration) -> String {
    let amount = |n: u64| match unit {
        Unit::Bytes => format!("{:.1}", n as f64 / 1e6),
        Unit::Items => n.to_string(),
    };
    let suffix = match unit {
        Unit::Bytes => " MB",
        Unit::Items => "",
    };
    let secs = elapsed.as_secs_f64();
    let rate = match unit {
        Unit::Bytes if secs >= 1.0 => format!(", {:.1} MB/s", done as f64 / 1e6 / secs),
        _ => String::new(),
    };
    match total {
        Some(total) if total > 0 => format!(
            "{what}: {}% ({} of {}{suffix}{rate}, {secs:.0} s)",
            done.min(total) * 100 / total,
            amount(done),
            amount(total)
        ),
        _ => format!("{what}: {}{suffix} ({secs:.0} s{rate})", amount(done)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_says_how_far_of_how_much_and_how_fast() {
        let ten = Duration::from_secs(10);
        assert_eq!(
            line("downloading f", 252_600_000, Some(682_717_088), Unit::Bytes, ten),
            "downloading f: 36% (252.6 of 682.7 MB, 25.3 MB/s, 10 s)"
        );
        assert_eq!(
            line("compiling", 3, Some(12), Unit::Items, ten),
            "compiling: 25% (3 of 12, 10 s)"
        );
        assert_eq!(line("unpacking", 5, None, Unit::Items, ten), "unpacking: 5 (10 s)");
        // More than announced (a file grew) never shows more than 100%.
        assert!(line("x", 20, Some(10), Unit::Items, ten).starts_with("x: 100% "));
    }
}
