//! ThreadSanitizer suppressions: `type:pattern` lines from the `suppressions=` file,
//! the program's `__tsan_default_suppressions()` and the built-in list
//! ([`builtin`]), matched the way `tsan_suppressions.cpp` does.
//!
//! File format (sanitizer_common's `SuppressionContext::Parse`): one suppression per
//! line; leading and trailing whitespace is ignored; empty lines and lines starting
//! with `#` are skipped; every other line is `type:pattern` with `type` one of
//! `race`, `race_top`, `thread`, `mutex`, `signal`, `deadlock`, `called_from_lib`.
//! An unknown type is an error (TSan prints "failed to parse suppressions" and
//! dies). umbra also trims whitespace around the type and the pattern
//! (`race: foo` is `race:foo`, where TSan would keep the pattern ` foo`, which can
//! never match a symbol).
//!
//! Patterns use [`template_match`]. A report is suppressed, in TSan's order, when a
//! suppression of the report's kind matches the function name, the file path or
//! the module path of any frame of any of its stacks (the accesses' stacks, then
//! any other stacks, then the threads' creation stacks); for races also when a
//! `race_top` suppression matches the top frame of one of those stacks; and for
//! races on globals when a `race` suppression matches the global's name (or
//! module). The caller maps report types to kinds like TSan's `conv`: data races,
//! races on vptr, heap-use-after-free and external races use `race`; thread leaks
//! `thread`; mutex misuse `mutex`; signal-unsafe calls and errno spoiling `signal`;
//! lock-order inversions `deadlock`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::symbolize::Frame;

/// The report kinds a suppression applies to (TSan's `kSuppression*` types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuppressionKind {
    /// `race`: any frame of any stack of a race report, and the racy global's name.
    Race,
    /// `race_top`: only the top frame of each stack of a race report.
    RaceTop,
    /// `thread`: thread leaks (matched against the thread's creation stack).
    Thread,
    /// `mutex`: mutex misuse reports.
    Mutex,
    /// `signal`: signal-unsafe calls and errno spoiled in signal handlers.
    Signal,
    /// `deadlock`: lock-order inversions.
    Deadlock,
    /// `called_from_lib`: a library whose calls into intercepted functions are ignored.
    CalledFromLib,
}

impl SuppressionKind {
    /// All kinds, in the order they are listed in error messages.
    pub const ALL: [SuppressionKind; 7] = [
        SuppressionKind::Race,
        SuppressionKind::RaceTop,
        SuppressionKind::Thread,
        SuppressionKind::Mutex,
        SuppressionKind::Signal,
        SuppressionKind::Deadlock,
        SuppressionKind::CalledFromLib,
    ];

    /// The type's name in suppression files.
    pub const fn name(self) -> &'static str {
        match self {
            SuppressionKind::Race => "race",
            SuppressionKind::RaceTop => "race_top",
            SuppressionKind::Thread => "thread",
            SuppressionKind::Mutex => "mutex",
            SuppressionKind::Signal => "signal",
            SuppressionKind::Deadlock => "deadlock",
            SuppressionKind::CalledFromLib => "called_from_lib",
        }
    }

    pub fn from_name(name: &str) -> Option<SuppressionKind> {
        SuppressionKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
    }
}

/// One `type:pattern` line.
#[derive(Debug)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// The pattern, for [`template_match`].
    pub pattern: String,
    /// How many times this suppression matched (relaxed counter; matching takes `&self`).
    pub hits: AtomicU64,
    /// 1-based line in `file`.
    pub line: u32,
    /// Where the line came from: the file path, `__tsan_default_suppressions` or `<builtin>`.
    pub file: String,
}

impl Suppression {
    pub fn hit_count(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

/// A suppressions file that could not be read or parsed. `line` is 0 when the
/// error concerns the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for SuppressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "umbra: {}", self.message)
        } else {
            write!(
                f,
                "umbra: suppressions file '{}', line {}: {}",
                self.file, self.line, self.message
            )
        }
    }
}

/// The name [`builtin`]'s lines are recorded under.
pub const BUILTIN_NAME: &str = "<builtin>";

