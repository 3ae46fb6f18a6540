//! Generates the pass-through trampolines: one exported function per libc name
//! that stock libtsan intercepts and umbra does not, jumping to the system
//! library's definition (resolved on first call). Exporting them from
//! libumbra.so keeps a gcc-instrumented program from binding to libtsan's
//! interceptors, which would wake the stock runtime.
use std::fmt::Write;

fn main() {
    let list = std::fs::read_to_string("src/passthrough.txt").expect("src/passthrough.txt");
    println!("cargo:rerun-if-changed=src/passthrough.txt");
    let names: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut asm = String::new();
    for (i, n) in names.iter().enumerate() {
        writeln!(asm, ".globl umbra_pass_{n}\n.type umbra_pass_{n},@function\numbra_pass_{n}:\n  mov rax, qword ptr [rip + umbra_passthrough_slots + {off}]\n  test rax, rax\n  jz 1f\n  jmp rax\n1:\n  mov r11d, {i}\n  jmp umbra_passthrough_slow", off = i * 8).unwrap();
    }
    let mut rs = String::new();
    writeln!(rs, "pub const COUNT: usize = {};", names.len()).unwrap();
    writeln!(rs, "pub static NAMES: [&str; COUNT] = [").unwrap();
    for n in &names {
        writeln!(rs, "    \"{n}\\0\",").unwrap();
    }
    writeln!(rs, "];").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/passthrough.s"), asm).unwrap();
    std::fs::write(format!("{out}/passthrough_names.rs"), rs).unwrap();
}
