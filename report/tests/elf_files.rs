//! ELF/DWARF reading of files compiled here with gcc/g++: C functions and lines,
//! inlined frames, data symbols, C++ demangling, and stripped / debug-info-free
//! binaries (no crash, module+offset only). Addresses come from `nm`, expected lines
//! from marker comments in the generated sources.

use std::path::{Path, PathBuf};
use std::process::Command;

use umbra_report::{symbolize_in_file, Symbolizer};

const C_SRC: &str = r#"int Global;
int Array[10];

static inline __attribute__((always_inline)) int helper(int x) {
  return x * 3 + Global; /* HELPER */
}

__attribute__((noinline)) int work(int x) { /* WORK */
  return helper(x) + Array[x & 7]; /* CALL */
}

int main(int argc, char **argv) {
  (void)argv;
  return work(argc);
}
"#;

const CPP_SRC: &str = r#"namespace ns {
struct Foo {
  int v;
  __attribute__((noinline)) int bar(int x); 
};
int Foo::bar(int x) { return v + x; } /* BAR */
}
int main() { ns::Foo f{1}; return f.bar(2); }
"#;

fn line_of(src: &str, marker: &str) -> u32 {
    src.lines().position(|l| l.contains(marker)).expect(marker) as u32 + 1
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("umbra-report-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(compiler: &str, dir: &Path, src: &str, ext: &str, out: &str, flags: &[&str]) -> String {
    let src_path = dir.join(format!("{out}.{ext}"));
    std::fs::write(&src_path, src).unwrap();
    let exe = dir.join(out);
    let status = Command::new(compiler)
        .args(flags)
        .arg(&src_path)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(status.success(), "{compiler} failed");
    exe.to_str().unwrap().to_string()
}

/// (address, size) of `name` from `nm -S`.
fn nm(exe: &str, name: &str) -> (u64, u64) {
    let out = Command::new("nm").args(["-S", exe]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() == 4 && f[3] == name {
            return (
                u64::from_str_radix(f[0], 16).unwrap(),
                u64::from_str_radix(f[1], 16).unwrap(),
            );
        }
    }
    panic!("{name} not in nm output of {exe}");
}

#[test]
fn c_program_with_dwarf() {
    let dir = tmpdir("c");
    let exe = compile("gcc", &dir, C_SRC, "c", "prog", &["-g", "-O2"]);
    let (work, work_size) = nm(&exe, "work");
    let mut s = Symbolizer::new();
    assert!(s.file_has_dwarf(&exe));

    // At -O2 the first instruction of `work` already belongs to the inlined `helper`
    // (binutils' addr2line agrees): the outer frame is `work` at the call line.
    let frames = s.symbolize_in_file(&exe, work);
    let f = frames.last().unwrap();
    assert_eq!(f.function.as_deref(), Some("work"));
    assert_eq!(f.line, line_of(C_SRC, "/* CALL */"));
    assert_eq!(
        f.file.as_deref(),
        Some(dir.join("prog.c").to_str().unwrap())
    );
    assert_eq!(f.module, exe);
    assert_eq!(f.module_offset, work);

    // Somewhere in `work` the inlined `helper` shows as its own frame.
    let mut found = false;
    for a in work..work + work_size {
        let fr = s.symbolize_in_file(&exe, a);
        if fr.len() == 2 && fr[0].function.as_deref() == Some("helper") {
            assert_eq!(fr[0].line, line_of(C_SRC, "/* HELPER */"));
            assert_eq!(fr[1].function.as_deref(), Some("work"));
            assert_eq!(fr[1].line, line_of(C_SRC, "/* CALL */"));
            assert!(fr[1].column > 0);
            found = true;
            break;
        }
    }
    assert!(found, "no inlined frame found in work");

    let (main, _) = nm(&exe, "main");
    let f = s.symbolize_in_file(&exe, main + 1).pop().unwrap();
    assert_eq!(f.function.as_deref(), Some("main"));

    // Data symbols.
    let (global, _) = nm(&exe, "Global");
    let g = s.global_symbol_in_file(&exe, global).unwrap();
    assert_eq!((g.name.as_str(), g.start, g.size), ("Global", global, 4));
    let (array, _) = nm(&exe, "Array");
    let g = s.global_symbol_in_file(&exe, array + 8).unwrap();
    assert_eq!(
        (g.name.as_str(), g.start, g.size, g.module_offset),
        ("Array", array, 40, array + 8)
    );
    assert_ne!(
        s.global_symbol_in_file(&exe, array + 40)
            .map(|g| g.name)
            .as_deref(),
        Some("Array")
    );

    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cpp_program_demangled() {
    let dir = tmpdir("cpp");
    let exe = compile("g++", &dir, CPP_SRC, "cc", "prog", &["-g", "-O0"]);
    let out = Command::new("nm").arg(&exe).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mangled = text
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .nth(2)
                .filter(|n| n.contains("3Foo3bar"))
        })
        .unwrap();
    let (bar, _) = nm(&exe, mangled);
    let f = symbolize_in_file(&exe, bar).pop().unwrap();
    assert_eq!(f.function.as_deref(), Some("ns::Foo::bar(int)"));
    assert_eq!(f.line, line_of(CPP_SRC, "/* BAR */"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn no_debug_info_and_stripped() {
    let dir = tmpdir("stripped");
    // -g0: symbol table but no DWARF -> function from .symtab, no file/line.
    let plain = compile("gcc", &dir, C_SRC, "c", "plain", &["-g0", "-O2"]);
    let (work, _) = nm(&plain, "work");
    let mut s = Symbolizer::new();
    assert!(!s.file_has_dwarf(&plain));
    let fr = s.symbolize_in_file(&plain, work + 1);
    assert_eq!(fr.len(), 1);
    assert_eq!(fr[0].function.as_deref(), Some("work"));
    assert_eq!(
        (fr[0].file.as_deref(), fr[0].line, fr[0].column),
        (None, 0, 0)
    );

    // Same layout, stripped (-s): nothing but module+offset, and no crash anywhere.
    let stripped = dir.join("stripped").to_str().unwrap().to_string();
    let st = Command::new("strip")
        .args(["-s", &plain, "-o", &stripped])
        .status()
        .unwrap();
    assert!(st.success());
    let fr = s.symbolize_in_file(&stripped, work + 1);
    assert_eq!(fr.len(), 1);
    assert_eq!(fr[0].function, None);
    assert_eq!(fr[0].file, None);
    assert_eq!(fr[0].module, stripped);
    assert_eq!(fr[0].module_offset, work + 1);
    for a in (0..0x6000u64).step_by(7) {
        assert_eq!(s.symbolize_in_file(&stripped, a).len(), 1);
        let _ = s.global_symbol_in_file(&stripped, a);
    }
    // Compiled -g0 -s directly as well.
    let gs = compile("gcc", &dir, C_SRC, "c", "g0s", &["-g0", "-s"]);
    for a in [0u64, 0x1000, 0x1139, u64::MAX] {
        let fr = s.symbolize_in_file(&gs, a);
        assert_eq!(fr.len(), 1);
        assert_eq!(fr[0].function, None);
    }

    // Missing files, directories and non-ELF files.
    for p in ["/nonexistent/x", "/", "/etc/passwd", ""] {
        let fr = s.symbolize_in_file(p, 0x1234);
        assert_eq!(fr.len(), 1);
        assert_eq!(fr[0].function, None);
        assert_eq!(fr[0].module, p);
        assert!(s.global_symbol_in_file(p, 0x1234).is_none());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn separate_debug_file_via_debuglink() {
    let dir = tmpdir("debuglink");
    let full = compile(
        "gcc",
        &dir,
        C_SRC,
        "c",
        "full",
        &["-g", "-O0", "-Wl,--build-id=none"],
    );
    let (work, _) = nm(&full, "work");
    let dbg = dir.join("full.debug");
    let stripped = dir.join("app").to_str().unwrap().to_string();
    let ok = |c: &mut Command| assert!(c.status().unwrap().success());
    ok(Command::new("objcopy")
        .args(["--only-keep-debug", &full])
        .arg(&dbg));
    ok(Command::new("objcopy")
        .args(["--strip-debug", "--add-gnu-debuglink"])
        .arg(&dbg)
        .args([&full, &stripped]));
    let mut s = Symbolizer::new();
    assert!(s.file_has_dwarf(&stripped));
    let f = s.symbolize_in_file(&stripped, work).pop().unwrap();
    assert_eq!(f.function.as_deref(), Some("work"));
    assert_eq!(f.line, line_of(C_SRC, "/* WORK */"));
    assert_eq!(f.module, stripped);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn zlib_compressed_debug_sections() {
    let dir = tmpdir("gz");
    let exe = compile("gcc", &dir, C_SRC, "c", "gz", &["-g", "-O0", "-gz=zlib"]);
    let out = Command::new("readelf")
        .args(["-S", "-W", &exe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // `[Nr] Name Type Address Off Size ES Flg ...`: the flags of .debug_info include C.
    let info = text.lines().find(|l| l.contains(" .debug_info ")).unwrap();
    assert!(
        info.split_whitespace().nth(7).unwrap().contains('C'),
        "{info}"
    );
    let (work, _) = nm(&exe, "work");
    let f = symbolize_in_file(&exe, work).pop().unwrap();
    assert_eq!(f.function.as_deref(), Some("work"));
    assert_eq!(f.line, line_of(C_SRC, "/* WORK */"));
    std::fs::remove_dir_all(&dir).ok();
}
