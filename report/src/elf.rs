//! Per-module debug data: the mmapped ELF file, its symbol tables and a lazily
//! built `addr2line` context over its DWARF.
//!
//! Files are mapped once with raw syscalls and kept for the life of the
//! [`ModuleDebug`]; everything parsed from them (`object` headers, `gimli` sections,
//! symbol names) borrows that mapping without copying. The borrow is expressed as
//! `'static` inside this module only: every public lookup returns owned strings or
//! data tied to `&self`, and the fields are ordered so the parsers drop before the
//! mappings they borrow. Compressed debug sections (`SHF_COMPRESSED` zlib and
//! `.zdebug_*`) are inflated into heap buffers owned the same way; zstd-compressed
//! sections are not supported (there is no no_std zstd decoder here) and read as
//! empty.
//!
//! When the module itself has no `.debug_info`, a separate debug file is looked up
//! as gdb does: `/usr/lib/debug/.build-id/xx/yyyy.debug` from the build id, then the
//! `.gnu_debuglink` name next to the module, in its `.debug/` subdirectory and under
//! `/usr/lib/debug/<dir>/`. A dwz supplementary file (`.gnu_debugaltlink`) is loaded
//! too when present.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use object::read::elf::ElfFile64;
use object::{
    CompressionFormat, Endianness, Object, ObjectSection, ObjectSegment, ObjectSymbol,
    SegmentFlags, SymbolKind, SymbolSection,
};

use crate::demangle::demangle;

type Slice = gimli::EndianSlice<'static, gimli::RunTimeEndian>;
type Elf = ElfFile64<'static, Endianness, &'static [u8]>;

/// A read-only file mapping, unmapped on drop.
struct FileMap {
    ptr: *const u8,
    len: usize,
}

impl FileMap {
    fn open(path: &[u8]) -> Option<FileMap> {
        let (ptr, len) = umbra_sys::mmap_file(path)?;
        Some(FileMap { ptr, len })
    }

    /// The mapped bytes. The `'static` lifetime is a promise internal to this module:
    /// the slice must not outlive the `ModuleDebug` that owns this mapping.
    fn bytes(&self) -> &'static [u8] {
        // SAFETY: `ptr..ptr+len` is a private read-only mapping created by
        // `mmap_file` and only unmapped in `drop`; the owner (`ModuleDebug`) drops
        // every borrower before its `FileMap`s (field order).
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `mmap_file` and, by the field order of
        // `ModuleDebug`, nothing that borrows it is alive any more.
        unsafe { umbra_sys::munmap(self.ptr as *mut u8, self.len) }
    }
}

/// A heap buffer (an inflated section) freed on drop; stored as a raw pointer so that
/// moving the owner does not invalidate the slices handed out from it.
struct OwnedBuf(*mut [u8]);

impl OwnedBuf {
    fn new(v: Vec<u8>) -> OwnedBuf {
        OwnedBuf(Box::into_raw(v.into_boxed_slice()))
    }
    fn bytes(&self) -> &'static [u8] {
        // SAFETY: the pointer came from `Box::into_raw` and is only freed in `drop`,
        // after every borrower (same argument as `FileMap::bytes`).
        unsafe { &*self.0 }
    }
}

impl Drop for OwnedBuf {
    fn drop(&mut self) {
        // SAFETY: created by `Box::into_raw` in `new`, freed exactly once here.
        drop(unsafe { Box::from_raw(self.0) });
    }
}

/// An ELF symbol: runtime-independent virtual address, size, mangled name.
#[derive(Clone, Copy)]
struct Sym {
    addr: u64,
    size: u64,
    global: bool,
    /// Found in `.dynsym` (exported), the name users know (`getpid`, not `__GI_getpid`).
    exported: bool,
    name: &'static str,
}

/// A symbolized location inside one module, before module/offset are attached.
pub struct RawFrame {
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
}

/// Everything known about one ELF file. Field order matters: the DWARF context and
/// the symbol tables borrow `bufs` and `maps`, so they are declared (and dropped)
/// first.
pub struct ModuleDebug {
    ctx: Option<addr2line::Context<Slice>>,
    /// Virtual address ranges of the file's executable `PT_LOAD` segments. DWARF is
    /// only asked about addresses inside them: functions removed by `--gc-sections`
    /// keep debug info with ranges starting at 0, which would otherwise claim
    /// addresses such as the ELF header.
    exec: Vec<(u64, u64)>,
    funcs: Vec<Sym>,
    data: Vec<Sym>,
    bufs: Vec<OwnedBuf>,
    maps: Vec<FileMap>,
}

