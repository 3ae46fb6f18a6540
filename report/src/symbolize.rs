//! Code and data address symbolization for the running process.
//!
//! A [`Symbolizer`] is a `const`-constructible cache: it does nothing until the first
//! query, then reads `/proc/self/maps` once to learn the loaded modules, and maps and
//! parses a module's ELF file and DWARF the first time an address inside it is
//! asked about. An address outside every known module triggers one re-read of the
//! maps (a library `dlopen`ed since), keeping what was already parsed for modules
//! that are still there. Nothing here panics on a missing file, a stripped binary or
//! a garbage address: such frames keep just their module and offset.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::demangle::demangle;
use crate::elf::ModuleDebug;
use crate::maps::{current_modules, ModuleRange};

/// One source-level frame of a code address. Inlined calls give several frames for
/// one address, each with its own function and location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Demangled name: Rust without the hash suffix (`racy::main::{{closure}}`), C++
    /// with its full signature (`Thread1(void*)`), C as is. `None` when unknown.
    pub function: Option<String>,
    /// Source file as recorded in DWARF, directory joined with file name.
    pub file: Option<String>,
    /// Line, 0 = unknown.
    pub line: u32,
    /// Column, 0 = unknown.
    pub column: u32,
    /// Full path of the ELF module; empty when the address is in no known module.
    pub module: String,
    /// Address minus the module's load bias (the ELF virtual address), as TSan's
    /// `(exe+0x...)`; when `module` is empty, the address itself.
    pub module_offset: u64,
}

/// A data symbol (an ELF `STT_OBJECT`/`STT_COMMON` from `.symtab` or `.dynsym`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalSymbol {
    /// Demangled name.
    pub name: String,
    /// Runtime address of the symbol's first byte.
    pub start: u64,
    /// Size in bytes (0 if the symbol table does not say).
    pub size: u64,
    /// Full path of the module defining it.
    pub module: String,
    /// Offset of the *queried* address in the module (as TSan prints it).
    pub module_offset: u64,
}

enum DebugState {
    NotLoaded,
    Failed,
    Loaded(Box<ModuleDebug>),
}

impl DebugState {
    fn get(&mut self, path: &str) -> Option<&ModuleDebug> {
        if let DebugState::NotLoaded = self {
            *self = match ModuleDebug::load(path) {
                Some(d) => DebugState::Loaded(Box::new(d)),
                None => DebugState::Failed,
            };
        }
        match self {
            DebugState::Loaded(d) => Some(d),
            _ => None,
        }
    }
}

struct Module {
    range: ModuleRange,
    debug: DebugState,
}

/// Lazily populated symbolizer for the current process (and, for tools and tests,
/// for ELF files given by path).
pub struct Symbolizer {
    /// Modules of the process, from `/proc/self/maps`.
    modules: Vec<Module>,
    /// Whether `modules` has been read at least once.
    maps_read: bool,
    /// Files opened by path through [`Symbolizer::symbolize_in_file`].
    files: Vec<(String, DebugState)>,
}

impl Default for Symbolizer {
    fn default() -> Self {
        Self::new()
    }
}

fn unknown_frame(module: String, module_offset: u64) -> Frame {
    Frame {
        function: None,
        file: None,
        line: 0,
        column: 0,
        module,
        module_offset,
    }
}

fn frames_in(debug: Option<&ModuleDebug>, vaddr: u64, module: &str) -> Vec<Frame> {
    match debug {
        Some(d) => d
            .frames(vaddr)
            .into_iter()
            .map(|f| Frame {
                function: f.function,
                file: f.file,
                line: f.line,
                column: f.column,
                module: String::from(module),
                module_offset: vaddr,
            })
            .collect(),
        None => vec![unknown_frame(String::from(module), vaddr)],
    }
}

impl Symbolizer {
    /// An empty symbolizer; does no work, so it can initialize a `static`.
    pub const fn new() -> Symbolizer {
        Symbolizer {
            modules: Vec::new(),
            maps_read: false,
            files: Vec::new(),
        }
    }

