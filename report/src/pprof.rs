//! The `profile_path` output: what the runtime recorded about races and lock
//! contention, encoded as a gzipped pprof `profile.proto` (the format `pprof` and
//! `go tool pprof` open). Three sample types: `races/count` (one per race report
//! and racing stack: a report adds a sample for each of its two accesses),
//! `contentions/count` and `delay/nanoseconds` (contended acquisitions of a lock and
//! the time the acquiring thread waited, per acquiring stack). Every sample carries
//! one string label saying what it counts: `report` (`data race`,
//! `heap-use-after-free`) or `lock` (`mutex`, `rwlock`, `spinlock`, `condvar`,
//! `semaphore`), so `pprof -tagfocus=lock=mutex` narrows a view to one kind.
//!
//! The runtime keeps a [`ProfileData`] (raw return addresses, aggregated per stack);
//! [`encode`] turns it into the protobuf message through a caller-supplied resolver
//! (the runtime passes its report symbolizer), one `Location` per return address with
//! one `Line` per inlined frame, one `Function` per (name, file), one `Mapping` per
//! module; [`gzip`] wraps the bytes as a gzip member. The message types in [`proto`]
//! are written by hand from pprof's `proto/profile.proto` (field numbers and types)
//! and derive `prost::Message`: no code generation, no std.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use prost::Message;

use crate::model::ReportKind;
use crate::symbolize::Frame;

/// The kinds of blocking synchronization whose waits are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockKind {
    /// `pthread_mutex_lock`, `_timedlock`, `_clocklock`.
    Mutex,
    /// `pthread_rwlock_rdlock`, `_wrlock` and their timed forms.
    RwLock,
    /// `pthread_spin_lock`.
    SpinLock,
    /// `pthread_cond_wait`, `_timedwait`, `_clockwait`: the whole wait, for the
    /// signal and for the mutex.
    CondVar,
    /// `sem_wait`, `sem_timedwait`, `sem_clockwait`.
    Semaphore,
}

impl LockKind {
    /// The value of the sample's `lock` label.
    pub fn as_str(self) -> &'static str {
        match self {
            LockKind::Mutex => "mutex",
            LockKind::RwLock => "rwlock",
            LockKind::SpinLock => "spinlock",
            LockKind::CondVar => "condvar",
            LockKind::Semaphore => "semaphore",
        }
    }
}

/// Contended acquisitions from one stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    /// How many acquisitions had to wait.
    pub count: u64,
    /// Their waiting time in total, nanoseconds.
    pub delay_ns: u64,
}

/// What a profile is made from: stacks of return addresses (innermost first, as
/// reports hold them), aggregated per stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileData {
    /// Race reports per (kind, stack of one of the two accesses).
    pub races: BTreeMap<(ReportKind, Vec<u64>), u64>,
    /// Contended acquisitions per (lock kind, acquiring stack).
    pub waits: BTreeMap<(LockKind, Vec<u64>), Waits>,
    /// When recording started: nanoseconds since the Unix epoch (0: unknown).
    pub start_unix_ns: u64,
    /// How long recording lasted (0: unknown).
    pub duration_ns: u64,
}

impl ProfileData {
    pub const fn new() -> ProfileData {
        ProfileData {
            races: BTreeMap::new(),
            waits: BTreeMap::new(),
            start_unix_ns: 0,
            duration_ns: 0,
        }
    }

    /// Counts one race report of `kind` for the access whose stack is `stack`.
    pub fn add_race(&mut self, kind: ReportKind, stack: &[u64]) {
        *self.races.entry((kind, stack.to_vec())).or_insert(0) += 1;
    }

    /// Counts one contended acquisition of a `kind` lock from `stack` that waited
    /// `delay_ns`.
    pub fn add_wait(&mut self, kind: LockKind, stack: Vec<u64>, delay_ns: u64) {
        let w = self.waits.entry((kind, stack)).or_default();
        w.count += 1;
        w.delay_ns = w.delay_ns.saturating_add(delay_ns);
    }

    pub fn is_empty(&self) -> bool {
        self.races.is_empty() && self.waits.is_empty()
    }
}

