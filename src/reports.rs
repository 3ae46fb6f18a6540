//! The runtime's JSON reports (`json_path`, one object per line; schema in
//! `report/SCHEMA.md`) as the CLI reads them, and what `umbra sarif` and `umbra report`
//! derive from them: each report's stacks with a label, its *site* (the top user frame
//! of its two main stacks), a fingerprint of the site that stays the same across runs
//! and checkouts, and source paths made relative to the source root. Parsing is
//! lenient: every field has a default, and unknown kinds or fields pass through, so a
//! runtime that learns a new report kind needs no change here.

use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

/// One stack frame (`Frame` in the schema).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Frame {
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
    pub module: String,
    pub offset: String,
}

impl Frame {
    /// The function name, or `module+offset` (TSan's form) when there is none.
    pub fn function_or_address(&self) -> String {
        match &self.function {
            Some(f) => f.clone(),
            None if self.module.is_empty() => self.offset.clone(),
            None => format!("{}+{}", basename(&self.module), self.offset),
        }
    }

    /// Whether this is a frame of Rust's standard library, by the runtime's own rule
    /// (`fold_std_frames`).
    fn is_std(&self) -> bool {
        umbra_report::text::is_std_frame(&umbra_report::Frame {
            function: self.function.clone(),
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            module: self.module.clone(),
            module_offset: 0,
        })
    }
}

/// A race's access (`Access` in the schema).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Access {
    #[serde(rename = "type")]
    pub access_type: String,
    pub size: u64,
    pub addr: String,
    pub thread: String,
    pub stack: Option<Vec<Frame>>,
}

/// What the memory of a report is (`Location` in the schema); the fields a type
/// lacks are `None`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Location {
    #[serde(rename = "type")]
    pub location_type: String,
    pub name: Option<String>,
    pub size: Option<u64>,
    pub thread: Option<String>,
    pub stack: Vec<Frame>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Mutex {
    pub id: String,
    pub addr: String,
    pub stack: Vec<Frame>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Thread {
    pub id: String,
    pub tid: u64,
    pub running: bool,
    pub name: Option<String>,
    pub parent: String,
    pub stack: Vec<Frame>,
}

/// One report, one line of a JSONL file.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Report {
    pub kind: String,
    pub pid: u64,
    pub current: Option<Access>,
    pub previous: Option<Access>,
    pub location: Option<Location>,
    pub mutexes: Vec<Mutex>,
    pub threads: Vec<Thread>,
    pub summary: Option<Frame>,
    pub stacks: Vec<Vec<Frame>>,
    pub signal: Option<i64>,
    pub count: u64,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            kind: String::new(),
            pid: 0,
            current: None,
            previous: None,
            location: None,
            mutexes: Vec::new(),
            threads: Vec::new(),
            summary: None,
            stacks: Vec::new(),
            signal: None,
            count: 1,
        }
    }
}

/// What one stack of a report is, for labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackRole {
    /// The access that detected a race.
    Current,
    /// The earlier access of a race (for heap-use-after-free: the `free`).
    Previous,
    /// One of the stacks of a report that is not about accesses (`stacks[i]`).
    Event(usize),
    /// Where the heap block was allocated.
    HeapBlock,
    /// Where a mutex was created.
    MutexCreation,
    /// Where a thread was created.
    ThreadCreation,
}

/// A stack of a report with a one-line description ("write of size 4 by thread T1").
#[derive(Clone, Debug)]
pub struct LabeledStack<'a> {
    pub role: StackRole,
    pub label: String,
    /// `"main"`, `"T1"`, ... when known.
    pub thread: Option<String>,
    pub frames: &'a [Frame],
}

fn thread_name(t: &str) -> String {
    if t == "main" {
        "main thread".to_owned()
    } else {
        format!("thread {t}")
    }
}

impl Report {
    pub fn is_race(&self) -> bool {
        self.current.is_some() || self.previous.is_some()
    }

