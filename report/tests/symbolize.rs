//! Symbolization of this test binary's own code and data through `/proc/self/maps`,
//! its DWARF and its symbol table, plus libc through its separate debug file.
//! Expected lines come from `line!()` inside the functions, never hard-coded.

use std::arch::naked_asm;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

use umbra_report::Symbolizer;

/// Returns its own return address: a pc just after a call instruction, as stacks
/// hold them.
// SAFETY (naked function): the body only loads the return address that the
// caller's `call` pushed at [rsp] and returns; no stack frame, nothing else touched.
#[unsafe(naked)]
extern "C" fn return_address() -> u64 {
    naked_asm!("mov rax, [rsp]", "ret")
}

#[inline(never)]
#[rustfmt::skip]
fn target_fn() -> u32 { black_box(line!()) }

#[inline(never)]
#[rustfmt::skip]
fn call_site() -> (u64, u32) { let ra = return_address(); (ra, line!()) }

#[inline(always)]
#[rustfmt::skip]
fn inlined_helper() -> (u64, u32) { (return_address(), line!()) }

#[inline(never)]
#[rustfmt::skip]
fn outer_with_inline() -> (u64, u32, u32) { let (ra, l) = inlined_helper(); (ra, l, line!()) }

#[no_mangle]
pub static UMBRA_SYM_TEST_GLOBAL: AtomicU32 = AtomicU32::new(0);

static MANGLED_TABLE: [AtomicU32; 6] = [const { AtomicU32::new(0) }; 6];

fn file_name() -> &'static str {
    file!().rsplit('/').next().unwrap()
}

fn exe() -> String {
    std::env::current_exe()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn function_start_gives_name_file_and_line() {
    let expected_line = target_fn();
    let addr = target_fn as *const () as u64;
    let mut s = Symbolizer::new();
    let frames = s.symbolize(addr);
    assert_eq!(frames.len(), 1, "{frames:?}");
    let f = &frames[0];
    let func = f.function.as_deref().unwrap();
    assert!(func.ends_with("target_fn"), "{func}");
    assert!(!func.contains("17h"), "hash not stripped: {func}");
    assert!(f.file.as_deref().unwrap().ends_with(file_name()), "{f:?}");
    assert!(
        f.file.as_deref().unwrap().starts_with('/'),
        "not joined with comp dir: {f:?}"
    );
    assert_eq!(f.line, expected_line);
    assert_eq!(f.module, exe());
    let (module, off) = s.module_of(addr).unwrap();
    assert_eq!(module, exe());
    assert_eq!(f.module_offset, off);
    assert!(off < addr, "PIE offset should be below the runtime address");
}

#[test]
fn return_address_minus_one_is_the_call_line() {
    let (ra, line) = call_site();
    let mut s = Symbolizer::new();
    let frames = s.symbolize(ra - 1);
    let f = frames.last().unwrap();
    assert!(
        f.function.as_deref().unwrap().ends_with("call_site"),
        "{frames:?}"
    );
    assert_eq!(f.line, line);
    // `let ra = return_address();`: the call expression starts after `let ra = `.
    assert!(f.column > 0, "{f:?}");
    assert!(f.file.as_deref().unwrap().ends_with(file_name()));
}

#[test]
fn inlined_frames_innermost_first() {
    let (ra, inner_line, outer_line) = outer_with_inline();
    let mut s = Symbolizer::new();
    let frames = s.symbolize(ra - 1);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(
        frames[0]
            .function
            .as_deref()
            .unwrap()
            .ends_with("inlined_helper"),
        "{frames:?}"
    );
    assert_eq!(frames[0].line, inner_line);
    assert!(
        frames[1]
            .function
            .as_deref()
            .unwrap()
            .ends_with("outer_with_inline"),
        "{frames:?}"
    );
    assert_eq!(frames[1].line, outer_line);
    assert_eq!(frames[0].module_offset, frames[1].module_offset);
}

#[test]
fn globals_from_symbol_table() {
    let mut s = Symbolizer::new();
    let g = &UMBRA_SYM_TEST_GLOBAL as *const AtomicU32 as u64;
    UMBRA_SYM_TEST_GLOBAL.store(1, Ordering::Relaxed);
    let sym = s.global_symbol(g + 2).unwrap();
    assert_eq!(sym.name, "UMBRA_SYM_TEST_GLOBAL");
    assert_eq!(sym.size, 4);
    assert_eq!(sym.start, g);
    assert_eq!(sym.module, exe());
    assert_eq!(sym.module_offset, s.module_of(g + 2).unwrap().1);

    let t = black_box(&MANGLED_TABLE) as *const _ as u64;
    MANGLED_TABLE[3].store(1, Ordering::Relaxed);
    let sym = s.global_symbol(t + 12).unwrap();
    assert!(sym.name.ends_with("MANGLED_TABLE"), "{sym:?}");
    assert!(!sym.name.starts_with("_ZN"), "{sym:?}");
    assert_eq!((sym.start, sym.size), (t, 24));

    // A heap address is in no module.
    let b = Box::new(5u64);
    assert!(s.global_symbol(&*b as *const u64 as u64).is_none());
}

#[test]
fn unknown_and_garbage_pcs_do_not_crash() {
    let mut s = Symbolizer::new();
    for pc in [0u64, 1, 0x10, 0xffff_ffff_ffff_fff0, 0x7fff_ffff_0000] {
        let frames = s.symbolize(pc);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].function, None);
        assert_eq!(frames[0].module, "");
        assert_eq!(frames[0].module_offset, pc);
        assert!(s.module_of(pc).is_none());
        assert!(s.global_symbol(pc).is_none());
    }
    // Inside the executable but not in any function (its ELF header).
    let base = {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps.lines().find(|l| l.ends_with(&exe())).unwrap();
        u64::from_str_radix(line.split('-').next().unwrap(), 16).unwrap()
    };
    let frames = s.symbolize(base + 1);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].module, exe());
    assert_eq!(frames[0].module_offset, 1);
}

