//! Reports for umbra: symbolization of code and data addresses through the
//! ELF symbol tables and DWARF of the loaded modules, demangling, and formatting of
//! reports exactly as ThreadSanitizer prints them (plus a one-line JSON form).
//!
//! This crate is linked into the race-detector runtime, which runs underneath the
//! program's libc: it is `no_std` (tests aside), allocates only through `alloc`, and
//! reaches the kernel only through `umbra_sys`'s raw syscalls (reading
//! `/proc/self/maps`, mapping ELF files). All parsing is lazy: nothing happens until
//! the first [`Symbolizer::symbolize`] call, files are mapped once and kept, and a
//! module's DWARF is parsed the first time an address in it is asked about.
#![cfg_attr(not(test), no_std)]
extern crate alloc;

pub mod demangle;
mod elf;
pub mod json;
pub mod maps;
pub mod model;
pub mod options;
pub mod pprof;
pub mod suppress;
pub mod symbolize;
pub mod text;

pub use demangle::demangle;
pub use elf::function_ranges;
pub use json::format_json;
pub use model::{Access, AccessKind, Location, MutexDesc, Report, ReportKind, ThreadDesc};
pub use symbolize::{symbolize_in_file, Frame, GlobalSymbol, Symbolizer};
pub use text::{
    format_ignores_enabled, format_text, hide_runtime_frames, summary_line, FormatOptions,
};