    /// Every stack of the report that has frames, in the text report's order: the
    /// two accesses (or the report's own stacks), then the heap block's allocation,
    /// then mutex and thread creation.
    pub fn labeled_stacks(&self) -> Vec<LabeledStack<'_>> {
        let mut out = Vec::new();
        for (role, access) in [
            (StackRole::Current, &self.current),
            (StackRole::Previous, &self.previous),
        ] {
            let Some(a) = access else { continue };
            let Some(frames) = a.stack.as_deref() else {
                continue;
            };
            let previous = if role == StackRole::Previous {
                "previous "
            } else {
                ""
            };
            out.push(LabeledStack {
                role,
                label: format!(
                    "{previous}{} of size {} by {}",
                    a.access_type,
                    a.size,
                    thread_name(&a.thread)
                ),
                thread: Some(a.thread.clone()),
                frames,
            });
        }
        for (i, frames) in self.stacks.iter().enumerate() {
            let label = match (i, self.kind.as_str()) {
                (0, kind) => kind.to_owned(),
                (1, "destroy of a locked mutex") => "mutex last locked here".to_owned(),
                (i, kind) => format!("{kind}: stack {}", i + 1),
            };
            out.push(LabeledStack {
                role: StackRole::Event(i),
                label,
                thread: None,
                frames,
            });
        }
        if let Some(loc) = self.location.as_ref().filter(|l| l.location_type == "heap") {
            let by = loc
                .thread
                .as_deref()
                .map_or("a thread".to_owned(), thread_name);
            out.push(LabeledStack {
                role: StackRole::HeapBlock,
                label: format!(
                    "heap block of size {} allocated by {by}",
                    loc.size.unwrap_or(0)
                ),
                thread: loc.thread.clone(),
                frames: &loc.stack,
            });
        }
        for m in &self.mutexes {
            out.push(LabeledStack {
                role: StackRole::MutexCreation,
                label: format!("mutex {} created", m.id),
                thread: None,
                frames: &m.stack,
            });
        }
        for t in &self.threads {
            out.push(LabeledStack {
                role: StackRole::ThreadCreation,
                label: format!("thread {} created by {}", t.id, thread_name(&t.parent)),
                thread: Some(t.parent.clone()),
                frames: &t.stack,
            });
        }
        out.retain(|s| !s.frames.is_empty());
        out
    }

    /// The two stacks that make the report's site: a race's two accesses; for
    /// other kinds the first two stacks of [`Report::labeled_stacks`] (the misused
    /// operation and the mutex's creation, a leaked thread's creation, ...).
    pub fn site_stacks(&self) -> Vec<LabeledStack<'_>> {
        let stacks = self.labeled_stacks();
        if self.is_race() {
            stacks
                .into_iter()
                .filter(|s| matches!(s.role, StackRole::Current | StackRole::Previous))
                .collect()
        } else {
            stacks.into_iter().take(2).collect()
        }
    }
}

/// The reports in `text` (JSON Lines); `what` names the source in errors.
pub fn parse(text: &str, what: &str) -> Result<Vec<Report>, String> {
    let mut reports = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Report = serde_json::from_str(line)
            .map_err(|e| format!("{what}:{}: not an umbra JSON report: {e}", i + 1))?;
        if r.kind.is_empty() {
            return Err(format!(
                "{what}:{}: not an umbra JSON report: no kind",
                i + 1
            ));
        }
        reports.push(r);
    }
    Ok(reports)
}

/// The rule id of a report kind: its words in lower case joined by `-`
/// (`data race` → `data-race`, `unlock of an unlocked mutex (or by a wrong thread)` →
/// `unlock-of-an-unlocked-mutex-or-by-a-wrong-thread`), so every kind the runtime
/// may print, including future ones, gets a stable id.
pub fn rule_id(kind: &str) -> String {
    let mut id = String::new();
    for word in kind
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !id.is_empty() {
            id.push('-');
        }
        id.push_str(&word.to_ascii_lowercase());
    }
    if id.is_empty() {
        "unknown".to_owned()
    } else {
        id
    }
}

/// A source file's path as reported, resolved against the source root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourcePath {
    /// Under the root: the path relative to it, `/`-separated, no `.` or `..`.
    InRoot(String),
    /// Elsewhere (system headers, the Rust standard library): the absolute path.
    Outside(String),
}

impl SourcePath {
    /// The path as a person reads it (relative when under the root).
    pub fn display(&self) -> &str {
        match self {
            SourcePath::InRoot(p) | SourcePath::Outside(p) => p,
        }
    }
}

/// The source root (`--root`, default the current directory) that report paths are
/// made relative to.
#[derive(Clone, Debug)]
pub struct SourceRoot {
    dir: PathBuf,
}

