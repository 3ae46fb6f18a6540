//! Corpus programs and the expectations written in their sources.
//!
//! Header lines at the top of each source (C and Rust alike):
//! - `// umbra: race` or `// umbra: clean` (required, first line): umbra's verdict;
//! - `// stock: race` or `// stock: clean`: stock TSan's verdict where it differs
//!   (absent means stock agrees); where it differs only the verdict is checked on stock;
//! - `// reports: N`: exactly N warnings must be reported;
//! - `// cflags: ...`: extra gcc/g++ flags (C and C++ only).
//!
//! In a racy program the racing source lines end with the comment `// RACE`.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::toolchain::{corpus_dir, Runtime};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    C,
    /// C++ built with g++ (tests/corpus/cpp).
    Cpp,
    Rust,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Rust => "rust",
        }
    }

    /// Directory holding this language's sources.
    pub fn source_dir(self) -> PathBuf {
        match self {
            Lang::C => corpus_dir().join("c"),
            Lang::Cpp => corpus_dir().join("cpp"),
            Lang::Rust => corpus_dir().join("rust/src/bin"),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Rust => "rs",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Race,
    Clean,
}

impl Verdict {
    fn parse(text: &str) -> Option<Verdict> {
        match text {
            "race" => Some(Verdict::Race),
            "clean" => Some(Verdict::Clean),
            _ => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Race => "race",
            Verdict::Clean => "clean",
        })
    }
}

#[derive(Clone, Debug)]
pub struct Program {
    pub lang: Lang,
    /// File stem: the C/C++ binary name or the Rust `[[bin]]` name.
    pub name: String,
    pub source: PathBuf,
    pub umbra: Verdict,
    /// `Some` only when a `// stock:` header is present.
    pub stock: Option<Verdict>,
    /// `// stock-previous: lost`: stock TSan reports the race but cannot restore the
    /// previous access's stack (`[failed to restore the stack]`), so on stock only the
    /// current access's line is checked.
    pub stock_loses_previous: bool,
    /// Lines marked `// RACE`.
    pub race_lines: BTreeSet<u32>,
    /// `// reports: N`.
    pub reports: Option<usize>,
    /// `// cflags: ...` (gcc or g++).
    pub cflags: Vec<String>,
    /// First sentence of the comment after the headers: what the program covers.
    pub description: String,
}