// SAFETY: the raw pointers in `FileMap`/`OwnedBuf` are owned, immutable memory
// (read-only mappings and never-mutated heap buffers) with no thread affinity; all
// other fields are plain data. Moving the whole value to another thread is as safe as
// moving a `Box<[u8]>`.
unsafe impl Send for ModuleDebug {}

fn parse_elf(bytes: &'static [u8]) -> Option<Elf> {
    ElfFile64::<Endianness, &'static [u8]>::parse(bytes).ok()
}

/// The (possibly inflated) contents of section `name`, or an empty slice.
fn section_data(file: &Elf, name: &str, bufs: &mut Vec<OwnedBuf>) -> &'static [u8] {
    let Some(sec) = file.section_by_name(name) else {
        return &[];
    };
    let Ok(c) = sec.compressed_data() else {
        return &[];
    };
    match c.format {
        CompressionFormat::None => c.data,
        CompressionFormat::Zlib => {
            let limit = c.uncompressed_size.min(1 << 31) as usize;
            match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(c.data, limit) {
                Ok(v) => {
                    let b = OwnedBuf::new(v);
                    let s = b.bytes();
                    bufs.push(b);
                    s
                }
                Err(_) => &[],
            }
        }
        _ => &[],
    }
}

fn has_debug_info(file: &Elf) -> bool {
    file.section_by_name(".debug_info")
        .is_some_and(|s| s.size() > 0)
}

/// Sections addr2line reads; the others (location lists, macros, pubnames...) are
/// never inflated.
fn wanted(id: gimli::SectionId) -> bool {
    use gimli::SectionId::*;
    matches!(
        id,
        DebugAbbrev
            | DebugAddr
            | DebugAranges
            | DebugInfo
            | DebugLine
            | DebugLineStr
            | DebugRanges
            | DebugRngLists
            | DebugStr
            | DebugStrOffsets
    )
}

fn load_dwarf(file: &Elf, bufs: &mut Vec<OwnedBuf>) -> gimli::Dwarf<Slice> {
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let r: Result<gimli::Dwarf<Slice>, core::convert::Infallible> = gimli::Dwarf::load(|id| {
        let data = if wanted(id) {
            section_data(file, id.name(), bufs)
        } else {
            &[]
        };
        Ok(gimli::EndianSlice::new(data, endian))
    });
    match r {
        Ok(d) => d,
        Err(never) => match never {},
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

fn join(dir: &str, name: &str) -> String {
    let mut s = String::from(dir);
    if !s.ends_with('/') {
        s.push('/');
    }
    s.push_str(name);
    s
}

/// Candidate paths of the separate debug file for `path`.
fn debug_file_candidates(path: &str, file: &Elf) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some(id)) = file.build_id() {
        if id.len() >= 2 {
            let hex = hex_lower(id);
            let mut p = String::from("/usr/lib/debug/.build-id/");
            p.push_str(&hex[..2]);
            p.push('/');
            p.push_str(&hex[2..]);
            p.push_str(".debug");
            out.push(p);
        }
    }
    if let Ok(Some((name, _crc))) = file.gnu_debuglink() {
        if let Ok(name) = core::str::from_utf8(name) {
            let dir = dir_of(path);
            out.push(join(dir, name));
            out.push(join(&join(dir, ".debug"), name));
            out.push(join(
                &join("/usr/lib/debug", dir.trim_start_matches('/')),
                name,
            ));
        }
    }
    out
}

fn collect_symbols(file: &Elf, funcs: &mut Vec<Sym>, data: &mut Vec<Sym>) {
    let mut take = |sym: object::read::elf::ElfSymbol64<'static, '_, Endianness, &'static [u8]>,
                    exported: bool| {
        let kind = sym.kind();
        if !matches!(kind, SymbolKind::Text | SymbolKind::Data) {
            return;
        }
        if matches!(
            sym.section(),
            SymbolSection::Undefined | SymbolSection::None
        ) {
            return;
        }
        let addr = sym.address();
        if addr == 0 {
            return;
        }
        let Ok(name) = sym.name() else { return };
        if name.is_empty() {
            return;
        }
        let s = Sym {
            addr,
            size: sym.size(),
            global: sym.is_global(),
            exported,
            name,
        };
        if kind == SymbolKind::Text {
            funcs.push(s);
        } else {
            data.push(s);
        }
    };
    for sym in file.symbols() {
        take(sym, false);
    }
    for sym in file.dynamic_symbols() {
        take(sym, true);
    }
}

fn leading_underscores(name: &str) -> usize {
    name.bytes().take_while(|&c| c == b'_').count()
}