/// TSan's built-in suppressions (`std_suppressions` in `tsan_suppressions.cpp`):
/// races inside libstdc++ 4.4's reference-counted `std::string`, and a false
/// positive in `std::thread` from atomic synchronization libstdc++ does out of
/// sight. Parse them last, after the user's file and `__tsan_default_suppressions()`.
pub fn builtin() -> &'static str {
    "race:^_M_rep$\n\
     race:^_M_is_leaked$\n\
     race:std::_Sp_counted_ptr_inplace<std::thread::_Impl\n"
}

/// All loaded suppressions, in load order (the first matching one wins).
#[derive(Debug, Default)]
pub struct Suppressions {
    list: Vec<Suppression>,
}

/// Largest suppressions file read (a sanity bound, far above any real one).
const MAX_FILE: usize = 64 << 20;

impl Suppressions {
    pub const fn new() -> Self {
        Suppressions { list: Vec::new() }
    }

    /// Parses suppression text and appends its suppressions. `file` names the
    /// source in errors. All-or-nothing: on error nothing from `text` is added.
    pub fn parse(&mut self, file: &str, text: &str) -> Result<(), SuppressError> {
        let mut added = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line_no = (i + 1) as u32;
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| SuppressError {
                file: String::from(file),
                line: line_no,
                message,
            };
            let Some(colon) = line.find(':') else {
                return Err(err(format!("expected 'type:pattern', got '{}'", line)));
            };
            let ty = line[..colon].trim_matches(|c| c == ' ' || c == '\t');
            let Some(kind) = SuppressionKind::from_name(ty) else {
                let mut supported = String::new();
                for (j, k) in SuppressionKind::ALL.iter().enumerate() {
                    if j > 0 {
                        supported.push_str(", ");
                    }
                    supported.push_str(k.name());
                }
                return Err(err(format!(
                    "unknown suppression type '{}' (supported: {})",
                    ty, supported
                )));
            };
            let pattern = line[colon + 1..].trim_matches(|c| c == ' ' || c == '\t');
            added.push(Suppression {
                kind,
                pattern: String::from(pattern),
                hits: AtomicU64::new(0),
                line: line_no,
                file: String::from(file),
            });
        }
        self.list.append(&mut added);
        Ok(())
    }

    /// Reads and parses a suppressions file. Like TSan, a relative path that cannot
    /// be opened is also tried relative to the executable's directory. A missing or
    /// unreadable file is an error ("cannot read suppressions file 'F'"); an empty
    /// path is one too (the caller skips the call when `suppressions` is unset).
    pub fn load_file(&mut self, path: &str) -> Result<(), SuppressError> {
        let cannot = || SuppressError {
            file: String::from(path),
            line: 0,
            message: format!("cannot read suppressions file '{}'", path),
        };
        if path.is_empty() {
            return Err(cannot());
        }
        let mut used = String::from(path);
        let mut data = read_file(path.as_bytes());
        if data.is_none() && !path.starts_with('/') {
            if let Some(alt) = exe_relative(path) {
                data = read_file(alt.as_bytes());
                if data.is_some() {
                    used = alt;
                }
            }
        }
        let data = data.ok_or_else(cannot)?;
        let text = String::from_utf8_lossy(&data);
        self.parse(&used, &text)
    }

    /// Matches a race report: any frame (function, file, module) of any of `stacks`
    /// against `race` suppressions, the top frame of each against `race_top`, then
    /// `global_name` (for a race on a global) against `race`. Counts a hit on the
    /// suppression returned.
    pub fn match_race(
        &self,
        stacks: &[&[Frame]],
        global_name: Option<&str>,
    ) -> Option<&Suppression> {
        let extra: &[&str] = match &global_name {
            Some(g) => core::slice::from_ref(g),
            None => &[],
        };
        self.match_report(SuppressionKind::Race, stacks, extra)
    }

    /// Matches a report of `kind` against the function, file and module of every
    /// frame of `stacks` (for `Race` also `race_top` on each top frame; `RaceTop`
    /// alone looks only at top frames). Counts a hit on the suppression returned.
    pub fn match_kind(&self, kind: SuppressionKind, stacks: &[&[Frame]]) -> Option<&Suppression> {
        self.match_report(kind, stacks, &[])
    }

    /// The general form of [`match_race`](Self::match_race): after the stacks, each
    /// of `location` (e.g. a global's name and its module path) is matched against
    /// suppressions of `kind`, as TSan does for a report's global location.
    pub fn match_report(
        &self,
        kind: SuppressionKind,
        stacks: &[&[Frame]],
        location: &[&str],
    ) -> Option<&Suppression> {
        if !self.has(kind) && !(kind == SuppressionKind::Race && self.has(SuppressionKind::RaceTop))
        {
            return None;
        }
        let found = (|| {
            for stack in stacks {
                if kind != SuppressionKind::RaceTop {
                    for frame in stack.iter() {
                        if let Some(s) = self.match_frame(kind, frame) {
                            return Some(s);
                        }
                    }
                }
                if kind == SuppressionKind::Race || kind == SuppressionKind::RaceTop {
                    if let Some(top) = stack.first() {
                        if let Some(s) = self.match_frame(SuppressionKind::RaceTop, top) {
                            return Some(s);
                        }
                    }
                }
            }
            if kind != SuppressionKind::RaceTop {
                for text in location {
                    if let Some(s) = self.first_match(kind, text) {
                        return Some(s);
                    }
                }
            }
            None
        })();
        if let Some(s) = found {
            s.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The `called_from_lib` suppression matching a module path, if any (libignore:
    /// calls from that library into intercepted functions are ignored). Counts a hit.
    pub fn match_lib(&self, module_path: &str) -> Option<&Suppression> {
        let s = self.first_match(SuppressionKind::CalledFromLib, module_path)?;
        s.hits.fetch_add(1, Ordering::Relaxed);
        Some(s)
    }

    fn match_frame(&self, kind: SuppressionKind, frame: &Frame) -> Option<&Suppression> {
        // TSan's order: function, then file, then module; each against every suppression.
        [
            frame.function.as_deref(),
            frame.file.as_deref(),
            Some(frame.module.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(|text| self.first_match(kind, text))
    }

    fn first_match(&self, kind: SuppressionKind, text: &str) -> Option<&Suppression> {
        self.list
            .iter()
            .find(|s| s.kind == kind && template_match(&s.pattern, text))
    }

    fn has(&self, kind: SuppressionKind) -> bool {
        self.list.iter().any(|s| s.kind == kind)
    }

    /// `print_suppressions=1` output in TSan's format:
    /// `ThreadSanitizer: Matched N suppressions (pid=P):` (N = total hits) then one
    /// `HITS type:pattern` line per suppression that matched, in load order. Empty
    /// when nothing matched (TSan prints nothing then).
    pub fn hits_report(&self, pid: u32) -> String {
        let total: u64 = self.list.iter().map(|s| s.hit_count()).sum();
        if total == 0 {
            return String::new();
        }
        let mut out = format!(
            "ThreadSanitizer: Matched {} suppressions (pid={}):\n",
            total, pid
        );
        for s in self.list.iter().filter(|s| s.hit_count() > 0) {
            out.push_str(&format!(
                "{} {}:{}\n",
                s.hit_count(),
                s.kind.name(),
                s.pattern
            ));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn iter(&self) -> core::slice::Iter<'_, Suppression> {
        self.list.iter()
    }
}

/// sanitizer_common's `TemplateMatch`. `*` matches any run of characters, a leading
/// `^` anchors at the start, `$` anchors at the end (and ends the pattern: anything
/// after it is ignored); without anchors the pattern matches anywhere. An empty
/// `text` never matches (so frames without a file or module never match), while an
/// empty pattern matches every non-empty text.
///
/// Like TSan's, the matcher does not backtrack: each literal piece binds to its
/// first occurrence after the previous one, so `foo$` does not match `foofoo`
/// (the first `foo` is followed by more text) and `a*b$` does not match `abab`.
/// Kept deliberately, so a suppressions file means the same under umbra and TSan.
pub fn template_match(pattern: &str, text: &str) -> bool {
    let mut s = text.as_bytes();
    if s.is_empty() {
        return false;
    }
    let mut p = pattern.as_bytes();
    let mut start = false;
    if p.first() == Some(&b'^') {
        start = true;
        p = &p[1..];
    }
    let mut asterisk = false;
    while let Some(&c) = p.first() {
        if c == b'*' {
            p = &p[1..];
            start = false;
            asterisk = true;
            continue;
        }
        if c == b'$' {
            return s.is_empty() || asterisk;
        }
        if s.is_empty() {
            return false;
        }
        let end = p
            .iter()
            .position(|&c| c == b'*' || c == b'$')
            .unwrap_or(p.len());
        let piece = &p[..end];
        let Some(pos) = find(s, piece) else {
            return false;
        };
        if start && pos != 0 {
            return false;
        }
        s = &s[pos + piece.len()..];
        p = &p[end..];
        start = false;
        asterisk = false;
    }
    true
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The whole file through raw syscalls, or `None` if it cannot be opened or read.
fn read_file(path: &[u8]) -> Option<Vec<u8>> {
    let fd = umbra_sys::open_readonly(path)?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let ok = loop {
        let r = umbra_sys::read(fd, &mut buf);
        if r == -4 {
            continue; // EINTR
        }
        if r < 0 || data.len() + r as usize > MAX_FILE {
            break false; // EISDIR for a directory, EIO, ...
        }
        if r == 0 {
            break true;
        }
        data.extend_from_slice(&buf[..r as usize]);
    };
    umbra_sys::close(fd);
    ok.then_some(data)
}

/// `path` joined to the directory of `/proc/self/exe`.
fn exe_relative(path: &str) -> Option<String> {
    let mut buf = [0u8; 4096];
    let r = umbra_sys::syscall3(
        umbra_sys::nr::READLINK,
        c"/proc/self/exe".as_ptr() as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
    );
    if r <= 0 || r as usize >= buf.len() {
        return None;
    }
    let exe = core::str::from_utf8(&buf[..r as usize]).ok()?;
    let dir = &exe[..exe.rfind('/')? + 1];
    Some(format!("{}{}", dir, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_match_table() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            // Substring without anchors.
            ("foo", "foo", true),
            ("foo", "xfoox", true),
            ("foo", "fo", false),
            ("racy.c", "/tmp/x/racy.c", true),
            // Start anchor.
            ("^foo", "foobar", true),
            ("^foo", "xfoo", false),
            ("^foo", "foofoo", true),
            // End anchor.
            ("foo$", "xfoo", true),
            ("foo$", "foox", false),
            ("^foo$", "foo", true),
            ("^foo$", "foo2", false),
            ("^foo$", "afoo", false),
            ("^_M_rep$", "_M_rep", true),
            ("^_M_rep$", "std::string::_M_rep", false),
            // No backtracking, like TSan: the first 'foo' binds, then '$' fails.
            ("foo$", "foofoo", false),
            ("a*b$", "abab", false),
            // Globs.
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "ca", false),
            ("^a*c$", "abbbc", true),
            ("^a*c$", "abbbcd", false),
            ("*", "anything", true),
            ("^*foo", "xxfoo", true),
            ("foo*", "foo", true),
            ("foo*$", "foox", true),
            ("*$", "x", true),
            ("std::*::push", "std::vector<int>::push", true),
            ("crossbeam_epoch", "crossbeam_epoch::internal::Global::collect", true),
            // Anything after '$' is ignored.
            ("foo$bar", "foo", true),
            // '^' not at the start is literal.
            ("a^b", "a^b", true),
            ("a^b", "ab", false),
            // Empty pattern / text.
            ("", "x", true),
            ("^", "x", true),
            ("", "", false),
            ("*", "", false),
            ("^$", "x", false),
            ("$", "x", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(
                template_match(p, t),
                want,
                "template_match({:?}, {:?})",
                p,
                t
            );
        }
    }

    #[test]
    fn builtin_parses() {
        let mut s = Suppressions::new();
        s.parse(BUILTIN_NAME, builtin()).unwrap();
        let got: Vec<_> = s.iter().map(|s| (s.kind, s.pattern.as_str())).collect();
        assert_eq!(
            got,
            [
                (SuppressionKind::Race, "^_M_rep$"),
                (SuppressionKind::Race, "^_M_is_leaked$"),
                (
                    SuppressionKind::Race,
                    "std::_Sp_counted_ptr_inplace<std::thread::_Impl"
                ),
            ]
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for k in SuppressionKind::ALL {
            assert_eq!(SuppressionKind::from_name(k.name()), Some(k));
        }
        assert_eq!(SuppressionKind::from_name("rase"), None);
    }
}