impl SourceRoot {
    /// `dir`, made absolute (and canonical when it exists).
    pub fn new(dir: &Path) -> Result<SourceRoot, String> {
        let abs = if dir.is_absolute() {
            dir.to_owned()
        } else {
            std::env::current_dir()
                .map_err(|e| format!("current directory: {e}"))?
                .join(dir)
        };
        let dir = fs::canonicalize(&abs).unwrap_or_else(|_| normalize(&abs));
        Ok(SourceRoot { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `file` (a path from a report) is relative to the root. A relative path
    /// is taken as relative to the root (compilers record `src/x.c` when given that).
    pub fn resolve(&self, file: &str) -> SourcePath {
        let path = Path::new(file);
        let abs = normalize(&if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir.join(path)
        });
        let relative = |p: &Path| -> Option<String> {
            let rest = p.strip_prefix(&self.dir).ok()?;
            let parts: Vec<String> = rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (!parts.is_empty()).then(|| parts.join("/"))
        };
        if let Some(rel) = relative(&abs) {
            return SourcePath::InRoot(rel);
        }
        // The root may be reached through a symlink in the report's path.
        if let Some(rel) = fs::canonicalize(&abs).ok().as_deref().and_then(relative) {
            return SourcePath::InRoot(rel);
        }
        SourcePath::Outside(abs.to_string_lossy().into_owned())
    }
}

/// `p` without `.` components and with `..` applied, lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The last component of a path.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a frame is the program's own code rather than the C/C++ library's
/// headers or Rust's standard library: it has a source file, the file is not a
/// system one (`/usr/...`), and it is no std frame.
fn is_user_frame(f: &Frame, root: &SourceRoot) -> bool {
    let Some(file) = f.file.as_deref() else {
        return false;
    };
    if f.is_std() {
        return false;
    }
    matches!(root.resolve(file), SourcePath::InRoot(_)) || !file.starts_with("/usr/")
}

/// The frame of a stack that a person would look at first: the innermost frame in
/// a file under the source root, else the innermost user frame (see
/// [`is_user_frame`]), else the innermost frame with a source file, else the
/// innermost frame.
pub fn top_user_frame<'a>(frames: &'a [Frame], root: &SourceRoot) -> Option<&'a Frame> {
    let in_root = |f: &&Frame| {
        !f.is_std()
            && f.file
                .as_deref()
                .is_some_and(|file| matches!(root.resolve(file), SourcePath::InRoot(_)))
    };
    frames
        .iter()
        .find(in_root)
        .or_else(|| frames.iter().find(|f| is_user_frame(f, root)))
        .or_else(|| frames.iter().find(|f| f.file.is_some()))
        .or_else(|| frames.first())
}

/// One end of a site: the top user frame of one of the site's stacks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteFrame {
    pub function: String,
    /// Relative to the source root when under it; `None` when unknown.
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
}

impl SiteFrame {
    pub fn new(f: &Frame, root: &SourceRoot) -> SiteFrame {
        SiteFrame {
            function: f.function_or_address(),
            file: f
                .file
                .as_deref()
                .map(|p| root.resolve(p).display().to_owned()),
            line: f.line,
            column: f.column,
        }
    }

    /// `function (file:line)`, or `function` alone when the file is unknown.
    pub fn describe(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), 0) => format!("{} ({file})", self.function),
            (Some(file), line) => format!("{} ({file}:{line})", self.function),
            (None, _) => self.function.clone(),
        }
    }
}

/// Where a report happened: its kind and the top user frames of its (up to) two
/// site stacks, in report order.
#[derive(Clone, Debug)]
pub struct Site {
    pub kind: String,
    pub frames: Vec<SiteFrame>,
}

impl Site {
    pub fn of(report: &Report, root: &SourceRoot) -> Site {
        let frames = report
            .site_stacks()
            .iter()
            .filter_map(|s| top_user_frame(s.frames, root))
            .map(|f| SiteFrame::new(f, root))
            .collect();
        Site {
            kind: report.kind.clone(),
            frames,
        }
    }

    /// A fingerprint of the site that two runs of the same code share: FNV-1a (64
    /// bits, hex) of the kind and each site frame's function and root-relative file.
    /// Lines, columns, addresses, pids and thread ids are left out, so an edit above
    /// the race or another checkout directory keeps the alert. A race's two frames
    /// are hashed in sorted order: which of the two accesses came second (and so is
    /// `current`) depends on scheduling.
    pub fn fingerprint(&self, race: bool) -> String {
        let mut parts: Vec<(String, String)> = self
            .frames
            .iter()
            .map(|f| (f.function.clone(), f.file.clone().unwrap_or_default()))
            .collect();
        if race {
            parts.sort();
        }
        let mut text = self.kind.clone();
        for (function, file) in parts {
            text.push('\0');
            text.push_str(&function);
            text.push('\0');
            text.push_str(&file);
        }
        let mut out = String::new();
        let _ = write!(out, "{:016x}", fnv1a64(text.as_bytes()));
        out
    }
}