#[test]
fn module_loaded_later_is_found() {
    // After the first query the module list is cached; an ELF file mapped afterwards
    // (as dlopen would) must be found by re-reading the maps on a miss.
    let mut s = Symbolizer::new();
    let _ = s.symbolize(target_fn as *const () as u64);
    let path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    let data = std::fs::File::open(path).unwrap();
    let len = data.metadata().unwrap().len() as usize;
    // mmap the whole file read-only through the raw syscall helper.
    let (p, l) = umbra_sys::mmap_file(path.as_bytes()).unwrap();
    assert_eq!(l, len);
    let (module, off) = s.module_of(p as u64 + 0x40).unwrap();
    assert_eq!(module, path);
    // The new mapping's bias is its start (libc's first PT_LOAD has vaddr 0).
    assert_eq!(off, 0x40);
    // SAFETY: mapped above, unused afterwards.
    unsafe { umbra_sys::munmap(p as *mut u8, l) };
}

extern "C" {
    fn getpid() -> i32;
}

#[test]
fn libc_function_through_dynsym_or_debug_file() {
    let addr = getpid as *const () as u64;
    let mut s = Symbolizer::new();
    let frames = s.symbolize(addr);
    let f = frames.last().unwrap();
    assert!(f.module.ends_with("libc.so.6"), "{frames:?}");
    assert!(
        f.function.as_deref().unwrap().contains("getpid"),
        "{frames:?}"
    );
    // With libc6-dbg installed, /usr/lib/debug/.build-id/xx/yyyy.debug (zlib-compressed
    // sections) gives source lines too.
    let out = std::process::Command::new("readelf")
        .args(["-n", &f.module])
        .output();
    if let Ok(out) = out {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(id) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Build ID: "))
        {
            let dbg = format!("/usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..]);
            if std::path::Path::new(&dbg).exists() {
                assert!(f.file.is_some(), "debug file {dbg} not used: {frames:?}");
                assert!(f.line > 0);
            }
        }
    }
}

#[test]
fn symbolizer_is_send_and_static() {
    fn assert_send<T: Send>() {}
    assert_send::<Symbolizer>();
    static S: umbra_sys::SpinMutex<Symbolizer> = umbra_sys::SpinMutex::new(Symbolizer::new());
    let frames = S.lock().symbolize(target_fn as *const () as u64);
    assert!(frames[0].function.is_some());
}
