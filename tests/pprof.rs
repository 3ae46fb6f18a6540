//! `profile_path` end to end: C programs in `tests/pprof/` with a known contended
//! lock (and a known race) run under umbra with the option set; the test reads the
//! file back as pprof tools do (gunzip, then decode `perftools.profiles.Profile`
//! with message types written here from pprof's `profile.proto`, independently of
//! the runtime's encoder) and checks what a `pprof -top` of each sample type would
//! put first, against what the program's header says.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::annotated::ProgramDir;
use common::exec::{Output, Status};
use common::toolchain::{target_dir, workspace_dir};

/// `perftools.profiles` messages, the fields this test reads.
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "9")]
        pub time_nanos: i64,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
        #[prost(message, repeated, tag = "3")]
        pub label: Vec<Label>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(int64, tag = "1")]
        pub key: i64,
        #[prost(int64, tag = "2")]
        pub str: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
    }
}

/// A decoded profile with its string and id references resolved.
struct Profile(proto::Profile);

/// One sample: its values by sample type, its label, its stack as function names
/// (innermost first, inlined frames included) and the leaf's `file:line`.
#[derive(Debug)]
struct Sample {
    values: BTreeMap<String, i64>,
    label: (String, String),
    functions: Vec<String>,
    leaf_line: String,
}

impl Profile {
    fn str(&self, i: i64) -> &str {
        &self.0.string_table[i as usize]
    }

