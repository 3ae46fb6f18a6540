//! Generates the pass-through trampolines: one exported function per libc name
//! that stock libtsan intercepts and umbra does not, jumping to the system
//! library's definition (resolved on first call). Exporting them from
//! libumbra.so keeps a gcc-instrumented program from binding to libtsan's
//! interceptors, which would wake the stock runtime.
use std::fmt::Write;

fn main() {
    let list = std::fs::read_to_string("src/passthrough.txt").expect("src/passthrough.txt");
    println!("cargo:rerun-if-changed=src/passthrough.txt");
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    // Each trampoline is a single indirect jump through its slot: it writes no
    // register (not even %rax, whose %al is the vector-register count of a
    // variadic call), no flag and no stack, so the real function starts with
    // exactly the state the caller set. A slot starts out pointing at its
    // trampoline's resolver stub, which loads the index into %r11 (the ABI's
    // scratch register: neither an argument nor %rax) and enters the slow path in
    // passthrough.rs; that saves everything else, resolves, fills the slot and
    // jumps to the real function.
    let mut asm = String::new();
    for (i, n) in names.iter().enumerate() {
        writeln!(
            asm,
            ".globl umbra_pass_{n}
.type umbra_pass_{n},@function
umbra_pass_{n}:
  jmp qword ptr [rip + umbra_passthrough_slots + {off}]
.size umbra_pass_{n}, . - umbra_pass_{n}
.Lumbra_pass_resolve_{i}:
  mov r11d, {i}
  jmp umbra_passthrough_slow",
            off = i * 8
        )
        .unwrap();
    }
    writeln!(
        asm,
        ".pushsection .data.umbra_passthrough_slots,\"aw\",@progbits"
    )
    .unwrap();
    writeln!(
        asm,
        ".p2align 3\n.globl umbra_passthrough_slots\numbra_passthrough_slots:"
    )
    .unwrap();
    for i in 0..names.len() {
        writeln!(asm, "  .quad .Lumbra_pass_resolve_{i}").unwrap();
    }
    writeln!(
        asm,
        ".size umbra_passthrough_slots, . - umbra_passthrough_slots\n.popsection"
    )
    .unwrap();
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