/// FNV-1a, 64 bits: a hash whose value is fixed by its definition (std's hashers
/// may change between Rust releases, and fingerprints must not).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, file: &str, line: u32) -> Frame {
        Frame {
            function: Some(function.to_owned()),
            file: Some(file.to_owned()),
            line,
            column: 3,
            module: "/bin/prog".to_owned(),
            offset: "0x10".to_owned(),
        }
    }

    #[test]
    fn rule_ids_are_slugs_of_the_kind() {
        assert_eq!(rule_id("data race"), "data-race");
        assert_eq!(rule_id("heap-use-after-free"), "heap-use-after-free");
        assert_eq!(
            rule_id("unlock of an unlocked mutex (or by a wrong thread)"),
            "unlock-of-an-unlocked-mutex-or-by-a-wrong-thread"
        );
        assert_eq!(
            rule_id("lock-order-inversion (potential deadlock)"),
            "lock-order-inversion-potential-deadlock"
        );
        assert_eq!(rule_id(" "), "unknown");
    }

    #[test]
    fn paths_resolve_against_the_root() {
        let root = SourceRoot {
            dir: PathBuf::from("/src/proj"),
        };
        assert_eq!(
            root.resolve("/src/proj/a/b.c"),
            SourcePath::InRoot("a/b.c".into())
        );
        assert_eq!(
            root.resolve("/src/proj/a/../c.c"),
            SourcePath::InRoot("c.c".into())
        );
        assert_eq!(root.resolve("./x.c"), SourcePath::InRoot("x.c".into()));
        assert_eq!(
            root.resolve("/usr/include/stdio.h"),
            SourcePath::Outside("/usr/include/stdio.h".into())
        );
        assert_eq!(
            root.resolve("/src/projector/x.c"),
            SourcePath::Outside("/src/projector/x.c".into())
        );
    }

    #[test]
    fn top_user_frame_skips_std_and_system_frames() {
        let root = SourceRoot {
            dir: PathBuf::from("/src/proj"),
        };
        let frames = vec![
            frame(
                "std::sync::Once::call",
                "/rustc/abc/library/std/src/x.rs",
                5,
            ),
            frame("memcpy_wrapper", "/usr/include/string.h", 9),
            frame("helper", "/elsewhere/lib.c", 7),
            frame("worker", "/src/proj/w.c", 12),
        ];
        assert_eq!(top_user_frame(&frames, &root).unwrap().line, 12);
        assert_eq!(top_user_frame(&frames[..3], &root).unwrap().line, 7);
        assert_eq!(top_user_frame(&frames[..2], &root).unwrap().line, 5);
        assert_eq!(top_user_frame(&[], &root), None);
    }

    fn race(first: Frame, second: Frame) -> Report {
        let access = |t: &str, f: Frame| Access {
            access_type: "write".into(),
            size: 4,
            addr: "0x1".into(),
            thread: t.into(),
            stack: Some(vec![f]),
        };
        Report {
            kind: "data race".into(),
            current: Some(access("T1", first)),
            previous: Some(access("main", second)),
            ..Report::default()
        }
    }

    #[test]
    fn fingerprints_ignore_lines_and_access_order() {
        let root = SourceRoot {
            dir: PathBuf::from("/src/proj"),
        };
        let a = race(
            frame("f", "/src/proj/a.c", 3),
            frame("g", "/src/proj/a.c", 9),
        );
        let moved = race(
            frame("f", "/src/proj/a.c", 4),
            frame("g", "/src/proj/a.c", 10),
        );
        let swapped = race(
            frame("g", "/src/proj/a.c", 9),
            frame("f", "/src/proj/a.c", 3),
        );
        let other = race(
            frame("f", "/src/proj/a.c", 3),
            frame("h", "/src/proj/a.c", 9),
        );
        let fp = |r: &Report| Site::of(r, &root).fingerprint(true);
        assert_eq!(fp(&a), fp(&moved));
        assert_eq!(fp(&a), fp(&swapped));
        assert_ne!(fp(&a), fp(&other));
        assert_eq!(fp(&a).len(), 16);
        // Another checkout: the same relative paths, the same fingerprint.
        let root2 = SourceRoot {
            dir: PathBuf::from("/ci/work"),
        };
        let elsewhere = race(frame("f", "/ci/work/a.c", 3), frame("g", "/ci/work/a.c", 9));
        assert_eq!(fp(&a), Site::of(&elsewhere, &root2).fingerprint(true));
    }

    #[test]
    fn parses_a_report_line_and_tolerates_new_fields() {
        let line = r#"{"kind":"thread leak","pid":7,"current":null,"previous":null,"sleep":null,"location":null,"mutexes":[],"threads":[{"id":"T1","tid":8,"running":false,"name":null,"parent":"main","stack":[{"function":"main","file":"/p/x.c","line":4,"column":3,"module":"/p/x","offset":"0x11"}]}],"summary":null,"stacks":[],"signal":null,"count":3,"new_field":1}"#;
        let reports = parse(line, "r.jsonl").unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].count, 3);
        let stacks = reports[0].labeled_stacks();
        assert_eq!(stacks.len(), 1);
        assert_eq!(stacks[0].label, "thread T1 created by main thread");
        assert!(parse("{\"x\":1}", "r.jsonl")
            .unwrap_err()
            .starts_with("r.jsonl:1: not an umbra JSON report"));
    }
}