/// pprof's `profile.proto` (package `perftools.profiles`), the parts umbra writes.
pub mod proto {
    use alloc::string::String;
    use alloc::vec::Vec;

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
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, repeated, tag = "13")]
        pub comment: Vec<i64>,
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
        #[prost(int64, tag = "3")]
        pub num: i64,
        #[prost(int64, tag = "4")]
        pub num_unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub memory_start: u64,
        #[prost(uint64, tag = "3")]
        pub memory_limit: u64,
        #[prost(uint64, tag = "4")]
        pub file_offset: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
        #[prost(int64, tag = "6")]
        pub build_id: i64,
        #[prost(bool, tag = "7")]
        pub has_functions: bool,
        #[prost(bool, tag = "8")]
        pub has_filenames: bool,
        #[prost(bool, tag = "9")]
        pub has_line_numbers: bool,
        #[prost(bool, tag = "10")]
        pub has_inline_frames: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(uint64, tag = "3")]
        pub address: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
        #[prost(bool, tag = "5")]
        pub is_folded: bool,
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
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
        #[prost(int64, tag = "5")]
        pub start_line: i64,
    }
}

/// The sample types, in the order of every sample's values.
pub const SAMPLE_TYPES: [(&str, &str); 3] = [
    ("races", "count"),
    ("contentions", "count"),
    ("delay", "nanoseconds"),
];

/// Builds the tables of a [`proto::Profile`]: strings, functions, mappings and
/// locations, each deduplicated and numbered from 1 (strings from 0, `""` first).
struct Tables {
    profile: proto::Profile,
    strings: BTreeMap<String, i64>,
    /// (name, file) → function id.
    functions: BTreeMap<(String, String), u64>,
    /// module path → index into `profile.mapping`.
    mappings: BTreeMap<String, usize>,
    /// return address → location id (0: every frame of it hidden).
    locations: BTreeMap<u64, u64>,
}

impl Tables {
    fn new() -> Tables {
        let mut t = Tables {
            profile: proto::Profile::default(),
            strings: BTreeMap::new(),
            functions: BTreeMap::new(),
            mappings: BTreeMap::new(),
            locations: BTreeMap::new(),
        };
        t.string("");
        t
    }

    fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.profile.string_table.len() as i64;
        self.profile.string_table.push(String::from(s));
        self.strings.insert(String::from(s), i);
        i
    }

    fn value_type(&mut self, ty: &str, unit: &str) -> proto::ValueType {
        proto::ValueType {
            r#type: self.string(ty),
            unit: self.string(unit),
        }
    }

    fn function(&mut self, name: &str, file: &str) -> u64 {
        let key = (String::from(name), String::from(file));
        if let Some(&id) = self.functions.get(&key) {
            return id;
        }
        let id = self.profile.function.len() as u64 + 1;
        let (name, filename) = (self.string(name), self.string(file));
        self.profile.function.push(proto::Function {
            id,
            name,
            system_name: name,
            filename,
            start_line: 0,
        });
        self.functions.insert(key, id);
        id
    }

    /// The mapping of module `path` (load bias `bias`), widened to cover `pc`.
    fn mapping(&mut self, path: &str, bias: u64, pc: u64) -> u64 {
        let i = match self.mappings.get(path) {
            Some(&i) => i,
            None => {
                let filename = self.string(path);
                self.profile.mapping.push(proto::Mapping {
                    id: self.profile.mapping.len() as u64 + 1,
                    memory_start: bias,
                    memory_limit: pc + 1,
                    file_offset: 0,
                    filename,
                    build_id: 0,
                    has_functions: true,
                    has_filenames: true,
                    has_line_numbers: true,
                    has_inline_frames: true,
                });
                self.mappings
                    .insert(String::from(path), self.profile.mapping.len() - 1);
                self.profile.mapping.len() - 1
            }
        };
        let m = &mut self.profile.mapping[i];
        m.memory_start = m.memory_start.min(bias);
        m.memory_limit = m.memory_limit.max(pc + 1);
        m.id
    }

    /// The location of return address `pc` (0 when `resolve` hides all its frames).
    fn location(&mut self, pc: u64, resolve: &mut dyn FnMut(u64) -> Vec<Frame>) -> u64 {
        if let Some(&id) = self.locations.get(&pc) {
            return id;
        }
        let frames = resolve(pc);
        let id = if frames.is_empty() {
            0
        } else {
            let mapping_id = match frames.first() {
                Some(f) if !f.module.is_empty() => {
                    // The frame's offset is of the looked-up `pc - 1`.
                    let bias = (pc - 1).wrapping_sub(f.module_offset);
                    self.mapping(&f.module, bias.min(pc), pc)
                }
                _ => 0,
            };
            // Frames come innermost first, as pprof wants its lines: the last
            // line is the function the others were inlined into.
            let line = frames
                .iter()
                .filter_map(|f| {
                    let name = f.function.as_deref()?;
                    Some(proto::Line {
                        function_id: self.function(name, f.file.as_deref().unwrap_or("")),
                        line: f.line as i64,
                    })
                })
                .collect();
            let id = self.profile.location.len() as u64 + 1;
            self.profile.location.push(proto::Location {
                id,
                mapping_id,
                address: pc,
                line,
                is_folded: false,
            });
            id
        };
        self.locations.insert(pc, id);
        id
    }

    fn sample(
        &mut self,
        stack: &[u64],
        value: [i64; 3],
        label: (&str, &str),
        resolve: &mut dyn FnMut(u64) -> Vec<Frame>,
    ) {
        let location_id = stack
            .iter()
            .take_while(|&&pc| pc != 0)
            .map(|&pc| self.location(pc, resolve))
            .filter(|&id| id != 0)
            .collect();
        let label = proto::Label {
            key: self.string(label.0),
            str: self.string(label.1),
            num: 0,
            num_unit: 0,
        };
        self.profile.sample.push(proto::Sample {
            location_id,
            value: value.to_vec(),
            label: alloc::vec![label],
        });
    }
}

