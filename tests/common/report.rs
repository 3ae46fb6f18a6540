//! Parsing ThreadSanitizer-format reports from a program's stderr.
//!
//! ```text
//! WARNING: ThreadSanitizer: data race (pid=19219)
//!   Write of size 4 at 0x7fcf47b21bc0 by thread T1:
//!     #0 Thread1 tiny_race.c:4 (exe+0x00000000a360)
//!
//!   Previous write of size 4 at 0x7fcf47b21bc0 by main thread:
//!     #0 main tiny_race.c:10 (exe+0x00000000a3b4)
//! ...
//! SUMMARY: ThreadSanitizer: data race tiny_race.c:4 in Thread1
//! ==================
//! ThreadSanitizer: reported 1 warnings
//! ```

pub const WARNING: &str = "WARNING: ThreadSanitizer: ";
const SUMMARY: &str = "SUMMARY: ThreadSanitizer: ";
const REPORTED: &str = "ThreadSanitizer: reported ";

/// One `WARNING: ThreadSanitizer: ...` block.
#[derive(Debug)]
pub struct Report {
    /// `data race`, `heap-use-after-free`, ...
    pub kind: String,
    pub accesses: Vec<Access>,
    /// The `SUMMARY: ThreadSanitizer: ...` line's text after the prefix, if present.
    pub summary: Option<String>,
}

/// One memory-access stack of a report (`  Write of size 4 ...` or `  Previous read ...`).
#[derive(Debug)]
pub struct Access {
    /// The header line, trimmed.
    pub header: String,
    /// The `#0` frame line, trimmed (`[failed to restore the stack]` or absent if none).
    pub top_frame: Option<String>,
    /// Line of the first frame in the program's own source file: `#0` itself for a plain
    /// access, the caller's line when `#0` is an intercepted libc function (memcpy, free).
    pub source_line: Option<u32>,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub reports: Vec<Report>,
    /// N from `ThreadSanitizer: reported N warnings`.
    pub reported: Option<usize>,
}

/// Parses every report in `stderr`; `source_file` is the program's source file name,
/// used to find the access lines in the program itself.
pub fn parse(stderr: &str, source_file: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let lines: Vec<&str> = stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix(WARNING) {
            let kind = rest
                .split(" (pid=")
                .next()
                .unwrap_or(rest)
                .trim()
                .to_owned();
            parsed.reports.push(Report {
                kind,
                accesses: Vec::new(),
                summary: None,
            });
        } else if let Some(rest) = line.strip_prefix(SUMMARY) {
            if let Some(report) = parsed.reports.last_mut() {
                report.summary = Some(rest.trim().to_owned());
            }
        } else if let Some(rest) = line.strip_prefix(REPORTED) {
            parsed.reported = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        } else if is_access_header(line) {
            if let Some(report) = parsed.reports.last_mut() {
                report.accesses.push(access(&lines[i..], source_file));
            }
        }
    }
    parsed
}

/// `  Write of size`, `  Atomic read of size`, `  Previous write of size`, ...
fn is_access_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("  ") else {
        return false;
    };
    if rest.starts_with(' ') {
        return false;
    }
    let rest = rest
        .strip_prefix("Previous ")
        .unwrap_or(rest)
        .to_ascii_lowercase();
    let rest = rest.strip_prefix("atomic ").unwrap_or(&rest);
    rest.starts_with("write of size") || rest.starts_with("read of size")
}

/// The access whose header is `lines[0]`; its stack is the following `    #N` lines.
fn access(lines: &[&str], source_file: &str) -> Access {
    let stack: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.trim())
        // `... N frames in std`: a fold of `fold_std_frames` (on under `cargo umbra`).
        .take_while(|line| {
            line.starts_with('#') || line.starts_with('[') || line.starts_with("... ")
        })
        .collect();
    let source_line = stack.iter().find_map(|frame| {
        let (file, line) = frame_location(frame)?;
        (file.rsplit('/').next() == Some(source_file)).then_some(line)
    });
    Access {
        header: lines[0].trim().to_owned(),
        top_frame: stack.first().map(|frame| frame.to_string()),
        source_line,
    }
}

/// `file` and `line` of a frame `#0 func file:line[:col] (module+0xoff) [(BuildId: ...)]`.
pub fn frame_location(frame: &str) -> Option<(&str, u32)> {
    let mut rest = frame.trim_end();
    // Drop the trailing parenthesised groups: module+offset, BuildId.
    while rest.ends_with(')') {
        rest = rest[..rest.rfind(" (")?].trim_end();
    }
    let location = rest.rsplit(' ').next()?;
    let mut parts = location.rsplitn(3, ':');
    let last = parts.next()?;
    let middle = parts.next()?;
    match (parts.next(), middle.parse::<u32>()) {
        // file:line:col
        (Some(file), Ok(line)) if last.parse::<u32>().is_ok() => Some((file, line)),
        // file:line
        _ => {
            let line = last.parse().ok()?;
            let file = location.strip_suffix(last)?.strip_suffix(':')?;
            Some((file, line))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_locations() {
        assert_eq!(
            frame_location("#0 main /tmp/r.c:4 (r+0x123f)"),
            Some(("/tmp/r.c", 4))
        );
        assert_eq!(
            frame_location("#0 a::b /x/y.rs:9:14 (bin+0x19b0a1) (BuildId: 3fa5)"),
            Some(("/x/y.rs", 9))
        );
        assert_eq!(
            frame_location("#17 main <null> (bin+0x19b399) (BuildId: 3fa5)"),
            None
        );
        assert_eq!(frame_location("[failed to restore the stack]"), None);
    }
}