/// Sorts by address; of the aliases at one address keeps the most public one: sized,
/// then exported, then global, then the fewest leading underscores (`getpid` over
/// `__getpid` and `__GI___getpid`), then the shortest.
fn finish_symbols(v: &mut Vec<Sym>) {
    let mut exported: Vec<(u64, &'static str)> = v
        .iter()
        .filter(|s| s.exported)
        .map(|s| (s.addr, s.name))
        .collect();
    exported.sort_unstable();
    for s in v.iter_mut() {
        s.exported |= exported.binary_search(&(s.addr, s.name)).is_ok();
    }
    v.sort_unstable_by(|a, b| {
        a.addr
            .cmp(&b.addr)
            .then((b.size != 0).cmp(&(a.size != 0)))
            .then(b.exported.cmp(&a.exported))
            .then(b.global.cmp(&a.global))
            .then(leading_underscores(a.name).cmp(&leading_underscores(b.name)))
            .then(a.name.len().cmp(&b.name.len()))
            .then(a.name.cmp(b.name))
    });
    v.dedup_by(|later, earlier| later.addr == earlier.addr);
}

/// The function symbols of the ELF file at `path` (its `.symtab` and `.dynsym`) that
/// `classify` picks, as `(class, [lo, hi))` virtual address ranges sorted by `lo`;
/// symbols without a size are skipped. Reads symbol tables only, no DWARF: cheap
/// enough to run when a program starts its first thread. `None` when the file
/// cannot be mapped or parsed.
pub fn function_ranges(
    path: &str,
    mut classify: impl FnMut(&str) -> Option<u8>,
) -> Option<Vec<(u8, u64, u64)>> {
    let map = FileMap::open(path.as_bytes())?;
    let file = parse_elf(map.bytes())?;
    let (mut funcs, mut data) = (Vec::new(), Vec::new());
    collect_symbols(&file, &mut funcs, &mut data);
    let mut out: Vec<(u8, u64, u64)> = funcs
        .iter()
        .filter(|s| s.size != 0)
        .filter_map(|s| {
            classify(s.name).map(|class| (class, s.addr, s.addr.saturating_add(s.size)))
        })
        .collect();
    // `funcs` borrows the mapping; the ranges copied out do not.
    drop(funcs);
    drop(data);
    drop(file);
    drop(map);
    out.sort_unstable_by_key(|r| r.1);
    out.dedup();
    Some(out)
}

impl ModuleDebug {
    /// Maps and parses the ELF file at `path` (plus its separate debug file, if the
    /// file has no DWARF of its own). `None` when the file cannot be mapped or is not
    /// an ELF64 file.
    pub fn load(path: &str) -> Option<ModuleDebug> {
        let main = FileMap::open(path.as_bytes())?;
        let main_bytes = main.bytes();
        let mut md = ModuleDebug {
            ctx: None,
            exec: Vec::new(),
            funcs: Vec::new(),
            data: Vec::new(),
            bufs: Vec::new(),
            maps: alloc::vec![main],
        };
        let file = parse_elf(main_bytes)?;
        collect_symbols(&file, &mut md.funcs, &mut md.data);
        const PF_X: u32 = 1;
        for seg in file.segments() {
            if let SegmentFlags::Elf { p_flags, .. } = seg.flags() {
                if p_flags.0 & PF_X != 0 {
                    md.exec
                        .push((seg.address(), seg.address().saturating_add(seg.size())));
                }
            }
        }

        let mut dwarf_file: Option<Elf> = None;
        if has_debug_info(&file) {
            dwarf_file = Some(file);
        } else {
            let own_id = file.build_id().ok().flatten();
            for cand in debug_file_candidates(path, &file) {
                if cand == path {
                    continue;
                }
                let Some(map) = FileMap::open(cand.as_bytes()) else {
                    continue;
                };
                let Some(dbg) = parse_elf(map.bytes()) else {
                    continue;
                };
                // A debug file for another build would give wrong lines: when both
                // carry a build id they must agree.
                if let (Some(a), Ok(Some(b))) = (own_id, dbg.build_id()) {
                    if a != b {
                        continue;
                    }
                }
                if has_debug_info(&dbg) {
                    // Keep the mapping: `dbg` and everything parsed from it borrow it.
                    md.maps.push(map);
                    collect_symbols(&dbg, &mut md.funcs, &mut md.data);
                    dwarf_file = Some(dbg);
                    break;
                }
            }
        }
        finish_symbols(&mut md.funcs);
        finish_symbols(&mut md.data);

        if let Some(df) = dwarf_file {
            let mut dwarf = load_dwarf(&df, &mut md.bufs);
            if let Ok(Some((alt, _id))) = df.gnu_debugaltlink() {
                md.load_sup(&mut dwarf, path, alt);
            }
            md.ctx = addr2line::Context::from_dwarf(dwarf).ok();
        }
        Some(md)
    }

    /// Loads a dwz supplementary file named by `.gnu_debugaltlink` (absolute, or
    /// relative to the debug file's directory; tried next to the module as well).
    fn load_sup(&mut self, dwarf: &mut gimli::Dwarf<Slice>, path: &str, alt: &[u8]) {
        let Ok(alt) = core::str::from_utf8(alt) else {
            return;
        };
        let mut cands = Vec::new();
        if alt.starts_with('/') {
            cands.push(String::from(alt));
        } else {
            cands.push(join(dir_of(path), alt));
            cands.push(join(
                "/usr/lib/debug/.dwz",
                alt.rsplit('/').next().unwrap_or(alt),
            ));
        }
        for c in cands {
            let Some(map) = FileMap::open(c.as_bytes()) else {
                continue;
            };
            let Some(f) = parse_elf(map.bytes()) else {
                continue;
            };
            let sup = load_dwarf(&f, &mut self.bufs);
            self.maps.push(map);
            dwarf.set_sup(sup);
            return;
        }
    }

    /// Whether DWARF line/function information is available.
    pub fn has_dwarf(&self) -> bool {
        self.ctx.is_some()
    }

    /// The function symbol (demangled later by the caller) containing `vaddr`.
    pub fn function_symbol(&self, vaddr: u64) -> Option<&str> {
        let idx = self.funcs.partition_point(|s| s.addr <= vaddr);
        let s = self.funcs.get(idx.checked_sub(1)?)?;
        if s.size == 0 || vaddr - s.addr < s.size {
            return Some(s.name);
        }
        // An enclosing sized symbol further back (nested/overlapping symbols).
        self.funcs[..idx - 1]
            .iter()
            .rev()
            .take(16)
            .find(|s| s.size != 0 && vaddr - s.addr < s.size)
            .map(|s| s.name)
    }

    /// The data symbol containing `vaddr`: (mangled name, start vaddr, size).
    pub fn data_symbol(&self, vaddr: u64) -> Option<(&str, u64, u64)> {
        let idx = self.data.partition_point(|s| s.addr <= vaddr);
        let s = self.data.get(idx.checked_sub(1)?)?;
        let hit = if s.size == 0 {
            vaddr == s.addr
        } else {
            vaddr - s.addr < s.size
        };
        if hit {
            return Some((s.name, s.addr, s.size));
        }
        self.data[..idx - 1]
            .iter()
            .rev()
            .take(16)
            .find(|s| s.size != 0 && vaddr - s.addr < s.size)
            .map(|s| (s.name, s.addr, s.size))
    }

    /// Source frames for the instruction at `vaddr`: inlined frames innermost first,
    /// then the containing function; never empty. Function names are demangled; an
    /// outermost frame without a DWARF name takes the ELF symbol's.
    pub fn frames(&self, vaddr: u64) -> Vec<RawFrame> {
        let mut out = Vec::new();
        // A file without program headers (a relocatable object, a debug file opened
        // directly) has no segment list; trust its DWARF everywhere.
        let executable =
            self.exec.is_empty() || self.exec.iter().any(|&(lo, hi)| lo <= vaddr && vaddr < hi);
        if let (Some(ctx), true) = (&self.ctx, executable) {
            if let Ok(mut it) = ctx.find_frames(vaddr).skip_all_loads() {
                // Bounded, in case of cyclic garbage in the inline tree.
                while let (Ok(Some(f)), true) = (it.next(), out.len() < 256) {
                    let function = f
                        .function
                        .as_ref()
                        .and_then(|n| n.raw_name().ok())
                        .map(|n| demangle(&n));
                    let (file, line, column) = match f.location {
                        Some(l) => (
                            l.file.map(String::from),
                            l.line.unwrap_or(0),
                            l.column.unwrap_or(0),
                        ),
                        None => (None, 0, 0),
                    };
                    out.push(RawFrame {
                        function,
                        file,
                        line,
                        column,
                    });
                }
            }
        }
        if out.is_empty() {
            out.push(RawFrame {
                function: None,
                file: None,
                line: 0,
                column: 0,
            });
        }
        let last = out.len() - 1;
        if out[last].function.is_none() {
            out[last].function = self.function_symbol(vaddr).map(demangle);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(hex_lower(&[0x0a, 0xbc]), "0abc");
        assert_eq!(dir_of("/usr/lib/libc.so.6"), "/usr/lib");
        assert_eq!(dir_of("/x"), "/");
        assert_eq!(dir_of("x"), ".");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(join("/a/", "b"), "/a/b");
    }

    #[test]
    fn missing_and_non_elf_files() {
        assert!(ModuleDebug::load("/nonexistent/file").is_none());
        assert!(ModuleDebug::load("/proc/self/maps").is_none()); // size 0 for fstat
        assert!(ModuleDebug::load("/etc/passwd").is_none());
    }
}