impl Program {
    /// `c/global_ww_race`, `rust/static_mut_race`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.lang.name(), self.name)
    }

    pub fn file_name(&self) -> &str {
        self.source
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    }

    pub fn expected(&self, runtime: Runtime) -> Verdict {
        match runtime {
            Runtime::Umbra | Runtime::UmbraClang => self.umbra,
            Runtime::Stock => self.stock.unwrap_or(self.umbra),
        }
    }

    /// Whether the reported lines must equal the `// RACE` lines: always, except for
    /// a stock verdict that knowingly differs from umbra's (a stock false positive or
    /// negative says nothing about where the real race is).
    pub fn check_lines(&self, runtime: Runtime) -> bool {
        runtime.is_umbra() || self.stock.is_none_or(|stock| stock == self.umbra)
    }

    /// Whether the previous access of each report must have its stack (stock TSan
    /// loses it on some programs; see `stock_loses_previous`).
    pub fn needs_previous_stack(&self, runtime: Runtime) -> bool {
        runtime.is_umbra() || !self.stock_loses_previous
    }

    pub fn parse(lang: Lang, source: &Path) -> Result<Program, String> {
        let text = fs::read_to_string(source).map_err(|e| format!("{}: {e}", source.display()))?;
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let bad = |msg: String| format!("{}: {msg}", source.display());
        let mut program = Program {
            lang,
            name,
            source: source.to_owned(),
            umbra: Verdict::Clean,
            stock: None,
            stock_loses_previous: false,
            race_lines: BTreeSet::new(),
            reports: None,
            cflags: Vec::new(),
            description: String::new(),
        };
        let mut saw_umbra = false;
        for (index, (key, value)) in text.lines().map_while(header).enumerate() {
            match key {
                "umbra" if index == 0 => saw_umbra = true,
                "umbra" => return Err(bad("`// umbra:` must be the first line".into())),
                _ => {}
            }
            match key {
                "umbra" | "stock" => {
                    let verdict = Verdict::parse(value)
                        .ok_or_else(|| bad(format!("`// {key}: {value}` is not race/clean")))?;
                    if key == "umbra" {
                        program.umbra = verdict;
                    } else {
                        program.stock = Some(verdict);
                    }
                }
                "reports" => {
                    let n = value
                        .parse()
                        .map_err(|_| bad(format!("bad `// reports: {value}`")))?;
                    program.reports = Some(n);
                }
                "cflags" => program.cflags = value.split_whitespace().map(str::to_owned).collect(),
                "stock-previous" if value == "lost" => program.stock_loses_previous = true,
                "stock-previous" => {
                    return Err(bad(format!(
                        "bad `// stock-previous: {value}` (only `lost`)"
                    )))
                }
                _ => unreachable!(),
            }
        }
        if !saw_umbra {
            return Err(bad(
                "first line must be `// umbra: race` or `// umbra: clean`".into(),
            ));
        }
        program.description = description(&text);
        program.race_lines = (1..)
            .zip(text.lines())
            .filter(|(_, line)| line.trim_end().ends_with("// RACE"))
            .map(|(number, _)| number)
            .collect();
        if program.umbra == Verdict::Race && program.race_lines.is_empty() {
            return Err(bad(
                "a racy program must mark its racing lines with `// RACE`".into(),
            ));
        }
        if program.umbra == Verdict::Clean && !program.race_lines.is_empty() {
            return Err(bad("a clean program must not have `// RACE` lines".into()));
        }
        Ok(program)
    }
}

/// `// key: value` for the keys this corpus understands.
fn header(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.strip_prefix("// ")?.split_once(':')?;
    matches!(
        key,
        "umbra" | "stock" | "stock-previous" | "reports" | "cflags"
    )
    .then(|| (key, value.trim()))
}

/// The first sentence of the `/* ... */` or `//!` comment that follows the headers.
fn description(text: &str) -> String {
    let mut words = String::new();
    for line in text.lines().skip_while(|line| header(line).is_some()) {
        let line = line.trim();
        let Some(rest) = ["/*", "*", "//!"]
            .iter()
            .find_map(|marker| line.strip_prefix(marker))
        else {
            break;
        };
        let (rest, closed) = match rest.split_once("*/") {
            Some((before, _)) => (before, true),
            None => (rest, false),
        };
        words.push_str(rest.trim());
        words.push(' ');
        if closed {
            break;
        }
    }
    let words = words.trim();
    match words.find(". ") {
        Some(end) => words[..=end].to_owned(),
        None => words.to_owned(),
    }
}

/// All programs of one language, sorted by name, restricted by `UMBRA_CORPUS_FILTER`
/// (comma-separated substrings of `lang/name`). Panics on malformed headers.
pub fn discover(lang: Lang) -> Vec<Program> {
    let dir = lang.source_dir();
    let mut sources: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == lang.extension()))
        .collect();
    sources.sort();
    let programs: Vec<Program> = sources
        .iter()
        .map(|source| Program::parse(lang, source).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    programs
        .into_iter()
        .filter(|p| selected(&p.label()))
        .collect()
}

/// Whether `UMBRA_CORPUS_FILTER` (if set) selects this `lang/name` label.
pub fn selected(label: &str) -> bool {
    match std::env::var("UMBRA_CORPUS_FILTER") {
        Ok(filter) if !filter.trim().is_empty() => filter
            .split(',')
            .map(str::trim)
            .any(|part| !part.is_empty() && label.contains(part)),
        _ => true,
    }
}