/// `data` as a (not yet gzipped) `profile.proto` message. `resolve` turns a return
/// address into its source frames, innermost first (inlined frames included),
/// leaving out frames the profile should not show (the runtime's own); an address
/// it resolves to nothing is left out of the stacks.
pub fn encode(data: &ProfileData, resolve: &mut dyn FnMut(u64) -> Vec<Frame>) -> Vec<u8> {
    let mut t = Tables::new();
    let sample_type = SAMPLE_TYPES
        .iter()
        .map(|&(ty, unit)| t.value_type(ty, unit))
        .collect();
    t.profile.sample_type = sample_type;
    // Race counts are what a race detector's profile shows first; `-sample_index`
    // picks the contention views.
    t.profile.default_sample_type = t.string(SAMPLE_TYPES[0].0);
    t.profile.period_type = Some(t.value_type(SAMPLE_TYPES[1].0, SAMPLE_TYPES[1].1));
    t.profile.period = 1;
    t.profile.time_nanos = data.start_unix_ns as i64;
    t.profile.duration_nanos = data.duration_ns as i64;
    let comment = t.string("umbra: races and lock contention");
    t.profile.comment.push(comment);
    for ((kind, stack), &n) in &data.races {
        t.sample(stack, [n as i64, 0, 0], ("report", kind.as_str()), resolve);
    }
    for ((kind, stack), w) in &data.waits {
        let value = [0, w.count as i64, w.delay_ns as i64];
        t.sample(stack, value, ("lock", kind.as_str()), resolve);
    }
    t.profile.encode_to_vec()
}