    fn sample_types(&self) -> Vec<String> {
        self.0
            .sample_type
            .iter()
            .map(|t| format!("{}/{}", self.str(t.r#type), self.str(t.unit)))
            .collect()
    }

    fn samples(&self) -> Vec<Sample> {
        let p = &self.0;
        let types: Vec<&str> = p.sample_type.iter().map(|t| self.str(t.r#type)).collect();
        p.sample
            .iter()
            .map(|s| {
                assert_eq!(s.value.len(), types.len(), "values per sample: {s:?}");
                let mut functions = Vec::new();
                let mut leaf_line = String::new();
                for id in &s.location_id {
                    let loc = p
                        .location
                        .iter()
                        .find(|l| l.id == *id)
                        .unwrap_or_else(|| panic!("no location {id}"));
                    assert!(
                        loc.mapping_id == 0 || p.mapping.iter().any(|m| m.id == loc.mapping_id),
                        "location {id}: no mapping {}",
                        loc.mapping_id
                    );
                    for line in &loc.line {
                        let f = p
                            .function
                            .iter()
                            .find(|f| f.id == line.function_id)
                            .unwrap_or_else(|| panic!("no function {}", line.function_id));
                        if leaf_line.is_empty() {
                            leaf_line = format!("{}:{}", self.str(f.filename), line.line);
                        }
                        functions.push(self.str(f.name).to_string());
                    }
                }
                let label = s
                    .label
                    .first()
                    .map(|l| (self.str(l.key).to_string(), self.str(l.str).to_string()))
                    .unwrap_or_default();
                Sample {
                    values: types
                        .iter()
                        .zip(&s.value)
                        .map(|(t, v)| (t.to_string(), *v))
                        .collect(),
                    label,
                    functions,
                    leaf_line,
                }
            })
            .collect()
    }

    /// What `pprof -top -sample_index=TYPE` lists first: the leaf function with the
    /// largest flat value of `ty`, and that value.
    fn top(&self, ty: &str) -> (String, i64) {
        let mut flat: BTreeMap<String, i64> = BTreeMap::new();
        for s in self.samples() {
            let leaf = s.functions.first().cloned().unwrap_or_default();
            *flat.entry(leaf).or_default() += s.values[ty];
        }
        flat.into_iter()
            .max_by_key(|(_, v)| *v)
            .expect("a profile with samples")
    }
}

/// Gunzips and decodes a profile file.
fn read_profile(path: &Path) -> Profile {
    let gz = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{} is not gzip: {e}", path.display()));
    let p = <proto::Profile as prost::Message>::decode(raw.as_slice())
        .unwrap_or_else(|e| panic!("{} is not a profile.proto: {e}", path.display()));
    assert_eq!(p.string_table.first().map(String::as_str), Some(""));
    Profile(p)
}

/// The programs of this test, with their `// exit:`, `// stdout:` ... headers
/// (tests/common/annotated.rs) and this test's own `// key: value` lines.
const PROGRAMS: ProgramDir = ProgramDir::new("pprof");
/// The exit-path programs of tests/exit_and_options.rs.
const EXIT_PROGRAMS: ProgramDir = ProgramDir::new("exit");

/// A fresh directory for one test's profiles.
fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("pprof-tmp").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `NAME` of `programs` with `profile_path=SCRATCH/prof` and `more` options;
/// its output and the files it left in SCRATCH.
fn profiled_run(name: &str, programs: ProgramDir, more: &str) -> (Output, Vec<PathBuf>) {
    let tag = format!("{}-{name}-{}", programs.dir, more.replace(['=', ' '], "_"));
    let dir = scratch(&tag);
    let options = format!("profile_path={}/prof {more}", dir.display());
    let out = programs.run_umbra(name, &[("UMBRA_OPTIONS", &options)]);
    let files = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    (out, files)
}

/// The one profile a run wrote, checked to be named `prof.PID`.
fn only_profile(name: &str, out: &Output, files: &[PathBuf]) -> Profile {
    assert_eq!(
        files.len(),
        1,
        "{name}: expected one profile file, found {files:?}\nstderr:\n{}",
        out.stderr
    );
    let file_name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    let pid = file_name.strip_prefix("prof.").unwrap_or_default();
    assert!(
        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()),
        "profile file {file_name} is not prof.PID"
    );
    read_profile(&files[0])
}

/// Runs `tests/pprof/NAME.c` with `profile_path` set, checks the run against the
/// program's header (the option changes nothing the program sees), and returns its
/// output and profile.
fn run_profiled(name: &str) -> (Output, Profile) {
    let (out, files) = profiled_run(name, PROGRAMS, "");
    if let Some(why) = PROGRAMS.mismatch(name, &PROGRAMS.expected(name), &out) {
        panic!("{name} with profile_path: {why}");
    }
    let p = only_profile(name, &out, &files);
    (out, p)
}

/// `// key: value` lines of the program's header.
fn header(name: &str) -> BTreeMap<String, String> {
    let path = workspace_dir().join(format!("tests/pprof/{name}.c"));
    fs::read_to_string(&path)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| {
            let (k, v) = l.trim_start_matches("//").split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

#[test]
fn contended_mutex_and_race_are_the_top_entries() {
    let name = "contended_mutex";
    let h = header(name);
    let rounds: i64 = h["rounds"].parse().unwrap();
    let hold_ms: i64 = h["hold_ms"].parse().unwrap();
    let (_, p) = run_profiled(name);

    assert_eq!(
        p.sample_types(),
        ["races/count", "contentions/count", "delay/nanoseconds"]
    );
    assert_eq!(p.str(p.0.default_sample_type), "races");
    assert!(p.0.time_nanos > 1_700_000_000_000_000_000, "time_nanos");
    assert!(
        p.0.duration_nanos >= rounds * hold_ms * 1_000_000,
        "duration_nanos {}",
        p.0.duration_nanos
    );

    // Contention: the waiter's lock call, delayed at least as long as the holder
    // slept with the waiter known to be on its way into pthread_mutex_lock.
    let (top, delay) = p.top("delay");
    assert_eq!(
        top,
        h["waiter"],
        "top delay entry; samples: {:#?}",
        p.samples()
    );
    assert!(
        delay >= rounds * hold_ms * 1_000_000,
        "waiter delayed {delay} ns, the holder slept {rounds} x {hold_ms} ms"
    );
    let (top, contentions) = p.top("contentions");
    assert_eq!(top, h["waiter"]);
    assert_eq!(contentions, rounds, "every round's lock call waited once");
    let samples = p.samples();
    let waits: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.functions.first() == Some(&h["waiter"]))
        .collect();
    assert!(waits
        .iter()
        .all(|s| s.label == ("lock".into(), "mutex".into())));
    // The lock call's own line, in the program's file; no runtime frame above it.
    let lock_line = PROGRAMS.marker_line(name, "wait");
    assert!(
        waits.iter().all(|s| s
            .leaf_line
            .ends_with(&format!("contended_mutex.c:{lock_line}"))),
        "{waits:#?}"
    );

    // Races: one report, a sample for each of its two accesses, both in bump_racy,
    // called from the two threads.
    let races: Vec<&Sample> = samples.iter().filter(|s| s.values["races"] > 0).collect();
    assert_eq!(
        races.iter().map(|s| s.values["races"]).sum::<i64>(),
        2,
        "{races:#?}"
    );
    assert_eq!(p.top("races"), (h["racy"].clone(), 2));
    let callers: Vec<&str> = races.iter().map(|s| s.functions[1].as_str()).collect();
    assert!(
        callers.contains(&"holder") && callers.contains(&"waiter"),
        "{callers:?}"
    );
    assert!(races
        .iter()
        .all(|s| s.label == ("report".into(), "data race".into()) && s.values["contentions"] == 0));
}

#[test]
fn without_profile_path_nothing_is_written_and_output_is_the_same() {
    let dir = scratch("off");
    let name = "contended_mutex";
    let log = format!("log_path={}/log", dir.display());
    let out = PROGRAMS.run_umbra(name, &[("UMBRA_OPTIONS", &log)]);
    let mut expected = PROGRAMS.expected(name);
    // The report went to the log.
    expected.reports = None;
    if let Some(why) = PROGRAMS.mismatch(name, &expected, &out) {
        panic!("{name}: {why}");
    }
    let files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().all(|f| f.starts_with("log.")),
        "only the log: {files:?}"
    );
}

#[test]
fn semaphore_and_condvar_waits_keep_errno() {
    // The header's `stdout: errno kept: yes` is checked by run_profiled.
    let (_, p) = run_profiled("contended_semaphore");
    let samples = p.samples();
    let by_label = |lock: &str| -> Vec<&Sample> {
        samples
            .iter()
            .filter(|s| s.label == ("lock".into(), lock.into()))
            .collect()
    };
    let sem = by_label("semaphore");
    assert_eq!(sem.len(), 1, "{samples:#?}");
    assert_eq!(
        sem[0].functions.first().map(String::as_str),
        Some("sem_waiter")
    );
    assert!(sem[0].values["delay"] >= 50_000_000, "{sem:?}");
    let cond = by_label("condvar");
    assert_eq!(cond.len(), 1, "{samples:#?}");
    assert_eq!(
        cond[0].functions.first().map(String::as_str),
        Some("cond_waiter")
    );
    assert!(cond[0].values["delay"] >= 50_000_000, "{cond:?}");
    assert!(samples.iter().all(|s| s.values["races"] == 0));
}

#[test]
fn rwlock_and_spinlock_waits_are_labelled_by_kind() {
    let (_, p) = run_profiled("contended_rwlock_spinlock");
    let samples = p.samples();
    let waited_in = |lock: &str| -> Vec<String> {
        let mut leaves: Vec<String> = samples
            .iter()
            .filter(|s| s.label == ("lock".into(), lock.into()))
            .inspect(|s| assert!(s.values["delay"] >= 50_000_000, "{s:?}"))
            .map(|s| s.functions[0].clone())
            .collect();
        leaves.sort();
        leaves.dedup();
        leaves
    };
    assert_eq!(waited_in("rwlock"), ["reader", "writer"], "{samples:#?}");
    assert_eq!(waited_in("spinlock"), ["spinner"], "{samples:#?}");
}

/// A fork child writes its own profile, without the parent's samples.
#[test]
fn a_fork_child_starts_an_empty_profile() {
    let (out, files) = profiled_run("fork_child", PROGRAMS, "");
    if let Some(why) = PROGRAMS.mismatch("fork_child", &PROGRAMS.expected("fork_child"), &out) {
        panic!("fork_child: {why}");
    }
    let mut profiles: Vec<Profile> = files.iter().map(|f| read_profile(f)).collect();
    assert_eq!(profiles.len(), 2, "parent's and child's");
    profiles.sort_by_key(|p| p.0.sample.len());
    assert!(
        profiles[0].samples().is_empty(),
        "{:#?}",
        profiles[0].samples()
    );
    assert_eq!(profiles[1].top("delay").0, "waiter");
}

/// The exits that print the summary write the profile too, after waiting for the
/// report another thread is still writing (tests/exit/race_in_flight.h): its two
/// stacks are in it.
#[test]
fn every_summarizing_exit_writes_the_profile_with_the_race_in_flight() {
    for name in [
        "race_then_exit",
        "race_then_return",
        "race_then__exit",
        "race_then_quick_exit",
    ] {
        let (out, files) = profiled_run(name, EXIT_PROGRAMS, "");
        let p = only_profile(name, &out, &files);
        assert_eq!(out.status, Status::Exited(66), "{name}: {}", out.stderr);
        let samples = p.samples();
        let racing: Vec<&str> = samples
            .iter()
            .filter(|s| s.values["races"] == 1)
            .map(|s| s.functions[0].as_str())
            .collect();
        assert_eq!(racing.len(), 2, "{name}: {samples:#?}");
        assert!(
            racing.contains(&"first") && racing.contains(&"second"),
            "{name}: {racing:?}"
        );
    }
}

#[test]
fn halt_on_error_writes_the_profile_before_exiting() {
    let (out, files) = profiled_run("contended_mutex", PROGRAMS, "halt_on_error=1");
    let p = only_profile("contended_mutex", &out, &files);
    assert_eq!(out.status, Status::Exited(66), "{}", out.stderr);
    assert!(!out.stdout.contains("rounds done"), "halted at the race");
    assert_eq!(p.top("races"), ("bump_racy".into(), 2));
}

#[test]
fn every_program_is_run() {
    PROGRAMS.assert_every_program_is_run(include_str!("pprof.rs"));
}
