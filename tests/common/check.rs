//! Judging one run of a corpus program against the expectations in its source.
//!
//! Racy: exit code 66; every warning is a `data race` (or `heap-use-after-free`, the
//! free-then-access form of a free race) with a matching `SUMMARY:` line and a current
//! plus a previous access stack; `ThreadSanitizer: reported N warnings` matches the
//! number of warnings (and `// reports: N` if given); the program-source lines of all
//! access stacks are exactly the `// RACE` lines.
//! Clean: no `WARNING: ThreadSanitizer` at all and the program's own exit code 0.

use std::collections::BTreeSet;

use super::exec::{Output, Status};
use super::program::{Program, Verdict};
use super::report::{self, Parsed, Report, WARNING};
use super::toolchain::Runtime;

/// Kinds of warning a racy program may produce.
const RACE_KINDS: &[&str] = &["data race", "heap-use-after-free"];
/// Exit code of a run with reports (TSan's default `exitcode`).
const RACE_EXIT_CODE: i32 = 66;
/// At most this much stderr goes into a failure message.
const STDERR_LIMIT: usize = 16_000;

pub struct Judgement {
    /// Short description of what happened, for tables: `race`, `clean`, `timeout`, ...
    pub observed: String,
    /// `None` if the run met the expectations; otherwise a message with the stderr.
    pub failure: Option<String>,
}

pub fn judge(program: &Program, runtime: Runtime, output: &Output) -> Judgement {
    let parsed = report::parse(&output.stderr, program.file_name());
    let expected = program.expected(runtime);
    let problems = match expected {
        Verdict::Race => race_problems(program, runtime, output, &parsed),
        Verdict::Clean => clean_problems(output),
    };
    let observed = observe(output, &parsed);
    let failure =
        (!problems.is_empty()).then(|| {
            let lines = if program.check_lines(runtime) && expected == Verdict::Race {
                format!(" at lines {:?}", program.race_lines)
            } else {
                String::new()
            };
            format!(
            "{} on {}: expected {expected}{lines}; got {observed} (reported lines {:?}, {})\n{}\n\
             --- stderr ---\n{}",
            program.label(),
            runtime.name(),
            reported_lines(&parsed),
            output.status,
            problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"),
            truncated(&output.stderr),
        )
        });
    Judgement { observed, failure }
}

fn race_problems(
    program: &Program,
    runtime: Runtime,
    output: &Output,
    parsed: &Parsed,
) -> Vec<String> {
    let mut problems = Vec::new();
    if output.status != Status::Exited(RACE_EXIT_CODE) {
        problems.push(format!(
            "{} (expected exit code {RACE_EXIT_CODE})",
            output.status
        ));
    }
    if parsed.reports.is_empty() {
        problems.push(format!("no `{WARNING}` report"));
    }
    let needs_previous = program.needs_previous_stack(runtime);
    for report in &parsed.reports {
        problems.extend(report_problems(report, program.file_name(), needs_previous));
    }
    match parsed.reported {
        None if !parsed.reports.is_empty() => {
            problems.push("no `ThreadSanitizer: reported N warnings` line".to_owned())
        }
        Some(n) if n != parsed.reports.len() => problems.push(format!(
            "`reported {n} warnings` but {} warnings were printed",
            parsed.reports.len()
        )),
        _ => {}
    }
    if let (Some(want), Some(got)) = (program.reports, parsed.reported) {
        if want != got {
            problems.push(format!(
                "expected exactly {want} warning(s), reported {got}"
            ));
        }
    }
    if program.check_lines(runtime) {
        let got = reported_lines(parsed);
        let lines_ok = if needs_previous {
            got == program.race_lines
        } else {
            !got.is_empty() && got.is_subset(&program.race_lines)
        };
        if !lines_ok {
            problems.push(format!(
                "reported lines {got:?} differ from the `// RACE` lines {:?}",
                program.race_lines
            ));
        }
    }
    problems
}

fn report_problems(report: &Report, source_file: &str, needs_previous: bool) -> Vec<String> {
    let kind = &report.kind;
    let mut problems = Vec::new();
    if !RACE_KINDS.contains(&kind.as_str()) {
        problems.push(format!("unexpected warning kind `{kind}`"));
    }
    if !report
        .summary
        .as_deref()
        .is_some_and(|s| s.starts_with(kind.as_str()))
    {
        problems.push(format!(
            "`{kind}` warning without a `SUMMARY: ThreadSanitizer: {kind}` line"
        ));
    }
    let previous = report
        .accesses
        .iter()
        .filter(|a| a.header.starts_with("Previous "))
        .count();
    if report.accesses.len() != 2 || previous != 1 {
        problems.push(format!(
            "`{kind}` warning has {} access stack(s), {previous} of them `Previous`; expected \
             one current and one previous",
            report.accesses.len()
        ));
    }
    let must_have_line =
        |a: &&super::report::Access| needs_previous || !a.header.starts_with("Previous ");
    for access in report
        .accesses
        .iter()
        .filter(must_have_line)
        .filter(|a| a.source_line.is_none())
    {
        problems.push(format!(
            "access `{}` has no frame in {source_file} (#0: {})",
            access.header,
            access.top_frame.as_deref().unwrap_or("no frames")
        ));
    }
    problems
}

fn clean_problems(output: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    if output.stderr.contains(WARNING) {
        problems.push(format!("unexpected `{WARNING}` report"));
    }
    if output.status != Status::Exited(0) {
        problems.push(format!(
            "{} (expected the program's own exit code 0)",
            output.status
        ));
    }
    problems
}

/// Program-source lines of all access stacks of all warnings.
fn reported_lines(parsed: &Parsed) -> BTreeSet<u32> {
    parsed
        .reports
        .iter()
        .flat_map(|r| &r.accesses)
        .filter_map(|a| a.source_line)
        .collect()
}

/// `race`, `race (heap-use-after-free)`, `clean`, `clean, exit code 3`, `timeout`, ...
fn observe(output: &Output, parsed: &Parsed) -> String {
    match output.status {
        Status::TimedOut => return "timeout".to_owned(),
        Status::Signalled(signal) => return format!("crash (signal {signal})"),
        Status::Exited(_) => {}
    }
    if !output.stderr.contains(WARNING) {
        return match output.status {
            Status::Exited(0) => "clean".to_owned(),
            status => format!("clean, {status}"),
        };
    }
    let kinds: BTreeSet<&str> = parsed.reports.iter().map(|r| r.kind.as_str()).collect();
    if kinds.iter().all(|k| *k == "data race") {
        "race".to_owned()
    } else {
        format!(
            "race ({})",
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        )
    }
}

fn truncated(stderr: &str) -> String {
    if stderr.len() <= STDERR_LIMIT {
        return stderr.to_owned();
    }
    let mut end = STDERR_LIMIT;
    while !stderr.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes of stderr]",
        &stderr[..end],
        stderr.len() - end
    )
}