/// `bytes` as one gzip member (RFC 1952: header, raw deflate, CRC-32, size), the
/// on-disk form of a pprof profile.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    // Magic, CM = deflate, no flags, no mtime, no extra flags, OS = Unix.
    let mut out = alloc::vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend(miniz_oxide::deflate::compress_to_vec(bytes, 6));
    out.extend(crc32fast::hash(bytes).to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn frame(function: &str, file: &str, line: u32, offset: u64) -> Frame {
        Frame {
            function: Some(function.to_string()),
            file: Some(file.to_string()),
            line,
            column: 0,
            module: "/bin/prog".to_string(),
            module_offset: offset,
        }
    }

    /// Return addresses 0x1001.. resolve to one frame each; 0x2001 has an inlined
    /// frame; 0x3001 is the runtime's (hidden).
    fn resolve(pc: u64) -> Vec<Frame> {
        let off = pc - 1 - 0x1000;
        match pc {
            0x1001 => vec![frame("worker", "prog.c", 10, off)],
            0x1101 => vec![frame("main", "prog.c", 20, off)],
            0x2001 => vec![
                frame("helper", "prog.h", 3, off),
                frame("worker", "prog.c", 12, off),
            ],
            _ => Vec::new(),
        }
    }

    fn decoded(data: &ProfileData) -> proto::Profile {
        proto::Profile::decode(encode(data, &mut resolve).as_slice()).unwrap()
    }

    fn s(p: &proto::Profile, i: i64) -> &str {
        &p.string_table[i as usize]
    }

    /// The function names of a sample's stack, innermost first, inlined ones included.
    fn names(p: &proto::Profile, sample: &proto::Sample) -> Vec<String> {
        let mut out = Vec::new();
        for id in &sample.location_id {
            let loc = p.location.iter().find(|l| l.id == *id).unwrap();
            for line in &loc.line {
                let f = p
                    .function
                    .iter()
                    .find(|f| f.id == line.function_id)
                    .unwrap();
                out.push(s(p, f.name).to_string());
            }
        }
        out
    }

    #[test]
    fn samples_carry_values_stacks_and_labels() {
        let mut d = ProfileData::new();
        d.add_race(ReportKind::DataRace, &[0x1001, 0x1101]);
        d.add_race(ReportKind::DataRace, &[0x1001, 0x1101]);
        d.add_wait(LockKind::Mutex, vec![0x3001, 0x2001, 0x1101], 500);
        d.add_wait(LockKind::Mutex, vec![0x3001, 0x2001, 0x1101], 700);
        let p = decoded(&d);
        assert_eq!(s(&p, 0), "");
        let types: Vec<(&str, &str)> = p
            .sample_type
            .iter()
            .map(|v| (s(&p, v.r#type), s(&p, v.unit)))
            .collect();
        assert_eq!(types, SAMPLE_TYPES);
        assert_eq!(s(&p, p.default_sample_type), "races");
        assert_eq!(p.sample.len(), 2);
        let race = &p.sample[0];
        assert_eq!(race.value, [2, 0, 0]);
        assert_eq!(names(&p, race), ["worker", "main"]);
        assert_eq!(s(&p, race.label[0].key), "report");
        assert_eq!(s(&p, race.label[0].str), "data race");
        let wait = &p.sample[1];
        assert_eq!(wait.value, [0, 2, 1200]);
        // The hidden runtime frame is gone; the inlined helper comes first.
        assert_eq!(names(&p, wait), ["helper", "worker", "main"]);
        assert_eq!(s(&p, wait.label[0].str), "mutex");
    }

    #[test]
    fn tables_are_shared_and_numbered_from_one() {
        let mut d = ProfileData::new();
        d.add_race(ReportKind::DataRace, &[0x1001, 0x1101]);
        d.add_wait(LockKind::CondVar, vec![0x1001, 0x1101], 1);
        let p = decoded(&d);
        // Two return addresses, two locations, two functions, one module.
        assert_eq!(p.location.iter().map(|l| l.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(p.function.iter().map(|f| f.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(p.mapping.len(), 1);
        let m = &p.mapping[0];
        assert_eq!((m.id, s(&p, m.filename)), (1, "/bin/prog"));
        assert_eq!(m.memory_start, 0x1000);
        assert!(m.memory_limit > 0x1101);
        assert!(p.location.iter().all(|l| l.mapping_id == 1
            && l.address >= m.memory_start
            && l.address < m.memory_limit));
        let line = &p.location[0].line[0];
        assert_eq!(line.line, 10);
        let f = &p.function[0];
        assert_eq!((s(&p, f.name), s(&p, f.filename)), ("worker", "prog.c"));
    }

    #[test]
    fn gzip_is_a_valid_member() {
        let data = b"profile bytes, profile bytes, profile bytes";
        let z = gzip(data);
        assert_eq!(&z[..3], &[0x1f, 0x8b, 8]);
        let n = z.len();
        let raw = miniz_oxide::inflate::decompress_to_vec(&z[10..n - 8]).unwrap();
        assert_eq!(raw, data);
        assert_eq!(z[n - 8..n - 4], crc32fast::hash(data).to_le_bytes());
        assert_eq!(z[n - 4..], (data.len() as u32).to_le_bytes());
    }
}