    /// Re-reads `/proc/self/maps`, keeping parsed data of modules still mapped at the
    /// same place.
    fn refresh(&mut self) {
        let mut old = core::mem::take(&mut self.modules);
        for range in current_modules() {
            let kept = old.iter().position(|m| {
                m.range.path == range.path
                    && m.range.bias == range.bias
                    && m.range.lo == range.lo
                    && m.range.hi == range.hi
            });
            let debug = match kept {
                Some(i) => old.swap_remove(i).debug,
                None => DebugState::NotLoaded,
            };
            self.modules.push(Module { range, debug });
        }
        self.maps_read = true;
    }

    fn find(&self, addr: u64) -> Option<usize> {
        self.modules.iter().position(|m| m.range.contains(addr))
    }

    /// The index of the module containing `addr`, re-reading the maps once on a miss.
    fn module_index(&mut self, addr: u64) -> Option<usize> {
        if self.maps_read {
            if let Some(i) = self.find(addr) {
                return Some(i);
            }
        }
        self.refresh();
        self.find(addr)
    }

    /// Symbolizes the code address `pc`, an address *inside* an instruction (callers
    /// pass return address - 1). Returns the inlined frames innermost first, then the
    /// containing function; never empty. An address in no module gives one frame with
    /// no function, an empty module and `module_offset == pc`.
    pub fn symbolize(&mut self, pc: u64) -> Vec<Frame> {
        let Some(i) = self.module_index(pc) else {
            return vec![unknown_frame(String::new(), pc)];
        };
        let m = &mut self.modules[i];
        let vaddr = pc.wrapping_sub(m.range.bias);
        let debug = m.debug.get(&m.range.path);
        frames_in(debug, vaddr, &m.range.path)
    }

    /// The data symbol containing `addr`, for "Location is global 'NAME' of size N at
    /// ADDR (module+0xoff)". Thread-local symbols are not matched: their symbol value
    /// is an offset into each thread's TLS block, not an address.
    pub fn global_symbol(&mut self, addr: u64) -> Option<GlobalSymbol> {
        let i = self.module_index(addr)?;
        let m = &mut self.modules[i];
        let bias = m.range.bias;
        let vaddr = addr.wrapping_sub(bias);
        let (name, start, size) = m.debug.get(&m.range.path)?.data_symbol(vaddr)?;
        Some(GlobalSymbol {
            name: demangle(name),
            start: start.wrapping_add(bias),
            size,
            module: m.range.path.clone(),
            module_offset: vaddr,
        })
    }

    /// The module containing `addr` and the address's offset in it (its ELF virtual
    /// address), if any.
    pub fn module_of(&mut self, addr: u64) -> Option<(String, u64)> {
        let i = self.module_index(addr)?;
        let r = &self.modules[i].range;
        Some((r.path.clone(), addr.wrapping_sub(r.bias)))
    }

    fn file_debug(&mut self, path: &str) -> Option<&ModuleDebug> {
        let i = match self.files.iter().position(|(p, _)| p == path) {
            Some(i) => i,
            None => {
                self.files.push((String::from(path), DebugState::NotLoaded));
                self.files.len() - 1
            }
        };
        self.files[i].1.get(path)
    }

    /// Symbolizes virtual address `vaddr` of the ELF file at `path` (which need not be
    /// loaded in this process), as [`Symbolizer::symbolize`] would for an address of
    /// that module. The file is mapped once and cached in this symbolizer.
    pub fn symbolize_in_file(&mut self, path: &str, vaddr: u64) -> Vec<Frame> {
        let debug = self.file_debug(path);
        frames_in(debug, vaddr, path)
    }

    /// The data symbol containing virtual address `vaddr` of the ELF file at `path`;
    /// `start` is a virtual address of the file.
    pub fn global_symbol_in_file(&mut self, path: &str, vaddr: u64) -> Option<GlobalSymbol> {
        let (name, start, size) = self.file_debug(path)?.data_symbol(vaddr)?;
        Some(GlobalSymbol {
            name: demangle(name),
            start,
            size,
            module: String::from(path),
            module_offset: vaddr,
        })
    }

    /// Whether DWARF was found for the file at `path` (loading it if needed).
    pub fn file_has_dwarf(&mut self, path: &str) -> bool {
        self.file_debug(path).is_some_and(|d| d.has_dwarf())
    }
}

/// One-shot form of [`Symbolizer::symbolize_in_file`] (maps and parses the file for
/// this call only).
pub fn symbolize_in_file(path: &str, vaddr: u64) -> Vec<Frame> {
    Symbolizer::new().symbolize_in_file(path, vaddr)
}
